// Files in pfexpose's state directory: written so that readers see either the old content or the
// new, never a mix (a temporary file in the same directory, fsync, rename over the target, fsync of
// the directory), created 0600; read without following a symbolic link or blocking on a FIFO, and
// only when they are regular files that the current user owns and nobody else can write.
import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Records are created readable and writable by their owner only. */
export const PRIVATE_FILE_MODE = 0o600;

/** What writes a file whole: writeFileAtomic, or a test's stand-in that fails (a full disk). */
export type FileWriter = (path: string, data: string | Uint8Array) => Promise<void>;

/**
 * A file that could not be written, said about the file asked for, never the temporary file beside
 * it: `reason` is what went wrong in words (callers that name the path themselves use it), the
 * message is `cannot write PATH: reason`, and `code` keeps the errno for callers that look at it.
 */
export class WriteFileError extends Error {
  readonly path: string;
  readonly reason: string;
  readonly code: string | undefined;
  constructor(path: string, reason: string, code: string | undefined) {
    super(`cannot write ${path}: ${reason}`);
    this.name = 'WriteFileError';
    this.path = path;
    this.reason = reason;
    this.code = code;
  }
}

/** Why a write failed, without the path (the caller names the file the user asked for). */
export function writeFailureReason(error: unknown): string {
  if (error instanceof WriteFileError) return error.reason;
  return error instanceof Error ? error.message : String(error);
}

/**
 * mode: 0644 for the files users keep (compile output, plans, lock files); the state directory's
 * records pass PRIVATE_FILE_MODE. Failures are WriteFileError naming `path`; the temporary file is
 * removed whatever step failed.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle;
  try {
    // O_EXCL already refuses an existing name, symbolic link or not; O_NOFOLLOW says so twice.
    handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  } catch (error) {
    throw writeFileError(path, error);
  }
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw writeFileError(path, error);
  }
  try {
    await handle.close();
    // rename() replaces a symbolic link at path itself, never the file it points to.
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw writeFileError(path, error);
  }
  await syncDirectory(dir);
}

function writeFileError(path: string, error: unknown): WriteFileError {
  const code =
    typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
      ? error.code
      : undefined;
  return new WriteFileError(path, describeWriteErrno(code), code);
}

/** A write's errno in words, about the file asked for and its directory. */
function describeWriteErrno(code: string | undefined): string {
  switch (code) {
    case 'ENOENT':
      return 'its directory does not exist; create it first or write elsewhere';
    case 'ENOTDIR':
      return 'a part of its path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied: its directory must be writable by this user';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'the disk quota is exceeded';
    case 'EROFS':
      return 'the file system is read-only';
    case 'EISDIR':
      return 'it is a directory; name a file';
    case 'ENAMETOOLONG':
      return 'its name is too long';
    case 'EIO':
      return 'an input/output error on the device';
    default:
      return code === undefined ? 'unknown error' : `system error ${code}`;
  }
}

/** A file or directory pfexpose refuses to trust: the message says which and what to do. */
export class UnsafePathError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.name = 'UnsafePathError';
    this.path = path;
  }
}

/** The effective user id, or null where the platform has none (then ownership is not checked). */
export function currentUid(): number | null {
  return typeof process.geteuid === 'function' ? process.geteuid() : null;
}

/**
 * Why a file or directory's status makes it untrustworthy, or null. Group- or world-writable, or
 * owned by another user than uid (null: not checked): someone else could have written it.
 */
export function untrustedReason(info: { uid: number; mode: number }, uid: number | null): string | null {
  if (uid !== null && info.uid !== uid)
    return `is owned by uid ${info.uid}, not by the user running pfexpose (uid ${uid})`;
  if ((info.mode & 0o022) !== 0)
    return `is writable by group or others (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')})`;
  return null;
}

/**
 * Reads a file of the state directory: refused (UnsafePathError) when it is a symbolic link, not a
 * regular file (a FIFO, a device: opened without blocking, never read), larger than maxBytes, or
 * untrusted (see untrustedReason). A missing file throws ENOENT as readFile does.
 */
export async function readPrivateFile(
  path: string,
  options: { uid: number | null; maxBytes: number; fix: string },
): Promise<string> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (isErrno(error, 'ELOOP') || isErrno(error, 'EMLINK')) {
      throw new UnsafePathError(
        path,
        `${path} is a symbolic link; pfexpose follows no links in its state directory: ${options.fix}`,
      );
    }
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new UnsafePathError(path, `${path} is not a regular file: ${options.fix}`);
    const why = untrustedReason(info, options.uid);
    if (why !== null) throw new UnsafePathError(path, `${path} ${why}: ${options.fix}`);
    if (info.size > options.maxBytes)
      throw new UnsafePathError(path, `${path} is larger than ${options.maxBytes} bytes: ${options.fix}`);
    const buffer = Buffer.alloc(info.size);
    let filled = 0;
    while (filled < info.size) {
      const { bytesRead } = await handle.read(buffer, filled, info.size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled).toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Checks a directory pfexpose keeps its state in without following a link: 'absent', 'ok', or
 * UnsafePathError (a link, not a directory, untrusted).
 */
export async function checkPrivateDirectory(path: string, uid: number | null, fix: string): Promise<'absent' | 'ok'> {
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return 'absent';
    throw error;
  }
  if (info.isSymbolicLink())
    throw new UnsafePathError(
      path,
      `${path} is a symbolic link; pfexpose follows no links in its state directory: ${fix}`,
    );
  if (!info.isDirectory()) throw new UnsafePathError(path, `${path} is not a directory: ${fix}`);
  const why = untrustedReason(info, uid);
  if (why !== null) throw new UnsafePathError(path, `${path} ${why}; pfexpose refuses to trust it: ${fix}`);
  return 'ok';
}

async function syncDirectory(dir: string): Promise<void> {
  // Not every platform lets a directory be opened for fsync; the rename is already atomic there.
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort */
  }
}

export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}
