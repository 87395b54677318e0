// What compilePaths and checkPaths read before they compile: the manifests under the paths given,
// the lock file (found by lock-discovery.ts unless named), and whether those manifests are all the
// lock covers. A lock file that cannot be read is an error diagnostic, not an exception.
import { resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { hasErrors } from '../diagnostics/diagnostic.js';
import { readLockfile } from '../host/lock-file.js';
import type { LoadResult } from '../manifest/load-manifests.js';
import { loadManifests } from '../manifest/load-manifests.js';
import type { Lockfile } from '../model/lockfile.js';
import { emptyLockfile } from '../model/lockfile.js';
import { defaultLockPath, readsEveryManifest } from './lock-discovery.js';
import type { CheckOptions } from './options.js';

export interface Inputs {
  load: LoadResult;
  lock: { lock: Lockfile; diagnostics: Diagnostic[] };
  lockPath: string;
  partialLoad: boolean;
}

export async function readInputs(paths: readonly string[], options: CheckOptions): Promise<Inputs> {
  const cwd = options.cwd ?? process.cwd();
  const given = paths.length > 0 ? paths : ['.'];
  const lockPath = options.lockPath ?? (await defaultLockPath(given, cwd));
  const load = await loadManifests(given, { cwd });
  const lock = await readLockfileReported(resolve(cwd, lockPath), lockPath);
  // (Not worth a search when the manifests fail anyway: nothing is allocated then.)
  const partialLoad =
    options.partialLoad ??
    (hasErrors(load.diagnostics) ? false : !(await readsEveryManifest(given, load.manifests.files, lockPath, cwd)));
  return { load, lock, lockPath, partialLoad };
}

async function readLockfileReported(
  path: string,
  shownAs: string,
): Promise<{ lock: Lockfile; diagnostics: Diagnostic[] }> {
  try {
    const read = await readLockfile(path);
    return { lock: read.lock, diagnostics: read.diagnostics.map((d) => ({ ...d, file: shownAs })) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      lock: emptyLockfile(),
      diagnostics: [
        {
          code: 'lock-unreadable',
          severity: 'error',
          message: `cannot read the lock file: ${reason}`,
          file: shownAs,
          line: 1,
          column: 1,
          endLine: 1,
          endColumn: 1,
          hint: 'make it readable, or pass another one with --lock FILE',
        },
      ],
    };
  }
}
