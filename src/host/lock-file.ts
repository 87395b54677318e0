// Reads and writes the lock file of dynamic host ports. A missing file is an empty lock (the first
// compile creates it); writes are atomic so that an interrupted compile never leaves half a lock.
// Only a regular file up to MAX_LOCKFILE_BYTES is read: a FIFO, a device or /dev/zero is refused at once.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Lockfile } from '../model/lockfile.js';
import { emptyLockfile, parseLockfile, serializeLockfile } from '../model/lockfile.js';
import { writeFileAtomic } from './atomic-write.js';
import { readRegularText } from './read-regular-file.js';
import { describeReadFailure } from '../diagnostics/file-errors.js';

/** Far above any real lock (an entry is a few hundred bytes), far below what could exhaust memory. */
export const MAX_LOCKFILE_BYTES = 32 * 1024 * 1024;

/**
 * The lock file's text, null when it does not exist, or a `lock-unreadable` diagnostic (on
 * `shownAs`) when it cannot be read: not a regular file, too large, permissions. Never throws.
 */
export async function readLockText(
  path: string,
  shownAs: string = path,
): Promise<{ text: string | null; diagnostic?: Diagnostic }> {
  const read = await readRegularText(path, { maxBytes: MAX_LOCKFILE_BYTES });
  if (read.kind === 'ok') return { text: read.text };
  if (read.kind === 'missing') return { text: null };
  return {
    text: null,
    diagnostic: {
      code: 'lock-unreadable',
      severity: 'error',
      message: `cannot read the lock file: ${describeReadFailure(read)}`,
      file: shownAs,
      line: 1,
      column: 1,
      endLine: 1,
      endColumn: 1,
      hint: 'make it a readable regular file, or pass another one with --lock FILE',
    },
  };
}

export async function readLockfile(path: string): Promise<{ lock: Lockfile; diagnostics: Diagnostic[] }> {
  const read = await readLockText(path);
  if (read.diagnostic !== undefined) return { lock: emptyLockfile(), diagnostics: [read.diagnostic] };
  if (read.text === null) return { lock: emptyLockfile(), diagnostics: [] };
  return parseLockfile(read.text, path);
}

export async function writeLockfile(path: string, lock: Lockfile): Promise<void> {
  await writeFileAtomic(path, serializeLockfile(lock));
}
