// Reads manifests and the lock file as they were at a git revision, from git's objects only
// (`git rev-parse`, `git ls-tree`, `git cat-file`): the working tree and the index are never touched,
// so `plan --base origin/main` is safe in any checkout, even one with uncommitted changes.
// No I/O of its own: git is run through the GitRunner it is given (src/host/git.ts runs the program).
import { isAbsolute, join, normalize, posix, relative, resolve, sep } from 'node:path';
import { decodeManifestBytes, MAX_MANIFEST_BYTES } from './decode-manifest-bytes.js';
import { isManifestName, MAX_IGNORE_FILE_BYTES } from './find-manifest-files.js';
import { IGNORE_FILE_NAME, NO_IGNORE_RULES, parseIgnoreRules } from './ignore-rules.js';
import type { IgnoreRules } from './ignore-rules.js';

/** What running git gave: its stdout, or why it failed (the first line of stderr, or how it could not start). */
export type GitRun = { ok: true; stdout: Buffer } | { ok: false; message: string };
/** Runs git with these arguments in the request's directory. */
export type GitRunner = (args: string[]) => Promise<GitRun>;

export interface GitRevisionRequest {
  /** Where relative paths are resolved and git is run. */
  cwd: string;
  /** Anything `git rev-parse` accepts: a branch, a tag, `HEAD~1`, a commit id. */
  ref: string;
  /** Manifest files or directories, as given on the command line (relative to cwd). */
  paths: readonly string[];
  /** Lock file path relative to cwd, or null for none. */
  lockPath: string | null;
  /** The lock file's size limit (the same as for the working tree's lock file). */
  maxLockBytes: number;
}

export type GitRevisionResult =
  | {
      ok: true;
      /** The full commit id the ref named. */
      commit: string;
      /** Manifest files named as the working tree would name them (the path given, joined with the names below it). */
      sources: { file: string; text: string }[];
      /** The lock file's text at that revision, or null when it did not exist there. */
      lockText: string | null;
      /** Paths given that did not exist at that revision (their manifests count as absent). */
      missing: string[];
    }
  | { ok: false; message: string };

const SKIPPED_DIRECTORIES = new Set(['node_modules']);

