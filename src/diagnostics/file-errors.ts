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
