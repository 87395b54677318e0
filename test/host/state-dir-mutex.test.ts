// The lock between real processes: the module is transpiled to plain JS so that a second node
// process can take the same lock with the same code. Also: a lock file that is a FIFO, a device
// or a link is refused at once, never read (it used to hang).
import { afterAll, afterEach, beforeAll, beforeEach, describe, it, expect } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { StateDirMutex } from '../../src/host/state-dir-mutex.js';

const execFileAsync = promisify(execFile);
let moduleDir: string;
let dir: string;
let lockPath: string;
const children: ChildProcess[] = [];

// A holder process: takes the lock (waiting up to argv[3] ms), prints "acquired" or the refusal,
// then either holds it until stdin closes, or (argv[4] === 'count') bumps a counter file slowly
// (read, wait, write: a race without the lock) and releases.
const HOLDER = `
import { StateDirMutex } from './state-dir-mutex.mjs';
import { readFileSync, writeFileSync } from 'node:fs';
const [lockPath, waitMs, mode, counter] = process.argv.slice(2);
const lock = new StateDirMutex(lockPath, { command: 'holder' });
const result = await lock.acquire({ waitMs: Number(waitMs), pollMs: 20 });
if (result.kind !== 'acquired') { process.stdout.write(JSON.stringify(result) + '\\n'); process.exit(1); }
process.stdout.write('acquired ' + JSON.stringify(result.tookOverFrom) + '\\n');
if (mode === 'count') {
  const n = Number(readFileSync(counter, 'utf8'));
  await new Promise((r) => setTimeout(r, 30));
  writeFileSync(counter, String(n + 1));
  await lock.release();
} else {
  process.stdin.resume();
  process.stdin.on('end', async () => { await lock.release(); process.exit(0); });
}
`;

beforeAll(async () => {
  moduleDir = await mkdtemp(join(tmpdir(), 'pfexpose-lockmod-'));
  // The mutex and the modules it imports (state files read without links or blocking; liveness).
  for (const [dir, name] of [
    ['host', 'state-dir-mutex'],
    ['host', 'atomic-write'],
    ['host', 'run-command'],
    ['diagnostics', 'file-errors'],
    ['text', 'utf8-pieces'],
  ]) {
    const source = await readFile(new URL(`../../src/${dir}/${name}.ts`, import.meta.url), 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    await writeFile(
      join(moduleDir, `${name}.mjs`),
      js
        .replaceAll("from './atomic-write.js'", "from './atomic-write.mjs'")
        .replaceAll("from './run-command.js'", "from './run-command.mjs'")
        .replaceAll("from '../diagnostics/file-errors.js'", "from './file-errors.mjs'")
        .replaceAll("from '../text/utf8-pieces.js'", "from './utf8-pieces.mjs'"),
    );
  }
  await writeFile(join(moduleDir, 'holder.mjs'), HOLDER);
});
afterAll(async () => {
  await rm(moduleDir, { recursive: true, force: true });
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pfexpose-lock-'));
  lockPath = join(dir, 'lock');
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

function startHolder(args: string[]): {
  child: ChildProcess;
  firstLine: Promise<string>;
  done: Promise<number | null>;
} {
  const child = spawn(process.execPath, [join(moduleDir, 'holder.mjs'), ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  const firstLine = new Promise<string>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
    });
    child.on('close', () => resolve(out.split('\n')[0] ?? ''));
  });
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, firstLine, done };
}

