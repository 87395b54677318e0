// The one path from manifests to a ruleset that every command shares (compile, ls, port, plan,
// apply, watch): load and check the manifests, resolve them for one host with the lock file, and
// render pf text. validate takes the same path up to the ruleset, for every host (checkPaths), so
// the two can never disagree. Only compilePaths and checkPaths touch the file system;
// compileSources works on given texts.
import { createHash } from 'node:crypto';
import { lstat, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { hasErrors, sortDiagnostics } from '../diagnostics/diagnostic.js';
import { compareStrings } from '../text/compare-strings.js';
import { readLockfile } from '../host/lock-file.js';
import { findManifestFiles } from '../manifest/find-manifest-files.js';
import type { LoadCache, LoadResult } from '../manifest/load-manifests.js';
import { loadManifestDocuments, loadManifests } from '../manifest/load-manifests.js';
import { parseYamlDocuments } from '../manifest/parse-yaml-documents.js';
import type { YamlFile } from '../manifest/parse-yaml-documents.js';
import type { Exposure } from '../model/exposure.js';
import type { Lockfile } from '../model/lockfile.js';
import { emptyLockfile, LOCKFILE_NAME, parseLockfile } from '../model/lockfile.js';
import type { ResolvedHost } from '../model/resolve-exposures.js';
import { resolveExposures } from '../model/resolve-exposures.js';
import type { ResolveOptions } from '../model/resolve-exposures.js';
import { hostNames } from '../model/select-host.js';
import { renderRuleset } from '../pf/render-ruleset.js';
import type { PortRange } from '../ports/port-spec.js';

export type Dialect = 'freebsd' | 'openbsd';

export interface CompileOptions {
  host?: string | undefined;
  gateway?: string | undefined;
  pool?: PortRange | undefined;
  dialect: Dialect;
  frozen: boolean;
  anchor: string;
  /** Lock file path; default: see defaultLockPath (the nearest existing lock of the repository, else beside the manifests). */
  lockPath?: string | undefined;
  /**
   * True when the manifests compiled are a subset of those under the lock's directory, so lock
   * entries of containers not read are kept. compilePaths works it out itself; compileParsed and
   * compileSources take it from here (default false: the files given are all there is).
   */
  partialLoad?: boolean | undefined;
  /** Directory relative paths are resolved against; default the process's. */
  cwd?: string | undefined;
}

export interface CompileOutcome {
  ok: boolean;
  diagnostics: Diagnostic[];
  /** Empty when ok is false. */
  exposures: Exposure[];
  /** The rendered ruleset; empty when ok is false. */
  ruleset: string;
  files: string[];
  /** sha256 over the manifest files' names and texts: what the ruleset was made from. */
  manifestDigest: string;
  host: ResolvedHost | null;
  lock: Lockfile;
  lockChanged: boolean;
  lockPath: string;
  /** Each manifest file's text, for code frames. */
  texts: ReadonlyMap<string, string>;
}

/** Manifests and lock given as texts (e.g. read from git objects); no file system access. */
export function compileSources(
  sources: readonly { file: string; text: string }[],
  options: CompileOptions,
  lockText: string | null,
): CompileOutcome {
  return compileParsed(
    sources.map((s) => parseManifestText(s.text, s.file)),
    options,
    lockText,
  );
}

/** validate's checks on manifests and lock given as texts; no file system access. */
export function checkSources(
  sources: readonly { file: string; text: string }[],
  options: CheckOptions,
  lockText: string | null,
): CheckOutcome {
  const sorted = sources.map((s) => parseManifestText(s.text, s.file)).sort((a, b) => compareStrings(a.file, b.file));
  const load = loadManifestDocuments(sorted);
  const lockPath = options.lockPath ?? LOCKFILE_NAME;
  const lock = lockText === null ? { lock: emptyLockfile(), diagnostics: [] } : parseLockfile(lockText, lockPath);
  return checkLoaded(load, lock, options, lockPath);
}

/** One file's text parsed as YAML documents (a leading BOM dropped); what compileParsed takes. */
export function parseManifestText(text: string, file: string): YamlFile {
  return parseYamlDocuments(text.startsWith('\ufeff') ? text.slice(1) : text, file);
}

/**
 * Already parsed files (the agent keeps them between cycles and parses only what changed); no
 * file system access. With a cache, files seen before (the same YamlFile objects) are not
 * validated and built again.
 */
export function compileParsed(
  files: readonly YamlFile[],
  options: CompileOptions,
  lockText: string | null,
  cache: LoadCache | null = null,
): CompileOutcome {
  const sorted = [...files].sort((a, b) => compareStrings(a.file, b.file));
  const load = loadManifestDocuments(sorted, cache);
  const lockPath = options.lockPath ?? LOCKFILE_NAME;
  const lock = lockText === null ? { lock: emptyLockfile(), diagnostics: [] } : parseLockfile(lockText, lockPath);
  return compileLoaded(
    { ...load, manifests: { ...load.manifests, files: sorted.map((f) => f.file) } },
    lock,
    options,
    lockPath,
  );
}

/** Reads the manifests under paths and their lock file, then compiles. Never writes. */
export async function compilePaths(paths: readonly string[], options: CompileOptions): Promise<CompileOutcome> {
  const input = await readInputs(paths, options);
  return compileLoaded(input.load, input.lock, { ...options, partialLoad: input.partialLoad }, input.lockPath);
}

/** What validate needs of CompileOptions: where the lock is, and which files are all there is. */
export type CheckOptions = Pick<CompileOptions, 'lockPath' | 'partialLoad' | 'cwd'>;

export interface CheckOutcome {
  /** False when any error was found. */
  ok: boolean;
  /** Sorted; a diagnostic several hosts' passes found is listed once. */
  diagnostics: Diagnostic[];
  files: string[];
  /** How many containers the documents read declare. */
  containers: number;
  /** The hosts checked, sorted; [null] for a repository that names none. */
  hosts: (string | null)[];
  texts: ReadonlyMap<string, string>;
}

/**
 * validate: reads what compilePaths reads, the same way, and runs compile's checks for every host
 * the manifests name, never writing anything (see checkLoaded).
 */
export async function checkPaths(paths: readonly string[], options: CheckOptions): Promise<CheckOutcome> {
  const input = await readInputs(paths, options);
  return checkLoaded(input.load, input.lock, { ...options, partialLoad: input.partialLoad }, input.lockPath);
}

interface Inputs {
  load: LoadResult;
  lock: { lock: Lockfile; diagnostics: Diagnostic[] };
  lockPath: string;
  partialLoad: boolean;
}

async function readInputs(paths: readonly string[], options: CheckOptions): Promise<Inputs> {
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

function compileLoaded(
  load: LoadResult,
  lock: { lock: Lockfile; diagnostics: Diagnostic[] },
  options: CompileOptions,
  lockPath: string,
): CompileOutcome {
  const manifestDigest = digestManifests(load);
  const failed = (diagnostics: Diagnostic[], host: ResolvedHost | null = null): CompileOutcome => ({
    ok: false,
    diagnostics: sortDiagnostics(diagnostics),
    exposures: [],
    ruleset: '',
    files: load.manifests.files,
    manifestDigest,
    host,
    lock: lock.lock,
    lockChanged: false,
    lockPath,
    texts: load.texts,
  });
  const early = [...load.diagnostics, ...lock.diagnostics];
  if (hasErrors(early)) return failed(early);
  const resolved = resolveExposures(load.manifests, resolveOptions(options, lock.lock, lockPath));
  const diagnostics = [...early, ...resolved.diagnostics];
  if (hasErrors(diagnostics)) return failed(diagnostics, resolved.host);
  const ruleset = renderRuleset(resolved.exposures, { dialect: options.dialect, anchor: options.anchor });
  return {
    ok: true,
    diagnostics: sortDiagnostics(diagnostics),
    exposures: resolved.exposures,
    ruleset,
    files: load.manifests.files,
    manifestDigest,
    host: resolved.host,
    lock: resolved.lock,
    lockChanged: resolved.lockChanged,
    lockPath,
    texts: load.texts,
  };
}

/** The one mapping from a command's options to the model's: compile and validate both use it. */
function resolveOptions(
  options: CheckOptions & Partial<CompileOptions>,
  lock: Lockfile,
  lockPath: string,
): ResolveOptions {
  return {
    host: options.host,
    gateway: options.gateway,
    pool: options.pool,
    lock,
    frozen: options.frozen === true,
    lockFileName: lockPath,
    partialLoad: options.partialLoad === true,
  };
}

/**
 * compile's verdict on the manifests alone, for every host at once: the same early stop (a manifest
 * or the lock file that cannot be read or parsed), then each host resolved as `compile --host NAME`
 * would (not frozen, so a missing allocation is chosen, not an error; a lock entry that would move
 * is compile's `lock-moved` warning; one that a fixed host port claims, its `port-conflict`), and
 * the union of what they report, each diagnostic once. A repository naming at most one host is
 * resolved once, as `compile` without --host. A gateway neither declared nor given is not
 * `gateway-missing` (apply asks route(8)): entries on it are checked against each other
 * (gatewayFoundLater). Nothing is rendered and the lock is never written.
 */
export function checkLoaded(
  load: LoadResult,
  lock: { lock: Lockfile; diagnostics: Diagnostic[] },
  options: CheckOptions,
  lockPath: string,
): CheckOutcome {
  const names = hostNames(load.manifests);
  const hosts: (string | null)[] = names.length > 1 ? names : [names[0] ?? null];
  const diagnostics = [...load.diagnostics, ...lock.diagnostics];
  if (!hasErrors(diagnostics)) {
    for (const host of names.length > 1 ? names : [undefined]) {
      const resolved = resolveExposures(load.manifests, {
        ...resolveOptions({ ...options, host }, lock.lock, lockPath),
        gatewayFoundLater: true,
      });
      diagnostics.push(...resolved.diagnostics);
    }
  }
  const unique = uniqueDiagnostics(sortDiagnostics(diagnostics));
  return {
    ok: !hasErrors(unique),
    diagnostics: unique,
    files: load.manifests.files,
    containers: load.manifests.documents.reduce((n, d) => n + d.containers.length, 0),
    hosts,
    texts: load.texts,
  };
}

/** Drops repeats (the same code, severity, place, message and hint), keeping the first. */
function uniqueDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = JSON.stringify([
      d.code,
      d.severity,
      d.file,
      d.line,
      d.column,
      d.endLine,
      d.endColumn,
      d.message,
      d.hint ?? null,
    ]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function digestManifests(load: LoadResult): string {
  const hash = createHash('sha256');
  for (const file of [...load.texts.keys()].sort(compareStrings)) {
    // The same bytes as hashing `${file}\0${text}\0`, without copying each text into a new string.
    hash.update(`${file}\0`);
    hash.update(load.texts.get(file) ?? '');
    hash.update('\0');
  }
  return hash.digest('hex');
}
