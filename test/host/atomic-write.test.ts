// Write failures name the file the user asked for, never the temporary file beside it, and leave
// no temporary file behind. Tests run as root, so failures are forced with paths that cannot be
// created (under a regular file, in a missing directory, onto a directory).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/host/atomic-write.js';
import { writeFailureReason, WriteFileError } from '../../src/diagnostics/file-errors.js';

describe('writeFileAtomic', () => {
  const root = mkdtempSync(join(tmpdir(), 'pfexpose-atomic-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'plain-file'), 'x');
  mkdirSync(join(root, 'a-directory'));

  const failures: [string, { target: string; code: string; reason: RegExp }][] = [
    ['under a regular file (ENOTDIR)', { target: 'plain-file/out.conf', code: 'ENOTDIR', reason: /not a directory/ }],
    [
      'in a directory that does not exist (ENOENT)',
      { target: 'missing/out.conf', code: 'ENOENT', reason: /directory does not exist/ },
    ],
    [
      'onto a directory (EISDIR, after the temporary file was made)',
      { target: 'a-directory', code: 'EISDIR', reason: /is a directory/ },
    ],
  ];
  it.each(failures)(
    'a write %s names the target, not the temporary file, and leaves nothing behind',
    async (_name, { target, code, reason }) => {
      const path = join(root, target);
      const error: unknown = await writeFileAtomic(path, 'data\n').then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WriteFileError);
      const failure = error as WriteFileError;
      expect(failure.code).toBe(code);
      expect(failure.message).toBe(`cannot write ${path}: ${failure.reason}`);
      expect(writeFailureReason(error)).toMatch(reason);
      expect(failure.message).not.toMatch(/\.tmp/);
      expect(readdirSync(root).sort()).toEqual(['a-directory', 'plain-file']);
    },
  );

  it('writes the file whole and leaves no temporary file', async () => {
    await writeFileAtomic(join(root, 'a-directory', 'ok.conf'), 'data\n');
    expect(readFileSync(join(root, 'a-directory', 'ok.conf'), 'utf8')).toBe('data\n');
    expect(readdirSync(join(root, 'a-directory'))).toEqual(['ok.conf']);
  });
});
