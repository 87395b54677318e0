// Watches the manifest paths with chokidar and reports every event that may change the manifests
// (a *.yaml / *.yml file added, changed or removed, a directory added or removed). Editors' swap
// and backup files are not manifests and are ignored; chokidar's atomic mode folds an editor's
// "write a temporary file, rename it over" save into one change.
import { realpathSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { watch } from 'chokidar';
import type { FSWatcher } from 'chokidar';
import { isManifestName } from '../manifest/find-manifest-files.js';

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
    if (event === 'addDir' || event === 'unlinkDir') {
      events.onChange(event, path);
      return;
    }
    if (roots.has(path) || isManifestName(basename(path))) events.onChange(event, path);
  });
  watcher.on('error', (error) => {
    events.onError(error instanceof Error ? error.message : String(error));
  });
  const ready = new Promise<void>((done) => {
    watcher.once('ready', () => done());
  });
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
