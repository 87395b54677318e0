// Finds the manifest files under the paths a user gave (files or directories, recursively) and
// reads them with a size limit. The only module of src/manifest that touches the file system.
// Discovery never leaves the roots the user named: a symbolic link found while searching is
// followed only when its real target lies inside one of them, and only regular files are read.
import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import type { DiagnosticCode } from '../diagnostics/codes.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { atPath } from '../diagnostics/diagnostic.js';
import { compareStrings } from '../text/compare-strings.js';
import { readRegularFile, readRegularFileSync } from '../host/read-regular-file.js';
import { describeNotRegular, describeReadFailure, type ReadRegularResult } from '../diagnostics/file-errors.js';
import { quoteText } from '../text/quote-text.js';
import { manifestTooLarge, MAX_MANIFEST_BYTES } from './decode-manifest-bytes.js';
import { IGNORE_FILE_NAME, NO_IGNORE_RULES, parseIgnoreRules } from './ignore-rules.js';
import type { IgnoreRules } from './ignore-rules.js';

export interface ManifestFile {
  /** The path as the user wrote it, joined with the names found below it. */
  file: string;
  /** Absolute path used to read it (for a link found while searching: its real target). */
  absolute: string;
  /**
   * Found while searching a directory: read without following a link, so that a file swapped for
   * a link after the search is refused rather than followed out of the roots.
   */
  noFollow?: true;
}

export interface FindOptions {
  /** Directory relative paths are resolved against; default process.cwd(). */
  cwd?: string;
}

export interface FoundFiles {
  files: ManifestFile[];
  diagnostics: Diagnostic[];
}

const MANIFEST_NAME = /\.ya?ml$/;
const SKIPPED_DIRECTORIES = new Set(['node_modules']);

/**
 * Whether a name found while searching a directory is a manifest's: `*.yaml` or `*.yml`, and not a
 * dot-file (an editor's lock link `.#web.yaml` or swap file is never a manifest).
 */
export function isManifestName(name: string): boolean {
  return !name.startsWith('.') && MANIFEST_NAME.test(name);
}

interface Root {
  real: string;
  isDirectory: boolean;
}

/**
 * Every `*.yaml` / `*.yml` file under paths, sorted by name in code-unit order. Directories are
 * searched recursively, skipping dot-files, dot-directories, node_modules and what the
 * `.pfexposeignore` at the root of that directory PATH names; a path named explicitly is taken
 * whatever its extension and whatever an ignore file says (links in it are followed: the user
 * named it). A file is read when any PATH given reaches it without ignoring it, so the result
 * does not depend on the order of the PATHs. An ignore file that cannot be read is an
 * `ignore-file-unreadable` error and its directory is not searched (what it would skip is unknown).
 * While searching, a symbolic link is followed only when its real target lies inside a path given
 * (a directory, or a file named explicitly); one leading elsewhere is a `symlink-outside`
 * diagnostic naming the link, and its target is neither read nor shown. FIFOs, sockets and
 * devices named like manifests are `file-not-regular`. Problems become diagnostics, never exceptions.
 */
