// Where the manifests' lock file is, and whether the manifests read are all of those it covers.
// These read the file system (stat, lstat, realpath, a manifest search); nothing here writes.
import { lstat, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { findManifestFiles } from '../manifest/find-manifest-files.js';
import { LOCKFILE_NAME } from '../model/lockfile.js';

/**
 * The lock of the repository the manifests belong to: the nearest pfexpose.lock.json that exists in
 * the deepest directory holding every path (a directory path itself, a file path's directory) or
 * above it, up to and including the repository root (the first directory holding a `.git` entry)
 * or the file system root. Without one, a new lock goes in that deepest directory. So compiling a
 * subdirectory uses, and keeps, the repository's lock instead of starting a second one, and the
 * order of the paths never changes which lock is used. A single string is taken as the only path.
 */
export async function defaultLockPath(paths: string | readonly string[], cwd: string): Promise<string> {
  const given = typeof paths === 'string' ? [paths] : paths.length > 0 ? paths : ['.'];
  const directories = await Promise.all(
    given.map(async (path) => {
      const absolute = resolve(cwd, path);
      const info = await stat(absolute).catch(() => null);
      return info === null || info.isDirectory() ? absolute : dirname(absolute);
    }),
  );
  const common = directories.reduce(commonDirectory);
  const found = (await findLockAbove(common)) ?? join(common, LOCKFILE_NAME);
  // Shown as the user wrote the paths: relative to the working directory unless every path was absolute.
  return given.every((path) => isAbsolute(path)) ? found : relative(cwd, found);
}

/**
 * The nearest existing lock file in `directory` or above it, not above the repository root; null
 * outside a git repository (a lock in some parent directory of unrelated manifests, /tmp say,
 * must never be picked up), or when there is none.
 */
async function findLockAbove(directory: string): Promise<string | null> {
  let found: string | null = null;
  for (let current = directory; ;) {
    const candidate = join(current, LOCKFILE_NAME);
    // Anything by that name is taken: one that cannot be read is reported, not passed over silently.
    if (found === null && (await stat(candidate).catch(() => null)) !== null) found = candidate;
    // `.git` is a directory in a repository, a file in a worktree or submodule: either marks the root.
    if ((await lstat(join(current, '.git')).catch(() => null)) !== null) return found;
    const parent = dirname(current);
    // No repository: only a lock in the directory itself counts.
    if (parent === current) return found !== null && dirname(found) === directory ? found : null;
    current = parent;
  }
}

function commonDirectory(a: string, b: string): string {
  let common = a;
  while (!isWithin(b, common)) {
    const parent = dirname(common);
    if (parent === common) return common;
    common = parent;
  }
  return common;
}

/** True when `path` is `directory` or lies below it (both absolute). */
function isWithin(path: string, directory: string): boolean {
  const rel = relative(directory, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Whether the files read are every manifest under the lock's directory: only then may compile drop
 * the lock entries of containers it did not see. A path that is a directory holding the lock's
 * directory answers yes at once; otherwise that directory is searched the way PATHs are. A lock that
 * does not lie above the manifests read (--lock elsewhere) belongs to exactly the paths given.
 */
export async function readsEveryManifest(
  paths: readonly string[],
  filesRead: readonly string[],
  lockPath: string,
  cwd: string,
): Promise<boolean> {
  const lockDirectory = dirname(resolve(cwd, lockPath));
  for (const path of paths) {
    const absolute = resolve(cwd, path);
    const info = await stat(absolute).catch(() => null);
    if (info?.isDirectory() === true && isWithin(lockDirectory, absolute)) return true;
  }
  const read = filesRead.map((file) => resolve(cwd, file));
  if (!read.every((file) => isWithin(file, lockDirectory))) return true;
  const found = await findManifestFiles([lockDirectory], { cwd });
  // A directory that cannot be searched may hide manifests: then keep what was not seen.
  if (found.diagnostics.some((d) => d.severity === 'error' && d.code !== 'no-manifests')) return false;
  const real = async (path: string): Promise<string> => realpath(path).catch(() => path);
  const readReal = new Set(await Promise.all(read.map(real)));
  for (const file of found.files) if (!readReal.has(await real(file.absolute))) return false;
  return true;
}
