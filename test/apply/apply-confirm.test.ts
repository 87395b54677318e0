// Rollback and commit-confirmed against the in-memory pf, with the clock in the test's hands. The
// detached watchdog itself is exercised end to end in test/e2e/apply.test.ts.
import { chmod, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/host/atomic-write.js';
import { applyRuleset, rollbackRuleset, type ApplyDeps } from '../../src/apply/apply-ruleset.js';
import { confirmApply, readAheadForRevert, revertExpiredConfirm } from '../../src/apply/confirm-window.js';
import { watchConfirmDeadline } from '../../src/apply/confirm-watchdog.js';
import type { Pfctl } from '../../src/pf/pfctl-api.js';
import { linesDigest, normalizedLines, sha256 } from '../../src/pf/rule-lines.js';
import { historyName, StateDir, type PendingConfirm } from '../../src/apply/state-dir.js';
import {
  ANCHOR,
  anchorLines,
  createBench,
  DB,
  expectKind,
  linesOf,
  request,
  ruleset,
  WEB,
  WEB_TLS,
  type Bench,
} from './apply-fixtures.js';

let bench: Bench;
beforeEach(async () => {
  bench = await createBench();
});
afterEach(async () => {
  await bench.cleanup();
});

describe('rollback', () => {
  it('refuses without any history, then loads the one before the current, and swaps back', async () => {
    expect(expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR }), 'refused').reason).toContain(
      'nothing to roll back to',
    );
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    expectKind(await applyRuleset(bench.deps, request([WEB, DB])), 'applied');
    const back = expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR }), 'applied');
    // DB's rdr, pass out and pass in rules.
    expect(back.removed).toHaveLength(3);
    expect(back.rolledBackToInitial).toBeUndefined();
    expect(await bench.sim.readAnchor(ANCHOR)).toBe(ruleset([WEB]));
    const current = await bench.deps.state.readCurrent();
    expect(current.kind === 'ok' && current.value.manifestDigest).toBe('digest-1');
    // The history says it was a rollback, and what it took out (for the agent's hold).
    expect(current.kind === 'ok' && current.value).toMatchObject({
      kind: 'rollback',
      undone: { manifestDigest: 'digest-2', linesDigest: linesDigest(linesOf([WEB, DB])) },
    });
    expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR }), 'applied');
    expect(await bench.sim.readAnchor(ANCHOR)).toBe(ruleset([WEB, DB]));
  });

  it('rolls the first apply back to what the anchor held before it', async () => {
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    const history = await bench.deps.state.readHistory();
    expect(history.entries.map((entry) => [entry.kind, entry.ruleset])).toEqual([
      ['apply', ruleset([WEB])],
      ['initial', ''],
    ]);
    const back = expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR }), 'applied');
    expect(back.rolledBackToInitial).toBe(true);
    expect(back.removed).toEqual(linesOf([WEB]));
    expect(await anchorLines(bench.sim)).toEqual([]);
    // And back again.
    expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR }), 'applied');
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
  });

  it('keeps rules someone else had put in the anchor as the state before the first apply', async () => {
    await bench.sim.writeAnchor(ANCHOR, ruleset([DB]));
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR }), 'applied');
    expect(await anchorLines(bench.sim)).toEqual(linesOf([DB]));
  });

  it('adds no history entry when a drift repair puts the current ruleset back', async () => {
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    await bench.sim.writeAnchor(ANCHOR, '');
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    expect((await bench.deps.state.readHistory()).entries.map((entry) => entry.kind)).toEqual(['apply', 'initial']);
  });
});

/**
 * bench's deps on a clock the test moves, wall and monotonic time together (a wall-clock step
 * alone closes no window: see the clock-step tests), with no watchdog process started.
 */
function clockedDeps(start: string): { deps: ApplyDeps; setClock: (at: string) => void } {
  let clock = new Date(start);
  const deps: ApplyDeps = {
    ...bench.deps,
    now: () => clock,
    monotonicNow: () => clock.getTime(),
    startConfirmWatchdog: () => Promise.resolve(null),
  };
  return { deps, setClock: (at) => (clock = new Date(at)) };
}

