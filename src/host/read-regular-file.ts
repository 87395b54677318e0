// The one way pfexpose reads a file a user named (a manifest, the lock file, `compile --check`,
// `plan --deployed`): only a regular file is read, opened without blocking so that a FIFO or a
// device answers at once, and never more than a size limit. Failures are results, never throws.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';

/**
 * The limit for files holding a whole ruleset or plan (`plan --deployed`, a saved plan): pfctl's
 * output for 76,000 rules is about 12 MB, so 64 MiB leaves room without letting /dev/zero in.
 */
export const MAX_RULESET_FILE_BYTES = 64 * 1024 * 1024;

export interface ReadRegularOptions {
  /** The largest file accepted, in bytes: a larger one is refused before any byte is read. */
  maxBytes: number;
  /** Refuse a symbolic link in the last component of the path instead of following it. */
  noFollow?: boolean;
}

export interface ReadRegularSyncOptions extends ReadRegularOptions {
  /**
   * The caller saw the path as a regular file a moment ago (a directory listing's entry type, a
   * stat): the stat before the open is skipped, saving a path lookup per file. The open is still
   * non-blocking and the opened descriptor is still checked, so a FIFO or device swapped in since
   * is refused as before; the results are the same.
   */
  seenRegular?: boolean;
}

/** What a path is when it is not a regular file, in words for a message. */
export type NotRegularKind = 'a FIFO (named pipe)' | 'a socket' | 'a device' | 'a directory' | 'a special file';

export type ReadRegularResult =
  | { kind: 'ok'; bytes: Uint8Array }
  | { kind: 'missing' }
  | { kind: 'symlink' }
  | { kind: 'not-regular'; what: NotRegularKind }
  | { kind: 'too-large'; size: number; maxBytes: number }
  | { kind: 'unreadable'; errno: string };

export type ReadRegularFailure = Exclude<ReadRegularResult, { kind: 'ok' }>;

/**
 * Reads a regular file whole, or says why not. The path is checked with stat first, so a FIFO or
 * device is normally not even opened; the open itself is non-blocking and claims no terminal, and
 * the opened descriptor is checked again, so a file swapped for a FIFO in between is still refused.
 * The size limit applies to what fstat says before reading and to what is read: a file that grows
 * while it is read stops at the limit and is refused as too large.
 */
export async function readRegularFile(path: string, options: ReadRegularOptions): Promise<ReadRegularResult> {
  const noFollow = options.noFollow === true;
  let before: Stats;
  try {
    before = noFollow ? await lstat(path) : await stat(path);
  } catch (error) {
    return failureOf(error, noFollow);
  }
  if (before.isSymbolicLink()) return { kind: 'symlink' };
  const early = checkStats(before, options.maxBytes);
  if (early !== null) return early;
  let handle;
  try {
    handle = await open(path, openFlags(noFollow));
  } catch (error) {
    return failureOf(error, noFollow);
  }
  try {
    const info = await handle.stat();
    const refused = checkStats(info, options.maxBytes);
    if (refused !== null) return refused;
    // One byte more than the limit is enough to see that a growing file went past it.
    const buffer = new Uint8Array(Math.min(info.size, options.maxBytes) + 1);
    let length = 0;
    let grown = buffer;
    for (;;) {
      if (length === grown.length) {
        if (grown.length > options.maxBytes) break;
        const larger = new Uint8Array(Math.min(grown.length * 2, options.maxBytes + 1));
        larger.set(grown);
        grown = larger;
      }
      const { bytesRead } = await handle.read(grown, length, grown.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > options.maxBytes)
      return { kind: 'too-large', size: Math.max(info.size, length), maxBytes: options.maxBytes };
    return { kind: 'ok', bytes: grown.subarray(0, length) };
  } catch (error) {
    return failureOf(error, noFollow);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * readRegularFile done with synchronous system calls, with the same checks in the same order and
 * the same results. For many small files (manifests): each asynchronous call is a round trip
 * through libuv's thread pool, which cost several times the system calls themselves. Every open
 * is non-blocking, so no call here waits on a FIFO or a device.
 */
export function readRegularFileSync(path: string, options: ReadRegularSyncOptions): ReadRegularResult {
  const noFollow = options.noFollow === true;
  if (options.seenRegular !== true) {
    let before: Stats;
    try {
      before = noFollow ? lstatSync(path) : statSync(path);
    } catch (error) {
      return failureOf(error, noFollow);
    }
    if (before.isSymbolicLink()) return { kind: 'symlink' };
    const early = checkStats(before, options.maxBytes);
    if (early !== null) return early;
  }
  let fd: number;
  try {
    fd = openSync(path, openFlags(noFollow));
  } catch (error) {
    return failureOf(error, noFollow);
  }
  try {
    const info = fstatSync(fd);
    const refused = checkStats(info, options.maxBytes);
    if (refused !== null) return refused;
    return readToLimit(info.size, options.maxBytes, (buffer, offset) =>
      readSync(fd, buffer, offset, buffer.length - offset, null),
    );
  } catch (error) {
    return failureOf(error, noFollow);
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Nothing was written through it: a failed close loses nothing.
    }
  }
}

/**
 * Reads until end of file into a buffer sized from fstat, growing it while the file grows, never
 * past one byte over the limit (enough to see that a growing file went past it).
 */
function readToLimit(
  size: number,
  maxBytes: number,
  readInto: (buffer: Uint8Array, offset: number) => number,
): Extract<ReadRegularResult, { kind: 'ok' } | { kind: 'too-large' }> {
  let buffer = new Uint8Array(Math.min(size, maxBytes) + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (buffer.length > maxBytes) break;
      const larger = new Uint8Array(Math.min(buffer.length * 2, maxBytes + 1));
      larger.set(buffer);
      buffer = larger;
    }
    const bytesRead = readInto(buffer, length);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  if (length > maxBytes) return { kind: 'too-large', size: Math.max(size, length), maxBytes };
  return { kind: 'ok', bytes: buffer.subarray(0, length) };
}

/** Read-only, never blocking on a FIFO or device, never becoming the controlling terminal. */
function openFlags(noFollow: boolean): number {
  return constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | (noFollow ? constants.O_NOFOLLOW : 0);
}

/** readRegularFile, decoded as UTF-8 (bad bytes become U+FFFD; callers that care check the bytes). */
export async function readRegularText(
  path: string,
  options: ReadRegularOptions,
): Promise<{ kind: 'ok'; text: string } | ReadRegularFailure> {
  const read = await readRegularFile(path, options);
  if (read.kind !== 'ok') return read;
  return { kind: 'ok', text: new TextDecoder('utf-8').decode(read.bytes) };
}

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

/** The kind of a non-regular file, for messages. */
export function describeNotRegular(
  info: Pick<Stats, 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice' | 'isDirectory'>,
): NotRegularKind {
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isDirectory()) return 'a directory';
  return 'a special file';
}

function checkStats(info: Stats, maxBytes: number): ReadRegularFailure | null {
  if (!info.isFile()) return { kind: 'not-regular', what: describeNotRegular(info) };
  if (info.size > maxBytes) return { kind: 'too-large', size: info.size, maxBytes };
  return null;
}

function failureOf(error: unknown, noFollow: boolean): ReadRegularFailure {
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
