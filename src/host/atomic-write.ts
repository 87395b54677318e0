// Files in pfexpose's state directory: written so that readers see either the old content or the
// new, never a mix (a temporary file in the same directory, fsync, rename over the target, fsync of
// the directory), created 0600; read without following a symbolic link or blocking on a FIFO, and
// only when they are regular files that the current user owns and nobody else can write.
import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isErrno, UnsafePathError, untrustedReason, writeFileError } from '../diagnostics/file-errors.js';
import { utf8Pieces } from '../text/utf8-pieces.js';

/** Records are created readable and writable by their owner only. */
export const PRIVATE_FILE_MODE = 0o600;

/** What writes a file whole: writeFileAtomic, or a test's stand-in that fails (a full disk). */
export type FileWriter = (path: string, data: string | Uint8Array) => Promise<void>;

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
    if (typeof data !== 'string') await handle.writeFile(data);
    else for (const piece of utf8Pieces(data)) await handle.writeFile(piece);
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

/** The effective user id, or null where the platform has none (then ownership is not checked). */
export function currentUid(): number | null {
  return typeof process.geteuid === 'function' ? process.geteuid() : null;
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