describe('commit-confirmed', () => {
  it('blocks other applies while waiting; the next apply reverts an expired record first', async () => {
    const { deps, setClock } = clockedDeps('2030-01-01T00:00:00Z');
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    expectKind(await applyRuleset(deps, request([WEB, DB], { confirmSeconds: 60 })), 'applied');
    expect(expectKind(await applyRuleset(deps, request([DB])), 'refused').reason).toContain('awaits confirmation');
    expect(await revertExpiredConfirm(deps)).toMatchObject({ kind: 'waiting' });
    setClock('2030-01-01T00:01:01Z');
    const next = expectKind(await applyRuleset(deps, request([WEB, WEB_TLS])), 'applied');
    expect(next.revertedExpired).toBe(true);
    expect(next.warnings.join('\n')).toContain('was reverted first');
    expect(next.removed).toEqual([]);
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB, WEB_TLS]));
  });

  it('confirm after the deadline reverts instead, and says so', async () => {
    const { deps, setClock } = clockedDeps('2030-01-01T00:00:00Z');
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    expectKind(await applyRuleset(deps, request([DB], { confirmSeconds: 5 })), 'applied');
    setClock('2030-01-01T00:00:06Z');
    expect(await confirmApply(deps)).toMatchObject({ kind: 'too-late', revert: { kind: 'reverted', anchor: ANCHOR } });
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
    // The history says what the revert took out: the agent holds it (src/agent/watch-agent.ts).
    const newest = await deps.state.readNewest(ANCHOR);
    expect(newest).toMatchObject({
      kind: 'confirm-revert',
      undone: { manifestDigest: 'digest-1', linesDigest: linesDigest(linesOf([DB])) },
    });
  });

  it('drops the window and ends its watchdog when pfctl rejects the load: nothing awaits confirmation', async () => {
    let watchdog: Promise<unknown> = Promise.resolve();
    const deps: ApplyDeps = {
      ...bench.deps,
      // What pfctl checks only when it loads (a table limit, an interface gone since): the dry
      // run passes, the load is refused.
      pfctl: { ...bench.deps.pfctl, dryRun: () => Promise.resolve({ kind: 'ok', attempts: 1, warnings: [] }) },
      startConfirmWatchdog: (pending: PendingConfirm) => {
        watchdog = watchConfirmDeadline(bench.depsWith({}), { createdAt: pending.createdAt, pollMs: 10 });
        return Promise.resolve(null);
      },
    };
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    const lines = ruleset([WEB, DB])
      .split('\n')
      .filter((l) => l !== '');
    const at = lines.findIndex((l) => l.startsWith('rdr') && l.includes('5432'));
    const crafted = [...lines.slice(0, at), ...lines.slice(at + 1), lines[at], ''].join('\n');
    const refused = expectKind(
      await applyRuleset(deps, request([WEB, DB], { ruleset: crafted, dialect: 'freebsd', confirmSeconds: 60 })),
      'refused',
    );
    expect(refused.reason).toContain('nothing was loaded');
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
    expect((await deps.state.readPendingConfirm()).kind).toBe('absent');
    expect(await watchdog).toEqual({ kind: 'none' });
    expect(await confirmApply(deps)).toEqual({ kind: 'none' });
    expectKind(await applyRuleset(bench.deps, request([WEB, DB])), 'applied');
  });

  it('drops the window when a failed load was undone, keeps it when pf could not be put back', async () => {
    const deps = { ...bench.deps, startConfirmWatchdog: () => Promise.resolve(null) };
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    await bench.sim.setControl({ dieLoads: 1, dieWhen: 'before-commit' });
    expect(expectKind(await applyRuleset(deps, request([WEB, DB], { confirmSeconds: 60 })), 'failed').restored).toBe(
      true,
    );
    expect((await deps.state.readPendingConfirm()).kind).toBe('absent');

    // The load commits but pfctl dies before saying so; putting the previous rules back fails.
    await bench.sim.setControl({});
    let loads = 0;
    const real = bench.deps.pfctl;
    const pfctl: Pfctl = {
      ...real,
      load: async (anchor, text) => {
        loads += 1;
        if (loads === 1) await real.load(anchor, text);
        return { kind: 'failed', message: 'pfctl was killed by SIGKILL', exitCode: null, stderr: '' };
      },
    };
    const failed = expectKind(await applyRuleset({ ...deps, pfctl }, request([DB], { confirmSeconds: 60 })), 'failed');
    expect(failed.restored).toBe(false);
    expect(failed.reason).toContain('the confirmation watchdog will try to load the previous ruleset again at');
    const pending = await deps.state.readPendingConfirm();
    expect(normalizedLines(pending.kind === 'ok' ? (pending.value.previous?.ruleset ?? '') : '')).toEqual(
      linesOf([WEB]),
    );
  });

  it('rollback undoes an apply awaiting confirmation', async () => {
    const deps = { ...bench.deps, startConfirmWatchdog: () => Promise.resolve(null) };
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    expectKind(await applyRuleset(deps, request([DB], { confirmSeconds: 60 })), 'applied');
    expectKind(await rollbackRuleset(deps, { anchor: ANCHOR }), 'applied');
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
    expect((await deps.state.readPendingConfirm()).kind).toBe('absent');
  });

  it('loads nothing when the watchdog cannot start', async () => {
    const deps = { ...bench.deps, startConfirmWatchdog: () => Promise.resolve('no fork for you') };
    const refused = expectKind(await applyRuleset(deps, request([WEB], { confirmSeconds: 5 })), 'refused');
    expect(refused.reason).toContain('no fork for you');
    expect(await bench.sim.loadCalls()).toHaveLength(0);
    expect((await deps.state.readPendingConfirm()).kind).toBe('absent');
  });
});