describe('StateDirMutex in one process', () => {
  it('acquires, refuses a second holder naming the pid, and releases', async () => {
    const first = new StateDirMutex(lockPath, { command: 'apply' });
    const second = new StateDirMutex(lockPath, { command: 'watch' });
    expect(await first.acquire()).toMatchObject({
      kind: 'acquired',
      holder: { pid: process.pid, command: 'apply' },
      tookOverFrom: null,
    });
    const held = await second.acquire();
    expect(held).toMatchObject({ kind: 'held', holder: { pid: process.pid, command: 'apply' } });
    expect(held.kind === 'held' && held.message).toContain(`pid ${process.pid} (apply`);
    await first.release();
    expect((await second.acquire()).kind).toBe('acquired');
    await second.release();
  });

  it('takes over a lock whose process is gone', async () => {
    await writeFile(
      lockPath,
      JSON.stringify({ pid: 2147483646, startedAt: '2020-01-01T00:00:00.000Z', command: 'apply', token: 'dead' }),
    );
    const lock = new StateDirMutex(lockPath);
    expect(await lock.acquire()).toMatchObject({ kind: 'acquired', tookOverFrom: { pid: 2147483646, token: 'dead' } });
    await lock.release();
  });

  it('release does not remove a lock taken over by someone else', async () => {
    const first = new StateDirMutex(lockPath);
    await first.acquire();
    const thief = new StateDirMutex(lockPath, { isAlive: () => false });
    expect((await thief.acquire()).kind).toBe('acquired');
    await first.release();
    const content = JSON.parse(await readFile(lockPath, 'utf8')) as { token: string };
    expect(content.token).toBe(thief.holder?.token);
    await thief.release();
  });

  it('waits for an unreadable but recent lock file, and takes over an old one', async () => {
    await writeFile(lockPath, 'not json');
    expect((await new StateDirMutex(lockPath).acquire()).kind).toBe('held');
    const later = new StateDirMutex(lockPath);
    const { utimes } = await import('node:fs/promises');
    await utimes(lockPath, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    expect((await later.acquire()).kind).toBe('acquired');
    await later.release();
  });
});

describe('StateDirMutex refuses a lock file it cannot trust, at once', () => {
  it.each([
    ['a FIFO', async (path: string) => void (await execFileAsync('mkfifo', [path])), 'is not a regular file'],
    ['a link to /dev/zero', (path: string) => symlink('/dev/zero', path), 'is a symbolic link'],
    [
      'a link to a lock file',
      async (path: string) => {
        await writeFile(
          `${path}.real`,
          JSON.stringify({ pid: 2147483646, startedAt: 'x', command: 'apply', token: 'dead' }),
        );
        await symlink(`${path}.real`, path);
      },
      'is a symbolic link',
    ],
    [
      'world-writable',
      async (path: string) => {
        await writeFile(path, JSON.stringify({ pid: 2147483646, startedAt: 'x', command: 'apply', token: 'dead' }));
        await chmod(path, 0o666);
      },
      'writable by group or others',
    ],
  ])('%s', async (_name, plant, message) => {
    await plant(lockPath);
    const result = await new StateDirMutex(lockPath).acquire({ waitMs: 0 });
    expect(result.kind).toBe('failed');
    expect(result.kind === 'failed' && result.message).toContain(message);
  });

  it("another user's lock file", async () => {
    await writeFile(lockPath, JSON.stringify({ pid: 2147483646, startedAt: 'x', command: 'apply', token: 'dead' }));
    const result = await new StateDirMutex(lockPath, { uid: (process.geteuid?.() ?? 0) + 4242 }).acquire();
    expect(result.kind === 'failed' && result.message).toContain('is owned by uid');
  });

  it('creates its lock file 0600', async () => {
    const lock = new StateDirMutex(lockPath);
    await lock.acquire();
    expect((await stat(lockPath)).mode & 0o777).toBe(0o600);
    await lock.release();
  });
});

describe('StateDirMutex between processes', () => {
  it('a second process is refused while the first holds the lock, and gets it after release', async () => {
    const holder = startHolder([lockPath, '0']);
    expect(await holder.firstLine).toBe('acquired null');
    const mine = new StateDirMutex(lockPath);
    const held = await mine.acquire();
    expect(held).toMatchObject({ kind: 'held', holder: { pid: holder.child.pid, command: 'holder' } });
    const waiting = mine.acquire({ waitMs: 5000, pollMs: 20 });
    holder.child.stdin!.end();
    expect(await waiting).toMatchObject({ kind: 'acquired', tookOverFrom: null });
    expect(await holder.done).toBe(0);
    await mine.release();
  });

  it('takes over the lock of a process killed with SIGKILL', async () => {
    const holder = startHolder([lockPath, '0']);
    expect(await holder.firstLine).toBe('acquired null');
    holder.child.kill('SIGKILL');
    await holder.done;
    const mine = new StateDirMutex(lockPath);
    expect(await mine.acquire()).toMatchObject({ kind: 'acquired', tookOverFrom: { pid: holder.child.pid } });
    await mine.release();
  });

  it('four processes racing for the lock never interleave', async () => {
    const counter = join(dir, 'counter');
    await writeFile(counter, '0');
    const racers = Array.from({ length: 4 }, () => startHolder([lockPath, '20000', 'count', counter]));
    expect(await Promise.all(racers.map((racer) => racer.done))).toEqual([0, 0, 0, 0]);
    expect(await readFile(counter, 'utf8')).toBe('4');
  });
});
