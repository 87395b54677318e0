// Reads and writes the lock file of dynamic host ports. A missing file is an empty lock (the first
// compile creates it); writes are atomic so that an interrupted compile never leaves half a lock.
import { readFile } from 'node:fs/promises';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Lockfile } from '../model/lockfile.js';
import { emptyLockfile, parseLockfile, serializeLockfile } from '../model/lockfile.js';
import { writeFileAtomic } from './atomic-write.js';

export { LOCKFILE_NAME } from '../model/lockfile.js';

export async function readLockfile(path: string): Promise<{ lock: Lockfile; diagnostics: Diagnostic[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lock: emptyLockfile(), diagnostics: [] };
    throw error;
  }
  return parseLockfile(text, path);
}

export async function writeLockfile(path: string, lock: Lockfile): Promise<void> {
  await writeFileAtomic(path, serializeLockfile(lock));
}