// ---------------------------------------------------------------------------------------------
// The state directory is not trusted blindly (issue 9, M2 and M10): a record is loaded only when it
// holds pfexpose's own rules, and a missing record is never papered over.

const FOREIGN = 'pass in quick all\n';

async function plantPending(stateDir: string, previous: string, deadline: string): Promise<void> {
  const pending = {
    anchor: ANCHOR,
    deadline,
    previous: { ruleset: previous, manifestDigest: '' },
    appliedDigest: sha256(ruleset([WEB])),
    pid: 2147483646,
    createdAt: '2020-01-01T00:00:00.000Z',
  };
  await writeFile(join(stateDir, 'pending-confirm.json'), `${JSON.stringify(pending)}\n`, { mode: 0o600 });
}

describe("a planted pending-confirm.json whose previous ruleset is not pfexpose's own", { timeout: 120_000 }, () => {
  it.each([
    ['after its deadline', '2020-01-01T00:01:00.000Z'],
    ['before its deadline', '2999-01-01T00:00:00.000Z'],
  ])(
    "%s: is refused by confirm, apply, the agent's and the watchdog's revert, and rollback; pf unchanged",
    async (_name, deadline) => {
      await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
      await plantPending(bench.stateDir, FOREIGN, deadline);
      const loadsBefore = (await bench.sim.loadCalls()).length;
      const confirmed = await confirmApply(bench.deps);
      expect(confirmed.kind).toBe('refused');
      expect(confirmed.kind === 'refused' && confirmed.reason).toContain('pending-confirm.json');
      expect(confirmed.kind === 'refused' && confirmed.reason).toContain("not pfexpose's own");
      expect(confirmed.kind === 'refused' && confirmed.reason).toContain('remove it');
      expect(expectKind(await applyRuleset(bench.deps, request([WEB, DB])), 'refused').reason).toContain(
        "not pfexpose's own",
      );
      // The agent settles a window through revertExpiredConfirm, as the watchdog does.
      expect(await revertExpiredConfirm(bench.deps)).toMatchObject({ kind: 'refused' });
      expect(await watchConfirmDeadline(bench.deps, { pollMs: 1 })).toMatchObject({ kind: 'refused' });
      expect(expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR }), 'refused').reason).toContain(
        "not pfexpose's own",
      );
      expect((await bench.sim.loadCalls()).length).toBe(loadsBefore);
      expect(await bench.sim.readAnchor(ANCHOR)).toBe(ruleset([WEB]));
    },
  );

  it('a record of another anchor name, or one pf would read as the main ruleset, is refused too', async () => {
    const pending = {
      anchor: '',
      deadline: '2020-01-01T00:01:00.000Z',
      previous: null,
      appliedDigest: 'x',
      pid: 1,
      createdAt: 'x',
    };
    await writeFile(join(bench.stateDir, 'pending-confirm.json'), JSON.stringify(pending), { mode: 0o600 });
    expect(await confirmApply(bench.deps)).toMatchObject({ kind: 'refused' });
    expect((await bench.sim.loadCalls()).length).toBe(0);
  });
});

describe("rollback loads only history entries of pfexpose's own rules", { timeout: 120_000 }, () => {
  it('refuses a planted history entry with foreign rules, naming the file; pf unchanged', async () => {
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    expectKind(await applyRuleset(bench.deps, request([WEB, DB])), 'applied');
    // Replace the entry rollback would go to (the first apply) with foreign rules, digest and all.
    const history = await bench.deps.state.readHistory();
    const target = history.entries[1];
    const file = join(bench.stateDir, 'history', historyName(target!.sequence));
    const planted = { ...target, ruleset: FOREIGN, rulesetDigest: sha256(FOREIGN) };
    await writeFile(file, JSON.stringify(planted), { mode: 0o600 });
    const loadsBefore = (await bench.sim.loadCalls()).length;
    const refused = expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR }), 'refused');
    expect(refused.reason).toContain(file);
    expect(refused.reason).toContain('line 1 "pass in quick all"');
    expect(refused.reason).toContain('delete that file');
    expect((await bench.sim.loadCalls()).length).toBe(loadsBefore);
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB, DB]));
  });

  it('refuses to go back to hand-written rules the anchor held before the first apply', async () => {
    await bench.sim.writeAnchor(ANCHOR, 'pass in quick on em0 proto tcp from any to any port = 22\n');
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    const refused = expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR }), 'refused');
    expect(refused.reason).toContain('before pfexpose first loaded it');
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
  });
});

