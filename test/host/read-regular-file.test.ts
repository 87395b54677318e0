// readRegularFile, the one reader of user-named files: regular files only, refused at once
// otherwise (a FIFO with no writer would block a plain read forever), sized before reading.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLockfile } from '../../src/host/lock-file.js';
import { readRegularFile, readRegularFileSync, readRegularText } from '../../src/host/read-regular-file.js';
import { describeReadFailure } from '../../src/diagnostics/file-errors.js';
import type { ReadRegularResult } from '../../src/diagnostics/file-errors.js';

const root = mkdtempSync(join(tmpdir(), 'pfexpose-read-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
writeFileSync(join(root, 'plain.txt'), 'hello\n');
execFileSync('mkfifo', [join(root, 'fifo')]);
mkdirSync(join(root, 'dir'));
// A sparse file: 64 MiB on paper, no blocks on disk.
writeFileSync(join(root, 'huge'), '');
truncateSync(join(root, 'huge'), 64 * 1024 * 1024);
symlinkSync('plain.txt', join(root, 'link'));
symlinkSync('loop-b', join(root, 'loop-a'));
symlinkSync('loop-a', join(root, 'loop-b'));
symlinkSync('fifo', join(root, 'link-to-fifo'));

const summary = (r: ReadRegularResult): unknown =>
  r.kind === 'ok' ? { kind: 'ok', text: new TextDecoder().decode(r.bytes) } : r;

describe('readRegularFile', () => {
  const cases: [string, { path: string; noFollow?: boolean; maxBytes?: number; want: unknown }][] = [
    ['a regular file', { path: join(root, 'plain.txt'), want: { kind: 'ok', text: 'hello\n' } }],
    [
      'a regular file exactly at the limit',
      { path: join(root, 'plain.txt'), maxBytes: 6, want: { kind: 'ok', text: 'hello\n' } },
    ],
    [
      'a regular file one byte over the limit',
      { path: join(root, 'plain.txt'), maxBytes: 5, want: { kind: 'too-large', size: 6, maxBytes: 5 } },
    ],
    ['a missing file', { path: join(root, 'nothing'), want: { kind: 'missing' } }],
    [
      'a FIFO with no writer: refused at once',
      { path: join(root, 'fifo'), want: { kind: 'not-regular', what: 'a FIFO (named pipe)' } },
    ],
    [
      'a link to a FIFO',
      { path: join(root, 'link-to-fifo'), want: { kind: 'not-regular', what: 'a FIFO (named pipe)' } },
    ],
    ['/dev/null', { path: '/dev/null', want: { kind: 'not-regular', what: 'a device' } }],
    ['/dev/zero (would read forever)', { path: '/dev/zero', want: { kind: 'not-regular', what: 'a device' } }],
    ['a directory', { path: join(root, 'dir'), want: { kind: 'not-regular', what: 'a directory' } }],
    [
      'a sparse file over the limit: refused from its size',
      {
        path: join(root, 'huge'),
        maxBytes: 1024 * 1024,
        want: { kind: 'too-large', size: 64 * 1024 * 1024, maxBytes: 1024 * 1024 },
      },
    ],
    ['a link, followed', { path: join(root, 'link'), want: { kind: 'ok', text: 'hello\n' } }],
    ['a link, with noFollow', { path: join(root, 'link'), noFollow: true, want: { kind: 'symlink' } }],
    ['a link loop', { path: join(root, 'loop-a'), want: { kind: 'unreadable', errno: 'ELOOP' } }],
  ];
  it.each(cases)('%s', async (_name, { path, noFollow, maxBytes, want }) => {
    const got = await readRegularFile(path, {
      maxBytes: maxBytes ?? 1024,
      ...(noFollow === undefined ? {} : { noFollow }),
    });
    expect(summary(got)).toEqual(want);
    if (got.kind !== 'ok') expect(describeReadFailure(got)).toMatch(/\w/);
  });

  // The synchronous reader (manifests) gives the same answer on every case.
  it.each(cases)('%s (synchronous reader)', (_name, { path, noFollow, maxBytes, want }) => {
    const got = readRegularFileSync(path, {
      maxBytes: maxBytes ?? 1024,
      ...(noFollow === undefined ? {} : { noFollow }),
    });
    expect(summary(got)).toEqual(want);
  });

  it('a socket is refused as one', async () => {
    const server = createServer();
    const path = join(root, 'sock');
    await new Promise<void>((done) => server.listen(path, done));
    try {
      expect(await readRegularFile(path, { maxBytes: 1024 })).toEqual({ kind: 'not-regular', what: 'a socket' });
      expect(readRegularFileSync(path, { maxBytes: 1024 })).toEqual({ kind: 'not-regular', what: 'a socket' });
    } finally {
      await new Promise((done) => server.close(done));
    }
  });

  it('readRegularText decodes UTF-8', async () => {
    expect(await readRegularText(join(root, 'plain.txt'), { maxBytes: 100 })).toEqual({ kind: 'ok', text: 'hello\n' });
  });

  it('a failure is described without the file content', async () => {
    writeFileSync(join(root, 'secret.txt'), 'SECRET-LINE-1\n');
    const got = await readRegularFile(join(root, 'secret.txt'), { maxBytes: 3 });
    expect(got.kind).toBe('too-large');
    if (got.kind !== 'ok') expect(describeReadFailure(got)).not.toContain('SECRET');
  });
});

describe('readLockfile on files that are not regular', () => {
  const cases: [string, string][] = [
    ['a FIFO', join(root, 'fifo')],
    ['/dev/null', '/dev/null'],
    ['/dev/zero', '/dev/zero'],
    ['a directory', join(root, 'dir')],
    ['a sparse file over the limit', join(root, 'huge')],
  ];
  it.each(cases)('%s is a lock-unreadable diagnostic at once, not a hang or a throw', async (_name, path) => {
    const got = await readLockfile(path);
    expect(got.lock).toEqual({ version: 1, entries: [] });
    expect(got.diagnostics.map((d) => [d.code, d.file])).toEqual([['lock-unreadable', path]]);
  });
});
