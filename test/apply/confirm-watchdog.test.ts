// The commit-confirmed watchdog's waiting loop, with the clock and sleep in the test's hands: it
// leaves as soon as its own window is gone or replaced by another one, and touches pf only after
// the deadline of its own window.
import { closeSync, statSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApplyDeps } from '../../src/apply/apply-ruleset.js';
import {
  createConfirmWatchdogStarter,
  openWatchdogLog,
  watchConfirmDeadline,
  WATCHDOG_LOG,
} from '../../src/apply/confirm-watchdog.js';
import { StateDirMutex } from '../../src/host/state-dir-mutex.js';
import type { Pfctl } from '../../src/pf/pfctl-api.js';
import { StateDir, type PendingConfirm } from '../../src/apply/state-dir.js';

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
  deps = { pfctl, state, mutex: new StateDirMutex(state.mutexPath), now: () => new Date(clock) };
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

  it("leaves a window that is not its own, even past that window's deadline", async () => {
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
    const outcome = await watchConfirmDeadline(deps, {
      createdAt: WINDOW.createdAt,
      attempts: 1,
      sleep: () => Promise.resolve(),
    });
    expect(outcome.kind).toBe('failed');
    expect(pfctlCalls).toContain('showAnchor');
  });
});

describe('the watchdog log (issue 9, M2)', () => {
  const starter = (uid?: number) =>
    createConfirmWatchdogStarter({
      stateDir: root,
      pfctlProgram: '/nonexistent/pfctl',
      env: {},
      entry: process.execPath,
      ...(uid === undefined ? {} : { uid }),
    });

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

  it('is refused when another user owns it or others can write it', async () => {
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

describe('watchConfirmDeadline fires at the deadline (issue 11)', () => {
  // A working fake pf on a fake monotonic clock: each call is stamped with the clock's time.
  function timedDeps(): { deps: ApplyDeps; calls: { name: string; at: number }[]; advance: (ms: number) => void } {
    let mono = 1_000_000;
    let anchor = 'pass in quick on em0 inet proto tcp from any to 10.0.0.2 port = 80 flags S/SA keep state label "b"\n';
    const calls: { name: string; at: number }[] = [];
    const pfctl: Pfctl = {
      status: () => Promise.resolve({ kind: 'ok', enabled: true } as never),
      showMain: () => Promise.resolve({ kind: 'ok', nat: '', filter: '' } as never),
      showAnchor: () => {
        calls.push({ name: 'showAnchor', at: mono });
        return Promise.resolve({ kind: 'ok', nat: '', filter: anchor, tables: [] });
      },
      dryRun: () => Promise.resolve({ kind: 'ok', attempts: 1, warnings: [] }),
      load: (_name, text) => {
        calls.push({ name: 'load', at: mono });
        anchor = text;
        return Promise.resolve({ kind: 'ok', attempts: 1, warnings: [] });
      },
      killStates: () => Promise.resolve({ kind: 'ok', killed: 0 }),
    };
    const state = new StateDir(root);
    return {
      deps: {
        pfctl,
        state,
        mutex: new StateDirMutex(state.mutexPath),
        now: () => new Date(clock),
        monotonicNow: () => mono,
      },
      calls,
      advance: (ms) => {
        mono += ms;
        clock += ms;
      },
    };
  }

  it.each([
    ['a deadline between two polls', 60_123, 250],
    ['a deadline shorter than the read-ahead', 1_700, 250],
    ['a long poll interval', 10_050, 4_000],
  ])('%s: the load starts at the deadline, never before, never 100 ms after', async (_name, windowMs, pollMs) => {
    const { deps: timed, calls, advance } = timedDeps();
    const mono = timed.monotonicNow?.() ?? 0;
    const window: PendingConfirm = {
      ...WINDOW,
      previous: { ruleset: '', manifestDigest: '' },
      deadline: new Date(clock + windowMs).toISOString(),
      monotonicCreated: mono,
      monotonicDeadline: mono + windowMs,
    };
    await timed.state.writePendingConfirm(window);
    const outcome = await watchConfirmDeadline(timed, {
      createdAt: window.createdAt,
      pollMs,
      sleep: (ms) => {
        advance(ms);
        return Promise.resolve();
      },
    });
    expect(outcome.kind).toBe('reverted');
    const load = calls.find((c) => c.name === 'load');
    expect(load).toBeDefined();
    const late = (load?.at ?? 0) - (mono + windowMs);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(100);
    // The anchor was read before the deadline, so the revert at the deadline begins with the load.
    expect(calls.filter((c) => c.name === 'showAnchor' && c.at < mono + windowMs).length).toBeGreaterThanOrEqual(1);
    expect(calls.filter((c) => c.name === 'showAnchor' && c.at >= mono + windowMs && c.at < (load?.at ?? 0))).toEqual(
      [],
    );
  });

  it('does not use the read-ahead when another pfexpose process recorded a load since', async () => {
    const { deps: timed, calls, advance } = timedDeps();
    const mono = timed.monotonicNow?.() ?? 0;
    const window: PendingConfirm = {
      ...WINDOW,
      deadline: new Date(clock + 5000).toISOString(),
      monotonicCreated: mono,
      monotonicDeadline: mono + 5000,
    };
    await timed.state.writePendingConfirm(window);
    let recorded = false;
    await watchConfirmDeadline(timed, {
      createdAt: window.createdAt,
      sleep: async (ms) => {
        advance(ms);
        if (!recorded && calls.some((c) => c.name === 'showAnchor')) {
          recorded = true;
          await writeFile(join(root, 'current.json'), '{}');
        }
      },
    });
    const load = calls.find((c) => c.name === 'load');
    // Read again at the deadline, before the load.
    expect(calls.some((c) => c.name === 'showAnchor' && c.at >= mono + 5000 && c.at <= (load?.at ?? Infinity))).toBe(
      true,
    );
  });
});