describe("a restore puts back what pf printed only when it is pfexpose's own", { timeout: 120_000 }, () => {
  it('empties the anchor instead of loading foreign rules back, and says so', async () => {
    await bench.sim.writeAnchor(ANCHOR, FOREIGN);
    // The new rules go in, but pfctl dies before it says so: the apply must restore.
    await bench.sim.setControl({ dieLoads: 1, dieWhen: 'after-commit' });
    const failed = expectKind(await applyRuleset(bench.deps, request([WEB])), 'failed');
    expect(failed.restored).toBe(false);
    expect(failed.reason).toContain('the anchor was emptied');
    expect(failed.reason).toContain('pass in quick all');
    expect(await anchorLines(bench.sim)).toEqual([]);
  });

  it("puts pfexpose's own previous rules back as before", async () => {
    await bench.sim.writeAnchor(ANCHOR, ruleset([DB]));
    await bench.sim.setControl({ dieLoads: 1, dieWhen: 'after-commit' });
    const failed = expectKind(await applyRuleset(bench.deps, request([WEB])), 'failed');
    expect(failed.restored).toBe(true);
    expect(await anchorLines(bench.sim)).toEqual(linesOf([DB]));
  });

  it('apply --confirm over foreign rules reverts to the empty anchor, never to them', async () => {
    const { deps, setClock } = clockedDeps('2030-01-01T00:00:00Z');
    await bench.sim.writeAnchor(ANCHOR, FOREIGN);
    const applied = expectKind(await applyRuleset(deps, request([WEB], { confirmSeconds: 5 })), 'applied');
    expect(applied.warnings.join('\n')).toContain('the anchor is emptied rather than given them back');
    setClock('2030-01-01T00:00:06Z');
    expect(await revertExpiredConfirm(deps)).toMatchObject({ kind: 'reverted' });
    expect(await anchorLines(bench.sim)).toEqual([]);
  });
});

describe('the state directory itself', { timeout: 120_000 }, () => {
  it('a group- or world-writable state directory is refused before pf is touched', async () => {
    await chmod(bench.stateDir, 0o777);
    const refused = expectKind(await applyRuleset(bench.deps, request([WEB])), 'refused');
    expect(refused.reason).toContain('writable by group or others (mode 0777)');
    expect(await rollbackRuleset(bench.deps, { anchor: ANCHOR })).toMatchObject({ kind: 'refused' });
    expect(await confirmApply(bench.deps)).toMatchObject({ kind: 'refused' });
    expect((await bench.sim.loadCalls()).length).toBe(0);
  });

  it('a symbolic link in place of history/ is refused, and nothing is written through it', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'pfexpose-elsewhere-'));
    try {
      await symlink(elsewhere, join(bench.stateDir, 'history'));
      expect(expectKind(await applyRuleset(bench.deps, request([WEB])), 'refused').reason).toContain(
        'is a symbolic link',
      );
      expect(await readdir(elsewhere)).toEqual([]);
      expect((await bench.sim.loadCalls()).length).toBe(0);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});

