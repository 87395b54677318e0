// File errors in words, pure: what a failed write was (errno -> a sentence about the file asked
// for, never its temporary sibling) and why a state file or directory is not trusted. The I/O that
// meets these errors is in src/host (atomic-write.ts, state-dir-mutex.ts) and src/apply.

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

export function writeFileError(path: string, error: unknown): WriteFileError {
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

export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

/** What a path is when it is not a regular file, in words for a message. */
export type NotRegularKind = 'a FIFO (named pipe)' | 'a socket' | 'a device' | 'a directory' | 'a special file';

/** What a bounded read of a regular file gave (src/host/read-regular-file.ts). */
export type ReadRegularResult =
  | { kind: 'ok'; bytes: Uint8Array }
  | { kind: 'missing' }
  | { kind: 'symlink' }
  | { kind: 'not-regular'; what: NotRegularKind }
  | { kind: 'too-large'; size: number; maxBytes: number }
  | { kind: 'unreadable'; errno: string };

export type ReadRegularFailure = Exclude<ReadRegularResult, { kind: 'ok' }>;

/** Why a read failed, in words that follow "cannot read FILE: ". Never quotes the file's content. */
export function describeReadFailure(failure: ReadRegularFailure): string {
  switch (failure.kind) {
    case 'missing':
      return 'no such file (or a symbolic link to nothing)';
    case 'symlink':
      return 'it is a symbolic link, and pfexpose does not follow links here';
    case 'not-regular':
      return `it is ${failure.what}, not a regular file; pfexpose reads only regular files`;
    case 'too-large':
      return `it is ${failure.size} bytes, over the limit of ${failure.maxBytes} bytes`;
    case 'unreadable':
      return describeErrno(failure.errno);
  }
}

/** What describeNotRegular needs of a stat result (node's Stats has it). */
export interface FileKind {
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isDirectory(): boolean;
}

/** The kind of a non-regular file, for messages. */
export function describeNotRegular(info: FileKind): NotRegularKind {
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isDirectory()) return 'a directory';
  return 'a special file';
}

function describeErrno(errno: string): string {
  switch (errno) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied: make it readable by this user';
    case 'ELOOP':
      return 'too many levels of symbolic links (a link loop): fix the links';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return `the system said ${errno}`;
  }
}

/** A failed stat, open or read as a result; noFollow: the open used O_NOFOLLOW. */
export function readFailureOf(error: unknown, noFollow: boolean): ReadRegularFailure {
  const errno =
    typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
      ? error.code
      : 'EIO';
  if (errno === 'ENOENT') return { kind: 'missing' };
  // O_NOFOLLOW on a link fails with ELOOP (Linux) or EMLINK (FreeBSD).
  if (noFollow && (errno === 'ELOOP' || errno === 'EMLINK')) return { kind: 'symlink' };
  if (errno === 'EISDIR') return { kind: 'not-regular', what: 'a directory' };
  return { kind: 'unreadable', errno };
}