export async function findManifestFiles(paths: readonly string[], options: FindOptions = {}): Promise<FoundFiles> {
  const cwd = options.cwd ?? process.cwd();
  const diagnostics: Diagnostic[] = [];
  const found = new Map<string, ManifestFile>();
  // Directories searched by the current root's walk; and every directory a walk without ignore
  // rules has searched, which a later root need not search again.
  let visitedDirectories = new Set<string>();
  const searchedWithoutRules = new Set<string>();
  let rules: IgnoreRules = NO_IGNORE_RULES;

  // The same file reached twice (overlapping paths, a symlink) is read once: keyed by real path.
  const addFound = (file: ManifestFile, real: string): void => {
    const seen = found.get(real);
    if (seen === undefined || compareStrings(file.file, seen.file) < 0) found.set(real, file);
  };
  const addFile = async (file: ManifestFile, real?: string): Promise<void> => {
    addFound(file, real ?? (await realpath(file.absolute).catch(() => file.absolute)));
  };

  // Every path given, resolved once: what a link found while searching may lead into.
  const given: { given: string; display: string; absolute: string; info: Stats; real: string }[] = [];
  for (const path of paths) {
    const display = path === '' ? '.' : normalize(path);
    const absolute = isAbsolute(path) ? path : resolve(cwd, path);
    let info;
    try {
      info = await stat(absolute);
    } catch (error) {
      const dangling = await lstat(absolute).then(
        () => true,
        () => false,
      );
      if (dangling || errorCode(error) !== 'path-not-found') {
        diagnostics.push(
          pathDiagnostic(unreadableCode(error), display, `cannot read ${quoteText(path)}: ${describeError(error)}`),
        );
      } else {
        diagnostics.push(
          atPath(
            'path-not-found',
            display,
            'no such file or directory: check the path; give a manifest file or a directory that holds *.yaml files',
          ),
        );
      }
      continue;
    }
    given.push({ given: path, display, absolute, info, real: await realpath(absolute).catch(() => absolute) });
  }
  const roots: Root[] = given.map((g) => ({ real: g.real, isDirectory: g.info.isDirectory() }));
  const insideRoots = (real: string): boolean =>
    roots.some((root) => (root.isDirectory ? isWithin(real, root.real) : real === root.real));

  const enterDirectory = async (
    display: string,
    absolute: string,
    childReal: string,
    parentReal: string,
    ancestors: readonly string[],
    below: string,
  ): Promise<void> => {
    if (ancestors.includes(childReal) || childReal === parentReal) {
      diagnostics.push(
        pathDiagnostic(
          'symlink-loop',
          display,
          'this symbolic link leads back to a directory that contains it: it is not followed; remove the link or point it elsewhere',
        ),
      );
      return;
    }
    if (visitedDirectories.has(childReal)) return;
    await walk(display, absolute, childReal, [...ancestors, parentReal], below);
  };

  const followLink = async (
    name: string,
    display: string,
    absolute: string,
    parentReal: string,
    ancestors: readonly string[],
    below: string,
  ): Promise<void> => {
    let real: string;
    let info: Stats;
    try {
      real = await realpath(absolute);
      info = await stat(real);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'symlink-loop')
        diagnostics.push(pathDiagnostic('symlink-loop', display, `symbolic link loop: ${describeError(error)}`));
      else if (isManifestName(name))
        diagnostics.push(pathDiagnostic('file-unreadable', display, `cannot read file: ${describeError(error)}`));
      return;
    }
    // A link is tested by its own path; one to a directory also as a directory (`shared/`).
    if (info.isDirectory() && rules.ignores(below, true)) return;
    if (!insideRoots(real)) {
      // Where it leads is not said: the message names the link only.
      if (info.isDirectory() || isManifestName(name)) {
        diagnostics.push(
          pathDiagnostic(
            'symlink-outside',
            display,
            'this symbolic link leads outside the paths given, so it is not followed and nothing behind it is read: replace it with the file itself, or name its target on the command line',
          ),
        );
      }
      return;
    }
    if (info.isDirectory()) {
      await enterDirectory(display, absolute, real, parentReal, ancestors, below);
      return;
    }
    if (!isManifestName(name)) return;
    if (!info.isFile()) {
      diagnostics.push(notRegularDiagnostic(display, info));
      return;
    }
    await addFile({ file: display, absolute: real, noFollow: true }, real);
  };

  const walk = async (
    display: string,
    absolute: string,
    real: string,
    ancestors: readonly string[],
    below: string,
  ): Promise<void> => {
    visitedDirectories.add(real);
    let entries: Dirent[];
    try {
      entries = await readdir(absolute, { withFileTypes: true });
    } catch (error) {
      diagnostics.push(pathDiagnostic('file-unreadable', display, `cannot read directory: ${describeError(error)}`));
      return;
    }
    entries.sort((a, b) => compareStrings(a.name, b.name));
    // What join(directory, name) gives for a plain name, computed once per directory rather than
    // normalized again for each of thousands of entries.
    const displayPrefix = childPrefix(display);
    const absolutePrefix = childPrefix(absolute);
    const realPrefix = childPrefix(real);
    for (const entry of entries) {
      const name = entry.name;
      // Dot-files and dot-directories are skipped silently (`.git`, editors' lock links and swap
      // files), and node_modules whatever it is (package managers make it a link).
      if (name.startsWith('.') || SKIPPED_DIRECTORIES.has(name)) continue;
      const childDisplay = displayPrefix + name;
      const childAbsolute = absolutePrefix + name;
      const childBelow = below === '' ? name : `${below}/${name}`;
      const type = hasType(entry) ? entry : await lstat(childAbsolute).catch(() => null);
      if (type === null) continue;
      if (type.isSymbolicLink()) {
        if (!rules.ignores(childBelow, false))
          await followLink(name, childDisplay, childAbsolute, real, ancestors, childBelow);
      } else if (type.isDirectory()) {
        if (!rules.ignores(childBelow, true))
          await enterDirectory(childDisplay, childAbsolute, realPrefix + name, real, ancestors, childBelow);
      } else if (isManifestName(name) && !rules.ignores(childBelow, false)) {
        // Not a link, in a directory whose real path is known: its real path needs no lookup.
        if (type.isFile()) addFound({ file: childDisplay, absolute: childAbsolute, noFollow: true }, realPrefix + name);
        else diagnostics.push(notRegularDiagnostic(childDisplay, type));
      }
    }
  };

  for (const path of given) {
    if (path.info.isDirectory()) {
      if (searchedWithoutRules.has(path.real)) continue;
      const read = await readIgnoreRules(path.absolute, path.display, insideRoots);
      if (read.diagnostic !== undefined) {
        diagnostics.push(read.diagnostic);
        continue;
      }
      rules = read.rules ?? NO_IGNORE_RULES;
      visitedDirectories = new Set();
      await walk(path.display, path.absolute, path.real, [], '');
      if (read.rules === null) for (const real of visitedDirectories) searchedWithoutRules.add(real);
    } else if (!path.info.isFile()) {
      diagnostics.push(notRegularDiagnostic(path.display, path.info));
    } else {
      await addFile({ file: path.display, absolute: path.absolute }, path.real);
    }
  }

  const files = [...found.values()].sort((a, b) => compareStrings(a.file, b.file));
  if (files.length === 0 && diagnostics.length === 0) {
    const where = paths.length === 0 ? '.' : paths.join(', ');
    diagnostics.push(
      atPath(
        'no-manifests',
        paths[0] ?? '.',
        `no manifest file (*.yaml, *.yml) was found under ${quoteText(where)}: give a file or a directory that holds manifests`,
      ),
    );
  }
  return { files, diagnostics: uniqueDiagnostics(diagnostics) };
}

