// Finds the manifest files under the paths a user gave (files or directories, recursively) and
// reads them with a size limit. The only module of src/manifest that touches the file system.
import { open, readdir, realpath, stat, lstat } from 'node:fs/promises';
import { isAbsolute, join, normalize, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { compareStrings } from '../diagnostics/diagnostic.js';
import { quoteText } from '../ports/quote-text.js';
import { MAX_MANIFEST_BYTES } from './decode-manifest-bytes.js';

export interface ManifestFile {
  /** The path as the user wrote it, joined with the names found below it. */
  file: string;
  /** Absolute path used to read it. */
  absolute: string;
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

export function isManifestName(name: string): boolean {
  return MANIFEST_NAME.test(name);
}

/**
 * Every `*.yaml` / `*.yml` file under paths, sorted by name in code-unit order. Directories are
 * searched recursively, skipping dot-directories and node_modules; a path named explicitly is
 * taken whatever its extension. Problems become diagnostics, never exceptions.
 */
export async function findManifestFiles(paths: readonly string[], options: FindOptions = {}): Promise<FoundFiles> {
  const cwd = options.cwd ?? process.cwd();
  const diagnostics: Diagnostic[] = [];
  const found = new Map<string, ManifestFile>();
  const visitedDirectories = new Set<string>();

  const addFile = async (file: string, absolute: string): Promise<void> => {
    // The same file reached twice (overlapping paths, a symlink) is read once.
    const identity = await realpath(absolute).catch(() => absolute);
    const seen = found.get(identity);
    if (seen === undefined || compareStrings(file, seen.file) < 0) found.set(identity, { file, absolute });
  };

  const walk = async (display: string, absolute: string, real: string, ancestors: readonly string[]): Promise<void> => {
    visitedDirectories.add(real);
    let entries;
    try {
      entries = await readdir(absolute, { withFileTypes: true });
    } catch (error) {
      diagnostics.push(pathDiagnostic('file-unreadable', display, `cannot read directory: ${describeError(error)}`));
      return;
    }
    const names = entries.map((e) => e.name).sort(compareStrings);
    const byName = new Map(entries.map((e) => [e.name, e]));
    for (const name of names) {
      const entry = byName.get(name);
      if (entry === undefined) continue;
      const childDisplay = join(display, name);
      const childAbsolute = join(absolute, name);
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = await stat(childAbsolute);
          isDirectory = target.isDirectory();
          isFile = !isDirectory;
        } catch (error) {
          if (isManifestName(name)) {
            diagnostics.push(pathDiagnostic(unreadableCode(error), childDisplay, `cannot read file: ${describeError(error)}`));
          } else if (errorCode(error) === 'symlink-loop') {
            diagnostics.push(pathDiagnostic('symlink-loop', childDisplay, `symbolic link loop: ${describeError(error)}`));
          }
          continue;
        }
      }
      if (isDirectory) {
        if (name.startsWith('.') || SKIPPED_DIRECTORIES.has(name)) continue;
        let childReal: string;
        try {
          childReal = await realpath(childAbsolute);
        } catch (error) {
          diagnostics.push(pathDiagnostic(errorCode(error), childDisplay, `cannot read directory: ${describeError(error)}`));
          continue;
        }
        if (ancestors.includes(childReal) || childReal === real) {
          diagnostics.push(
            pathDiagnostic(
              'symlink-loop',
              childDisplay,
              'this symbolic link leads back to a directory that contains it: it is not followed; remove the link or point it elsewhere',
            ),
          );
          continue;
        }
        if (visitedDirectories.has(childReal)) continue;
        await walk(childDisplay, childAbsolute, childReal, [...ancestors, real]);
        continue;
      }
      // FIFOs, sockets and devices named *.yaml are kept so that reading reports them.
      if ((isFile || !entry.isDirectory()) && isManifestName(name)) await addFile(childDisplay, childAbsolute);
    }
  };

  for (const given of paths) {
    const display = given === '' ? '.' : normalize(given);
    const absolute = isAbsolute(given) ? given : resolve(cwd, given);
    let info;
    try {
      info = await stat(absolute);
    } catch (error) {
      const dangling = await lstat(absolute).then(
        () => true,
        () => false,
      );
      if (dangling || errorCode(error) !== 'path-not-found') {
        diagnostics.push(pathDiagnostic(unreadableCode(error), display, `cannot read ${quoteText(given)}: ${describeError(error)}`));
      } else {
        diagnostics.push(pathDiagnostic('path-not-found', display, `${quoteText(given)} does not exist: give a manifest file or a directory holding *.yaml files`));
      }
      continue;
    }
    if (info.isDirectory()) {
      const real = await realpath(absolute).catch(() => absolute);
      if (!visitedDirectories.has(real)) await walk(display, absolute, real, []);
    } else {
      await addFile(display, absolute);
    }
  }

  const files = [...found.values()].sort((a, b) => compareStrings(a.file, b.file));
  if (files.length === 0 && diagnostics.length === 0) {
    const where = paths.length === 0 ? '.' : paths.join(', ');
    diagnostics.push(
      pathDiagnostic('no-manifests', paths[0] ?? '.', `no manifest file (*.yaml, *.yml) was found under ${quoteText(where)}: give a file or a directory that holds manifests`),
    );
  }
  return { files, diagnostics };
}

export type ReadResult = { ok: true; bytes: Uint8Array; size: number } | { ok: false; diagnostic: Diagnostic };

/**
 * Reads one manifest file, refusing anything that is not a regular file (a FIFO would block) and
 * reading at most MAX_MANIFEST_BYTES + 1 bytes, so a huge file is never loaded whole.
 */
export async function readManifestFile(file: ManifestFile): Promise<ReadResult> {
  let handle;
  try {
    const info = await stat(file.absolute);
    if (!info.isFile()) {
      return {
        ok: false,
        diagnostic: pathDiagnostic('file-unreadable', file.file, `cannot read file: it is ${describeKind(info)}, not a regular file`),
      };
    }
    handle = await open(file.absolute, 'r');
    // Sized from stat (plus one byte to notice growth), grown up to the limit + 1 if the file is
    // longer than stat said: never more than one byte past the limit is read.
    let buffer = new Uint8Array(Math.min(info.size, MAX_MANIFEST_BYTES) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (buffer.length > MAX_MANIFEST_BYTES) break;
        const grown = new Uint8Array(Math.min(buffer.length * 2, MAX_MANIFEST_BYTES + 1));
        grown.set(buffer);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    const size = length > MAX_MANIFEST_BYTES ? Math.max(info.size, length) : length;
    return { ok: true, bytes: buffer.subarray(0, length), size };
  } catch (error) {
    return { ok: false, diagnostic: pathDiagnostic(unreadableCode(error), file.file, `cannot read file: ${describeError(error)}`) };
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

type PathCode = 'file-unreadable' | 'symlink-loop' | 'path-not-found' | 'no-manifests';

function pathDiagnostic(code: PathCode, file: string, message: string): Diagnostic {
  return { code, severity: 'error', message, file, line: 1, column: 1, endLine: 1, endColumn: 1 };
}

function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

function errorCode(error: unknown): PathCode {
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

function describeKind(info: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'a special file';
}