export async function readRevision(run: GitRunner, request: GitRevisionRequest): Promise<GitRevisionResult> {
  const top = await run(['rev-parse', '--show-toplevel']);
  if (!top.ok)
    return { ok: false, message: `${request.cwd} is not inside a git repository (${top.message}); --base needs one` };
  const root = top.stdout.toString('utf8').trim();
  if (request.ref.startsWith('-'))
    return { ok: false, message: `--base ${JSON.stringify(request.ref)} is not a revision (it starts with "-")` };
  const verified = await run(['rev-parse', '--verify', '--quiet', '--end-of-options', `${request.ref}^{commit}`]);
  if (!verified.ok) {
    return {
      ok: false,
      message: `--base ${JSON.stringify(request.ref)} names no commit in this repository; fetch it first (in CI: actions/checkout with fetch-depth: 0) or give a branch, tag or commit id`,
    };
  }
  const commit = verified.stdout.toString('utf8').trim();

  const sources: { file: string; text: string }[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  const givenPaths = request.paths.length > 0 ? request.paths : ['.'];
  const roots: string[] = [];
  for (const given of givenPaths) {
    const inRepo = repoPath(root, request.cwd, given);
    if (inRepo === null) return { ok: false, message: `${given} is outside the git repository at ${root}` };
    roots.push(inRepo);
  }
  for (const [index, given] of givenPaths.entries()) {
    const inRepo = roots[index] as string;
    const entries = await listTree(run, commit, inRepo);
    if (!entries.ok) return entries;
    const explicitFile = entries.entries.length === 1 && entries.entries[0]?.path === inRepo;
    if (entries.entries.length === 0) missing.push(given);
    // A directory's .pfexposeignore as committed in that revision, not as it is on this host.
    const ignoreRules = explicitFile
      ? NO_IGNORE_RULES
      : await readCommittedIgnore(run, commit, inRepo, entries.entries, roots);
    if ('message' in ignoreRules)
      return {
        ok: false,
        message: `${join(normalize(given), IGNORE_FILE_NAME)} at ${request.ref} ${ignoreRules.message}`,
      };
    for (const entry of entries.entries) {
      const below = explicitFile ? '' : posixRelative(inRepo, entry.path);
      if (!explicitFile && (!isManifestPath(below) || ignoreRules.ignores(below, false))) continue;
      const display = below === '' ? normalize(given) : join(normalize(given), ...below.split('/'));
      if (seen.has(display)) continue;
      seen.add(display);
      let blobEntry: TreeEntry = entry;
      if (entry.link) {
        // A link is resolved inside the revision's tree only, never on this host: one found while
        // searching must stay inside the paths given, one named explicitly inside the repository.
        const resolved = await resolveLink(run, commit, entry, (path) => explicitFile || insideRoots(roots, path));
        if (!resolved.ok) return { ok: false, message: `${display} at ${request.ref} ${resolved.message}` };
        if (resolved.entry === null && explicitFile) {
          return {
            ok: false,
            message: `${display} at ${request.ref} is a symbolic link to a directory; for --base, name the directory itself`,
          };
        }
        // A directory, or a file its own path reaches: read where it lies, not twice.
        if (resolved.entry === null || (!explicitFile && coveredByRoots(roots, resolved.entry.path))) continue;
        blobEntry = resolved.entry;
      }
      if (blobEntry.size > MAX_MANIFEST_BYTES) {
        return {
          ok: false,
          message: `${display} at ${request.ref} is ${blobEntry.size} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit for manifests`,
        };
      }
      const blob = await run(['cat-file', 'blob', blobEntry.object]);
      if (!blob.ok) return { ok: false, message: `cannot read ${display} at ${request.ref}: ${blob.message}` };
      const decoded = decodeManifestBytes(blob.stdout, display);
      if (!decoded.ok) return { ok: false, message: `${display} at ${request.ref}: ${decoded.diagnostic.message}` };
      sources.push({ file: display, text: decoded.text });
    }
  }

  let lockText: string | null = null;
  if (request.lockPath !== null) {
    const inRepo = repoPath(root, request.cwd, request.lockPath);
    if (inRepo !== null && inRepo !== '') {
      const entries = await listTree(run, commit, inRepo);
      if (!entries.ok) return entries;
      let lock = entries.entries.find((e) => e.path === inRepo);
      if (lock?.link === true) {
        // Named by the user: followed anywhere inside the repository's tree, never on the host.
        const resolved = await resolveLink(run, commit, lock, () => true);
        if (!resolved.ok) return { ok: false, message: `${request.lockPath} at ${request.ref} ${resolved.message}` };
        lock = resolved.entry ?? undefined;
      }
      if (lock !== undefined) {
        if (lock.size > request.maxLockBytes)
          return {
            ok: false,
            message: `${request.lockPath} at ${request.ref} is ${lock.size} bytes, over the ${request.maxLockBytes}-byte limit for the lock file`,
          };
        const blob = await run(['cat-file', 'blob', lock.object]);
        if (!blob.ok)
          return { ok: false, message: `cannot read ${request.lockPath} at ${request.ref}: ${blob.message}` };
        lockText = blob.stdout.toString('utf8');
      }
    }
  }
  return { ok: true, commit, sources, lockText, missing };
}

interface TreeEntry {
  path: string;
  object: string;
  size: number;
  /** A symbolic link (mode 120000): its blob is the target's path. */
  link: boolean;
}

/** How many links in a row are followed before the chain counts as a loop. */
const MAX_LINK_HOPS = 40;
/** A link's target is a path: anything longer is not one pfexpose will follow. */
const MAX_LINK_BYTES = 4096;

/**
 * Follows a link committed in the revision through the revision's own tree: the regular file it
 * ends at, null for a directory (searched where it lies), or why it is refused. A target that is
 * absolute, leaves the repository or fails `allowed` is refused without being looked up; its text
 * is never shown.
 */
async function resolveLink(
  run: GitRunner,
  commit: string,
  link: TreeEntry,
  allowed: (path: string) => boolean,
): Promise<{ ok: true; entry: TreeEntry | null } | { ok: false; message: string }> {
  const outside = {
    ok: false as const,
    message:
      'is a symbolic link that leads outside the paths given (symlink-outside): it is not followed; commit the file itself in its place, or name its target on the command line',
  };
  let current = link;
  for (let hop = 0; hop < MAX_LINK_HOPS; hop += 1) {
    if (current.size > MAX_LINK_BYTES) return outside;
    const blob = await run(['cat-file', 'blob', current.object]);
    if (!blob.ok) return { ok: false, message: `is a symbolic link that cannot be read: ${blob.message}` };
    const target = blob.stdout.toString('utf8');
    if (target === '' || target.startsWith('/') || target.includes('\0')) return outside;
    const at = posix.normalize(posix.join(posix.dirname(current.path), target));
    if (at === '..' || at.startsWith('../') || at === '.' || !allowed(at)) return outside;
    const listed = await run(['ls-tree', '-z', '-l', '--full-tree', commit, '--', at]);
    if (!listed.ok) return { ok: false, message: `git ls-tree failed: ${listed.message}` };
    const record = listed.stdout
      .toString('utf8')
      .split('\0')
      .map(parseTreeRecord)
      .find((r) => r !== null && r.path === at);
    if (record === undefined || record === null) {
      return {
        ok: false,
        message: 'is a symbolic link to nothing in that revision (a dangling link): fix or remove the link',
      };
    }
    if (record.type === 'tree') return { ok: true, entry: null };
    if (record.type !== 'blob') return outside;
    if (record.mode === '100644' || record.mode === '100755')
      return { ok: true, entry: { path: at, object: record.object, size: record.size, link: false } };
    if (record.mode !== '120000') return outside;
    current = { path: at, object: record.object, size: record.size, link: true };
  }
  return { ok: false, message: 'is a symbolic link in a loop of links (symlink-loop): fix the links' };
}

/**
 * The rules of the ignore file at the root of a directory given, read from the revision's tree
 * (a link in it is resolved there, and must stay inside the paths given); none when absent.
 */
async function readCommittedIgnore(
  run: GitRunner,
  commit: string,
  inRepo: string,
  entries: readonly TreeEntry[],
  roots: readonly string[],
): Promise<IgnoreRules | { message: string }> {
  const path = inRepo === '' ? IGNORE_FILE_NAME : `${inRepo}/${IGNORE_FILE_NAME}`;
  let entry = entries.find((e) => e.path === path);
  if (entry === undefined) return NO_IGNORE_RULES;
  if (entry.link) {
    const resolved = await resolveLink(run, commit, entry, (at) => insideRoots(roots, at));
    if (!resolved.ok) return { message: `${resolved.message} (ignore-file-unreadable)` };
    if (resolved.entry === null)
      return {
        message: 'is a symbolic link to a directory, not a file of gitignore patterns (ignore-file-unreadable)',
      };
    entry = resolved.entry;
  }
  if (entry.size > MAX_IGNORE_FILE_BYTES)
    return {
      message: `is ${entry.size} bytes, over the ${MAX_IGNORE_FILE_BYTES}-byte limit for an ignore file (ignore-file-unreadable)`,
    };
  const blob = await run(['cat-file', 'blob', entry.object]);
  if (!blob.ok) return { message: `cannot be read: ${blob.message} (ignore-file-unreadable)` };
  return parseIgnoreRules(blob.stdout.toString('utf8'));
}

/** Whether a repository path lies at or under one of the paths given. */
function insideRoots(roots: readonly string[], path: string): boolean {
  return roots.some((root) => root === '' || path === root || path.startsWith(`${root}/`));
}

/** Whether a repository path is read anyway: a manifest under a directory given, or a file given. */
function coveredByRoots(roots: readonly string[], path: string): boolean {
  return roots.some(
    (root) =>
      path === root || ((root === '' || path.startsWith(`${root}/`)) && isManifestPath(posixRelative(root, path))),
  );
}

function parseTreeRecord(
  record: string,
): { mode: string; type: string; object: string; size: number; path: string } | null {
  // <mode> SP <type> SP <object> SP+ <size> TAB <path>
  const match = /^(\d+) (\w+) ([0-9a-f]+) +(-|\d+)\t([\s\S]+)$/.exec(record);
  if (match === null) return null;
  const [, mode, type, object, size, path] = match;
  if (mode === undefined || type === undefined || object === undefined || path === undefined) return null;
  return { mode, type, object, size: size === '-' ? 0 : Number(size), path };
}

/** Regular files and symbolic links (not submodules) at or under a repository path, recursively. */
async function listTree(
  run: GitRunner,
  commit: string,
  inRepo: string,
): Promise<{ ok: true; entries: TreeEntry[] } | { ok: false; message: string }> {
  const args = ['ls-tree', '-r', '-z', '-l', '--full-tree', commit];
  if (inRepo !== '') args.push('--', inRepo);
  const listed = await run(args);
  if (!listed.ok) return { ok: false, message: `git ls-tree failed: ${listed.message}` };
  const entries: TreeEntry[] = [];
  for (const text of listed.stdout.toString('utf8').split('\0')) {
    const record = parseTreeRecord(text);
    if (record === null || record.type !== 'blob') continue;
    const link = record.mode === '120000';
    if (!link && record.mode !== '100644' && record.mode !== '100755') continue;
    if (inRepo !== '' && record.path !== inRepo && !record.path.startsWith(`${inRepo}/`)) continue;
    entries.push({ path: record.path, object: record.object, size: record.size, link });
  }
  return { ok: true, entries };
}

/** As findManifestFiles searches a directory: *.yaml / *.yml, skipping dot-files, dot-directories and node_modules. */
function isManifestPath(below: string): boolean {
  const parts = below.split('/');
  const name = parts.pop() ?? '';
  if (parts.some((dir) => dir.startsWith('.') || SKIPPED_DIRECTORIES.has(dir))) return false;
  return isManifestName(name);
}

/** The path inside the repository, `/`-separated, '' for the root; null when outside it. */
function repoPath(root: string, cwd: string, given: string): string | null {
  const absolute = isAbsolute(given) ? given : resolve(cwd, given);
  const inside = relative(root, absolute);
  if (inside.startsWith('..') || isAbsolute(inside)) return null;
  return inside.split(sep).join('/');
}

function posixRelative(from: string, to: string): string {
  if (from === '') return to;
  return to === from ? '' : to.slice(from.length + 1);
}