/** Roots searched more than once (overlapping PATHs with ignore files) report a problem once. */
function uniqueDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.code}\0${d.file}\0${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The ignore file is a list of patterns, never large: this is far beyond any real one. */
export const MAX_IGNORE_FILE_BYTES = 1024 * 1024;

export type IgnoreRead =
  { rules: IgnoreRules | null; diagnostic?: undefined } | { rules?: undefined; diagnostic: Diagnostic };

/**
 * The rules of the `.pfexposeignore` at the root of a directory PATH: null when there is none.
 * A link is followed only when `allowed` accepts its real target (it lies inside the PATHs given);
 * anything else that keeps the file from being read is an `ignore-file-unreadable` diagnostic.
 */
export async function readIgnoreRules(
  directory: string,
  display: string,
  allowed: (real: string) => boolean = () => true,
): Promise<IgnoreRead> {
  const absolute = join(directory, IGNORE_FILE_NAME);
  const shown = join(display, IGNORE_FILE_NAME);
  const refuse = (reason: string): IgnoreRead => ({
    diagnostic: pathDiagnostic(
      'ignore-file-unreadable',
      shown,
      `cannot read the ignore file: ${reason}; the directory is not searched until it can be read`,
    ),
  });
  let own: Stats;
  try {
    own = await lstat(absolute);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { rules: null };
    return refuse(describeError(error));
  }
  if (own.isSymbolicLink()) {
    const real = await realpath(absolute).catch((error: unknown) => error);
    if (typeof real !== 'string') return refuse(describeError(real));
    if (!allowed(real))
      return refuse(
        'it is a symbolic link that leads outside the paths given, so it is not followed; replace it with the file itself',
      );
  }
  const read = await readRegularFile(absolute, { maxBytes: MAX_IGNORE_FILE_BYTES });
  switch (read.kind) {
    case 'ok': {
      const text = new TextDecoder('utf-8', { fatal: false }).decode(read.bytes);
      return { rules: parseIgnoreRules(text) };
    }
    case 'too-large':
      return refuse(`it is ${read.size} bytes, over the ${MAX_IGNORE_FILE_BYTES}-byte limit for an ignore file`);
    case 'not-regular':
      return refuse(describeReadFailure(read));
    case 'missing':
      return { rules: null };
    case 'symlink':
      return refuse('it was replaced by a symbolic link while pfexpose read it; run again');
    case 'unreadable':
      return refuse(describeError({ code: read.errno }));
  }
}

/** Whether the directory listing said what the entry is (some file systems leave it to lstat). */
function hasType(entry: Dirent): boolean {
  return (
    entry.isFile() ||
    entry.isDirectory() ||
    entry.isSymbolicLink() ||
    entry.isFIFO() ||
    entry.isSocket() ||
    entry.isCharacterDevice() ||
    entry.isBlockDevice()
  );
}

/**
 * The prefix that makes join(directory, name) for a plain name (no separator, not `.` or `..`):
 * join normalizes the directory part alike whatever the last segment is.
 */
function childPrefix(directory: string): string {
  return join(directory, '_').slice(0, -1);
}

/** True when `path` is `directory` or lies below it (both absolute and real). */
function isWithin(path: string, directory: string): boolean {
  const rel = relative(directory, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

export type ReadResult = { ok: true; bytes: Uint8Array; size: number } | { ok: false; diagnostic: Diagnostic };

/**
 * Reads one manifest file: only a regular file (a FIFO or device is refused at once, never
 * opened for a blocking read), at most MAX_MANIFEST_BYTES, refused before reading when larger.
 */
export async function readManifestFile(file: ManifestFile): Promise<ReadResult> {
  // Asynchronous on purpose: the agent reads through here, and a read that hangs (a stuck network
  // mount) must not stop its event loop, so /healthz still answers and says the agent is stalled.
  const read = await readRegularFile(file.absolute, { maxBytes: MAX_MANIFEST_BYTES, noFollow: file.noFollow === true });
  return manifestRead(file, read);
}

/**
 * readManifestFile with synchronous system calls: manifests are small and many, and a thread-pool
 * round trip per call cost more than reading them (see readRegularFileSync).
 */
export function readManifestFileSync(file: ManifestFile): ReadResult {
  // findManifestFiles lists only what it saw as a regular file (the listing's entry type, a stat).
  const read = readRegularFileSync(file.absolute, {
    maxBytes: MAX_MANIFEST_BYTES,
    noFollow: file.noFollow === true,
    seenRegular: true,
  });
  return manifestRead(file, read);
}

/** A bounded read's result as a manifest read: the file's bytes, or the diagnostic for its path. */
function manifestRead(file: ManifestFile, read: ReadRegularResult): ReadResult {
  switch (read.kind) {
    case 'ok':
      return { ok: true, bytes: read.bytes, size: read.bytes.length };
    case 'too-large':
      return { ok: false, diagnostic: manifestTooLarge(file.file, read.size) };
    case 'not-regular':
      return {
        ok: false,
        diagnostic: pathDiagnostic(
          'file-not-regular',
          file.file,
          `cannot read file: ${describeReadFailure(read)}: remove it or move it out of the manifest paths`,
        ),
      };
    case 'symlink':
      return {
        ok: false,
        diagnostic: pathDiagnostic(
          'file-unreadable',
          file.file,
          'cannot read file: it was replaced by a symbolic link while pfexpose read the manifests; run again',
        ),
      };
    case 'missing':
      return {
        ok: false,
        diagnostic: pathDiagnostic(
          'file-unreadable',
          file.file,
          `cannot read file: ${describeError({ code: 'ENOENT' })}`,
        ),
      };
    case 'unreadable':
      return {
        ok: false,
        diagnostic: pathDiagnostic(
          unreadableCode({ code: read.errno }),
          file.file,
          `cannot read file: ${describeError({ code: read.errno })}`,
        ),
      };
  }
}

function notRegularDiagnostic(file: string, info: Parameters<typeof describeNotRegular>[0]): Diagnostic {
  return pathDiagnostic(
    'file-not-regular',
    file,
    `it is ${describeNotRegular(info)}, not a regular file: pfexpose reads manifests only from regular files; remove it or move it out of the manifest paths`,
  );
}

type PathCode = Extract<
  DiagnosticCode,
  'file-unreadable' | 'file-not-regular' | 'symlink-loop' | 'symlink-outside' | 'ignore-file-unreadable'
>;

function pathDiagnostic(code: PathCode, file: string, message: string): Diagnostic {
  return { code, severity: 'error', message, file, line: 1, column: 1, endLine: 1, endColumn: 1 };
}

function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string')
    return error.code;
  return undefined;
}

function errorCode(error: unknown): PathCode | 'path-not-found' {
  const code = errnoCode(error);
  if (code === 'ELOOP') return 'symlink-loop';
  if (code === 'ENOENT') return 'path-not-found';
  return 'file-unreadable';
}

/** A path that exists but cannot be read: a missing target is a dangling link, not a missing path. */
function unreadableCode(error: unknown): 'file-unreadable' | 'symlink-loop' {
  return errorCode(error) === 'symlink-loop' ? 'symlink-loop' : 'file-unreadable';
}

function describeError(error: unknown): string {
  switch (errnoCode(error)) {
    case 'ENOENT':
      return 'it is a symbolic link to nothing (a dangling link) or it vanished: fix or remove the link';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied: make it readable by this user';
    case 'ELOOP':
      return 'too many levels of symbolic links (a link loop): fix the links';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return errnoCode(error) ?? 'unknown error';
  }
}
