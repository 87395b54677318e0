// Watches the manifest paths with chokidar and reports every event that may change the manifests
// (a *.yaml / *.yml file added, changed or removed, a directory added or removed, a root's
// .pfexposeignore changed). What discovery skips is not reported: hidden paths, node_modules and
// what a root's .pfexposeignore names, with the rules re-read when that file changes. Editors' swap
// and backup files are not manifests and are ignored; chokidar's atomic mode folds an editor's
// "write a temporary file, rename it over" save into one change.
import { realpathSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { watch } from 'chokidar';
import type { FSWatcher } from 'chokidar';
import { isManifestName, readIgnoreRules } from '../manifest/find-manifest-files.js';
import { IGNORE_FILE_NAME, isHiddenPath } from '../manifest/ignore-rules.js';
import type { IgnoreRules } from '../manifest/ignore-rules.js';

export interface ManifestWatcher {
  /** Resolves once the initial scan is done: events after this are real changes. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface WatchEvents {
  onChange(event: string, path: string): void;
  onError(message: string): void;
}

const SKIPPED_DIRECTORIES = new Set(['node_modules']);

export function watchManifests(paths: readonly string[], cwd: string, events: WatchEvents): ManifestWatcher {
  // Roots are watched where they really are, and links are never followed: a link inside the roots
  // leads to a file or directory the watcher already sees, and one leading out of them (a committed
  // link to / or /dev) must not make the agent walk or open anything out there.
  const absolute = (paths.length > 0 ? paths : ['.']).map((p) => realPath(resolve(cwd, p)));
  const roots = new Set(absolute);
  // Each root's ignore rules as last read: null when it has none, or none that could be read (then
  // every event passes, and the manifest cache reports the unreadable file).
  const rules = new Map<string, IgnoreRules | null>();
  const ignoreFiles = new Map(absolute.map((root) => [join(root, IGNORE_FILE_NAME), root]));
  const loadRules = async (root: string): Promise<void> => {
    const read = await readIgnoreRules(root, root);
    rules.set(root, read.rules ?? null);
  };
  // Whether some root searching this path would read it (or the directory's contents).
  const searched = (path: string, isDirectory: boolean): boolean =>
    absolute.some((root) => {
      const below = relative(root, path);
      if (below === '' || below === '..' || below.startsWith(`..${sep}`)) return false;
      const posixBelow = below.split(sep).join('/');
      if (isHiddenPath(posixBelow)) return false;
      return rules.get(root)?.ignores(posixBelow, isDirectory) !== true;
    });
  const watcher: FSWatcher = watch(absolute, {
    ignoreInitial: true,
    persistent: true,
    atomic: true,
    followSymlinks: false,
    ignorePermissionErrors: true,
    // The agent looks the same places the loader does: no dot-directories, no node_modules.
    ignored: (path, stats) => {
      if (roots.has(path)) return false;
      const name = basename(path);
      if (stats?.isDirectory() === true) return name.startsWith('.') || SKIPPED_DIRECTORIES.has(name);
      return false;
    },
  });
  watcher.on('all', (event, path) => {
    if (roots.has(path)) {
      events.onChange(event, path);
      return;
    }
    const ignoreRoot = ignoreFiles.get(path);
    if (ignoreRoot !== undefined) {
      // The rules change what is read: re-read them, and let the agent read the manifests again.
      void loadRules(ignoreRoot).then(() => events.onChange(event, path));
      return;
    }
    if (event === 'addDir' || event === 'unlinkDir') {
      if (searched(path, true)) events.onChange(event, path);
      return;
    }
    if (isManifestName(basename(path)) && searched(path, false)) events.onChange(event, path);
  });
  watcher.on('error', (error) => {
    events.onError(error instanceof Error ? error.message : String(error));
  });
  const ready = Promise.all([
    new Promise<void>((done) => {
      watcher.once('ready', () => done());
    }),
    ...absolute.map(loadRules),
  ]).then(() => undefined);
  return {
    ready,
    close: () => watcher.close(),
  };
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
