// The one way pfexpose reads a file a user named (a manifest, the lock file, `compile --check`,
// `plan --deployed`): only a regular file is read, opened without blocking so that a FIFO or a
// device answers at once, and never more than a size limit. Failures are results, never throws.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import {
  describeNotRegular,
  readFailureOf,
  type ReadRegularFailure,
  type ReadRegularResult,
} from '../diagnostics/file-errors.js';
import { BoundedRead } from '../text/bounded-read.js';

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

/**
 * Reads a regular file whole, or says why not. The path is checked with stat first, so a FIFO or
 * device is normally not even opened; the open itself is non-blocking and claims no terminal, and
 * the opened descriptor is checked again, so a file swapped for a FIFO in between is still refused.
 * The size limit applies to what fstat says before reading and to what is read: a file that grows
 * while it is read stops at the limit and is refused as too large.
 */
export async function readRegularFile(path: string, options: ReadRegularOptions): Promise<ReadRegularResult> {
  const noFollow = options.noFollow === true;
  const before = await (noFollow ? lstat(path) : stat(path)).catch((error: unknown) => readFailureOf(error, noFollow));
  if ('kind' in before) return before;
  if (before.isSymbolicLink()) return { kind: 'symlink' };
  const early = checkStats(before, options.maxBytes);
  if (early !== null) return early;
  let handle;
  try {
    handle = await open(path, openFlags(noFollow));
  } catch (error) {
    return readFailureOf(error, noFollow);
  }
  try {
    const info = await handle.stat();
    const refused = checkStats(info, options.maxBytes);
    if (refused !== null) return refused;
    const bounded = new BoundedRead(info.size, options.maxBytes);
    while (bounded.wants())
      bounded.took((await handle.read(bounded.buffer, bounded.length, bounded.room(), null)).bytesRead);
    return bounded.result();
  } catch (error) {
    return readFailureOf(error, noFollow);
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
      return readFailureOf(error, noFollow);
    }
    if (before.isSymbolicLink()) return { kind: 'symlink' };
    const early = checkStats(before, options.maxBytes);
    if (early !== null) return early;
  }
  let fd: number;
  try {
    fd = openSync(path, openFlags(noFollow));
  } catch (error) {
    return readFailureOf(error, noFollow);
  }
  try {
    const info = fstatSync(fd);
    const refused = checkStats(info, options.maxBytes);
    if (refused !== null) return refused;
    const bounded = new BoundedRead(info.size, options.maxBytes);
    while (bounded.wants()) bounded.took(readSync(fd, bounded.buffer, bounded.length, bounded.room(), null));
    return bounded.result();
  } catch (error) {
    return readFailureOf(error, noFollow);
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Nothing was written through it: a failed close loses nothing.
    }
  }
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

function checkStats(info: Stats, maxBytes: number): ReadRegularFailure | null {
  if (!info.isFile()) return { kind: 'not-regular', what: describeNotRegular(info) };
  if (info.size > maxBytes) return { kind: 'too-large', size: info.size, maxBytes };
  return null;
}
