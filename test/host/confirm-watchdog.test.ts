// The commit-confirmed watchdog's waiting loop, with the clock and sleep in the test's hands: it
// leaves as soon as its own window is gone or replaced by another one, and touches pf only after
// the deadline of its own window.
import { closeSync, statSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApplyDeps } from '../../src/host/apply-ruleset.js';
import { createConfirmWatchdogStarter, openWatchdogLog, watchConfirmDeadline, WATCHDOG_LOG } from '../../src/host/confirm-watchdog.js';
import { ExclusiveLock } from '../../src/host/exclusive-lock.js';
import type { Pfctl } from '../../src/host/pfctl.js';
import { StateDir, type PendingConfirm } from '../../src/host/state-dir.js';

let root: string;
let deps: ApplyDeps;
let pfctlCalls: string[];
let clock: number;

const WINDOW: PendingConfirm = {
  anchor: 'pfexpose',
  deadline: '2030-01-01T00:01:00.000Z',
  previous: { ruleset: '', manifestDigest: '' },
  appliedDigest: 'x',
  pid: 1,
  createdAt: '2030-01-01T00:00:00.000Z',
};

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pfexpose-watchdog-'));
  const state = new StateDir(root);
  pfctlCalls = [];
  const refuse = (name: string) => () => {
    pfctlCalls.push(name);
    return Promise.resolve({ kind: 'failed' as const, message: 'no pf here', exitCode: 1, stderr: '' });
  };
  const pfctl: Pfctl = {
    status: refuse('status'),
    showMain: refuse('showMain'),
    showAnchor: refuse('showAnchor'),
    dryRun: refuse('dryRun'),
    load: refuse('load'),
    killStates: refuse('killStates'),
  };
  clock = Date.parse('2030-01-01T00:00:00.000Z');
  deps = { pfctl, state, lock: new ExclusiveLock(state.lockPath), now: () => new Date(clock) };
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('watchConfirmDeadline', () => {
  it('leaves when its window is cleared before the deadline', async () => {
    await deps.state.writePendingConfirm(WINDOW);
    let sleeps = 0;
    const outcome = await watchConfirmDeadline(deps, {
      createdAt: WINDOW.createdAt,
      sleep: async (ms) => {
        sleeps += 1;
        clock += ms;
        if (sleeps === 3) await deps.state.clearPendingConfirm();
      },
    });
    expect(outcome).toEqual({ kind: 'none' });
    expect(pfctlCalls).toEqual([]);
  });

  it('leaves a window that is not its own, even past that window\'s deadline', async () => {
    await deps.state.writePendingConfirm({ ...WINDOW, createdAt: '2030-01-01T00:00:30.000Z' });
    clock = Date.parse('2030-01-01T00:02:00.000Z');
    const outcome = await watchConfirmDeadline(deps, { createdAt: WINDOW.createdAt, sleep: () => Promise.resolve() });
    expect(outcome).toEqual({ kind: 'none' });
    expect(pfctlCalls).toEqual([]);
    expect((await deps.state.readPendingConfirm()).kind).toBe('ok');
  });

  it('tries to revert its own window once the deadline has passed', async () => {
    await deps.state.writePendingConfirm(WINDOW);
    clock = Date.parse('2030-01-01T00:02:00.000Z');
    const outcome = await watchConfirmDeadline(deps, { createdAt: WINDOW.createdAt, attempts: 1, sleep: () => Promise.resolve() });
    expect(outcome.kind).toBe('failed');
    expect(pfctlCalls).toContain('showAnchor');
  });
});

describe('the watchdog log (issue 9, M2)', () => {
  const starter = (uid?: number) =>
    createConfirmWatchdogStarter({ stateDir: root, pfctlProgram: '/nonexistent/pfctl', env: {}, entry: process.execPath, ...(uid === undefined ? {} : { uid }) });

  it('is refused when it is a symbolic link, and nothing is written through it', async () => {
    const target = join(root, 'elsewhere.log');
    await writeFile(target, 'before\n');
    await symlink(target, join(root, WATCHDOG_LOG));
    const failure = await starter()(WINDOW);
    expect(failure).toContain('is a symbolic link');
    expect(await readFile(target, 'utf8')).toBe('before\n');
  });

  it('a dangling link is refused too: nothing is created where it points', async () => {
    await symlink(join(root, 'created-by-the-link.log'), join(root, WATCHDOG_LOG));
    expect(await starter()(WINDOW)).toContain('is a symbolic link');
    await expect(stat(join(root, 'created-by-the-link.log'))).rejects.toThrow(/ENOENT/);
  });

  it("is refused when another user owns it or others can write it", async () => {
    await writeFile(join(root, WATCHDOG_LOG), '');
    expect(await starter((process.geteuid?.() ?? 0) + 4242)(WINDOW)).toContain('is owned by uid');
    await chmod(join(root, WATCHDOG_LOG), 0o666);
    expect(await starter()(WINDOW)).toContain('writable by group or others');
  });

  it('is created 0600', () => {
    const opened = openWatchdogLog(join(root, 'new.log'), process.geteuid?.() ?? null);
    expect(typeof opened).toBe('object');
    if (typeof opened === 'object') closeSync(opened.fd);
    expect(statSync(join(root, 'new.log')).mode & 0o777).toBe(0o600);
  });
});