describe('a full disk after the load (M10)', { timeout: 120_000 }, () => {
  const fullDisk = (): Promise<void> =>
    Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));

  it('fails the apply, saying pf holds the new ruleset without a record; rollback then refuses, a later apply records it', async () => {
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    let full = true;
    const state = new StateDir(bench.stateDir, {
      writeFile: (path, data) => (full ? fullDisk() : writeFileAtomic(path, data, 0o600)),
    });
    const deps: ApplyDeps = { ...bench.deps, state };
    const failed = expectKind(await applyRuleset(deps, request([WEB, DB])), 'failed');
    expect(failed.restored).toBe(false);
    expect(failed.reason).toContain('pf holds the new ruleset, but recording it');
    expect(failed.reason).toContain('ENOSPC');
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB, DB]));
    // Rollback does not guess what came before a ruleset no record knows.
    const loads = (await bench.sim.loadCalls()).length;
    expect(expectKind(await rollbackRuleset(deps, { anchor: ANCHOR }), 'refused').reason).toContain(
      'does not record as its newest',
    );
    expect((await bench.sim.loadCalls()).length).toBe(loads);
    // The same apply once there is room: nothing loaded, the record written.
    full = false;
    expectKind(await applyRuleset(deps, request([WEB, DB])), 'unchanged');
    expect((await bench.sim.loadCalls()).length).toBe(loads);
    expectKind(await rollbackRuleset(deps, { anchor: ANCHOR }), 'applied');
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
  });

  it('the first apply loads nothing when what the anchor held cannot be recorded', async () => {
    const state = new StateDir(bench.stateDir, { writeFile: fullDisk });
    const refused = expectKind(await applyRuleset({ ...bench.deps, state }, request([WEB])), 'refused');
    expect(refused.reason).toContain('nothing was loaded');
    expect((await bench.sim.loadCalls()).length).toBe(0);
    // And rollback never goes to the empty ruleset for want of a record.
    expect(await rollbackRuleset({ ...bench.deps, state }, { anchor: ANCHOR })).toMatchObject({ kind: 'refused' });
  });
});

describe('confirm windows and clock steps', { timeout: 120_000 }, () => {
  it('a wall clock stepped past the deadline reverts nothing early: apply still waits, confirm still keeps it', async () => {
    let wall = new Date('2030-01-01T00:00:00Z');
    let monotonic = 1_000_000;
    const deps = {
      ...bench.deps,
      now: () => wall,
      monotonicNow: () => monotonic,
      startConfirmWatchdog: () => Promise.resolve(null),
    };
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    expectKind(await applyRuleset(deps, request([WEB, DB], { confirmSeconds: 60 })), 'applied');
    wall = new Date('2030-01-02T00:00:00Z'); // a step of a day; 10 s really passed
    monotonic += 10_000;
    expect(await revertExpiredConfirm(deps)).toMatchObject({ kind: 'waiting' });
    expect(await revertExpiredConfirm(deps, { sameBoot: true })).toMatchObject({ kind: 'waiting' });
    expect(expectKind(await applyRuleset(deps, request([DB])), 'refused').reason).toContain('awaits confirmation');
    expect(await confirmApply(deps)).toMatchObject({ kind: 'confirmed' });
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB, DB]));
  });

  it('a read-ahead that found the previous ruleset is read again: the apply it predates was killed between its load and its record', async () => {
    const { deps, setClock } = clockedDeps('2030-01-01T00:00:00Z');
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    const pending: PendingConfirm = {
      anchor: ANCHOR,
      deadline: '2030-01-01T00:00:05.000Z',
      previous: { ruleset: ruleset([WEB]), manifestDigest: 'digest-web' },
      appliedDigest: sha256(ruleset([WEB, DB])),
      pid: process.pid,
      createdAt: '2030-01-01T00:00:00.000Z',
      manifestDigest: 'digest-web-db',
      monotonicCreated: Date.parse('2030-01-01T00:00:00Z'),
      monotonicDeadline: Date.parse('2030-01-01T00:00:05Z'),
    };
    await deps.state.writePendingConfirm(pending);
    // The watchdog starts before the load and reads ahead: the anchor still holds what it reverts to.
    const ahead = await readAheadForRevert(deps, pending);
    expect(ahead?.deployed.lines).toEqual(linesOf([WEB]));
    // The apply's load lands; the apply is killed before it records it, so the state's mark is the same.
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB, DB]));
    setClock('2030-01-01T00:00:06Z');
    expect(await revertExpiredConfirm(deps, { sameBoot: true, readAhead: ahead })).toMatchObject({ kind: 'reverted' });
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
  });

  it('the watchdog reverts at its deadline on the monotonic clock even when the wall clock was stepped back', async () => {
    let wall = new Date('2030-01-01T00:00:00Z');
    let monotonic = 1_000_000;
    const deps = {
      ...bench.deps,
      now: () => wall,
      monotonicNow: () => monotonic,
      startConfirmWatchdog: () => Promise.resolve(null),
    };
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    expectKind(await applyRuleset(deps, request([WEB, DB], { confirmSeconds: 60 })), 'applied');
    wall = new Date('2029-12-31T00:00:00Z'); // stepped back a day; 61 s really passed
    monotonic += 61_000;
    // Another process cannot tell a reboot from a step: it waits for both clocks.
    expect(await revertExpiredConfirm(deps)).toMatchObject({ kind: 'waiting' });
    expect(await watchConfirmDeadline(deps, { pollMs: 1 })).toMatchObject({ kind: 'reverted' });
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
  });
});
