// The lock file's I/O edge (src/host/lock-file.ts), kept beside the model tests it serves.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLockfile, writeLockfile } from '../../src/host/lock-file.js';
import { serializeLockfile } from '../../src/model/lockfile.js';
import type { Lockfile } from '../../src/model/lockfile.js';

describe('readLockfile / writeLockfile', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pfexpose-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const lock: Lockfile = {
    version: 1,
    entries: [
      {
        host: null,
        container: 'web',
        protocol: 'tcp',
        interface: null,
        hostAddress: null,
        kind: 'ephemeral',
        containerPort: { start: 80, end: 80 },
        hostPort: { start: 49000, end: 49000 },
      },
    ],
  };

  it('a missing file is an empty lock', async () => {
    expect(await readLockfile(join(dir, 'pfexpose.lock.json'))).toEqual({
      lock: { version: 1, entries: [] },
      diagnostics: [],
    });
  });

  it('writes the serialized lock and reads it back', async () => {
    const path = join(dir, 'pfexpose.lock.json');
    await writeLockfile(path, lock);
    expect(await readFile(path, 'utf8')).toBe(serializeLockfile(lock));
    expect(await readLockfile(path)).toEqual({ lock, diagnostics: [] });
  });

  it('a broken file gives located diagnostics with the path as given', async () => {
    const path = join(dir, 'pfexpose.lock.json');
    await writeFile(path, '{"version": 1,');
    const result = await readLockfile(path);
    expect(result.diagnostics.map((d) => [d.code, d.file, d.line])).toEqual([['lock-syntax', path, 1]]);
  });
});
