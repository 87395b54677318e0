// Rollback and commit-confirmed against the simulator, with the clock in the test's hands. The
// detached watchdog itself is exercised end to end in test/e2e/apply.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyRuleset, confirmApply, revertExpiredConfirm, rollbackRuleset, type ApplyDeps } from '../../src/host/apply-ruleset.js';
import { watchConfirmDeadline } from '../../src/host/confirm-watchdog.js';
import type { Pfctl } from '../../src/host/pfctl.js';
import { normalizedLines } from '../../src/host/read-deployed.js';
import { linesDigest, type PendingConfirm } from '../../src/host/state-dir.js';
import { ANCHOR, anchorLines, createBench, DB, expectKind, linesOf, request, ruleset, WEB, WEB_TLS, type Bench } from './apply-fixtures.js';

let bench: Bench;
beforeEach(async () => {
  bench = await createBench();
});
afterEach(async () => {
  await bench.cleanup();
});

describe('rollback', () => {
  it('refuses without any history, then loads the one before the current, and swaps back', async () => {
    expect(expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR }), 'refused').reason).toContain('nothing to roll back to');
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    expectKind(await applyRuleset(bench.deps, request([WEB, DB])), 'applied');
    const back = expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR }), 'applied');
    expect(back.removed).toHaveLength(2);
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

describe('commit-confirmed', () => {
  it('blocks other applies while waiting; the next apply reverts an expired record first', async () => {
    let clock = new Date('2030-01-01T00:00:00Z');
    // Time passes on both clocks (a wall-clock step alone closes no window: see the clock-step tests).
    const deps = { ...bench.deps, now: () => clock, monotonicNow: () => clock.getTime(), startConfirmWatchdog: () => Promise.resolve(null) };
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    expectKind(await applyRuleset(deps, request([WEB, DB], { confirmSeconds: 60 })), 'applied');
    expect(expectKind(await applyRuleset(deps, request([DB])), 'refused').reason).toContain('awaits confirmation');
    expect(await revertExpiredConfirm(deps)).toMatchObject({ kind: 'waiting' });
    clock = new Date('2030-01-01T00:01:01Z');
    const next = expectKind(await applyRuleset(deps, request([WEB, WEB_TLS])), 'applied');
    expect(next.revertedExpired).toBe(true);
    expect(next.warnings.join('\n')).toContain('was reverted first');
    expect(next.removed).toEqual([]);
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB, WEB_TLS]));
  });

  it('confirm after the deadline reverts instead, and says so', async () => {
    let clock = new Date('2030-01-01T00:00:00Z');
    // Time passes on both clocks (a wall-clock step alone closes no window: see the clock-step tests).
    const deps = { ...bench.deps, now: () => clock, monotonicNow: () => clock.getTime(), startConfirmWatchdog: () => Promise.resolve(null) };
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    expectKind(await applyRuleset(deps, request([DB], { confirmSeconds: 5 })), 'applied');
    clock = new Date('2030-01-01T00:00:06Z');
    expect(await confirmApply(deps)).toMatchObject({ kind: 'too-late', revert: { kind: 'reverted', anchor: ANCHOR } });
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
    // The history says what the revert took out: the agent holds it (src/agent/watch-agent.ts).
    const newest = await deps.state.readNewest(ANCHOR);
    expect(newest).toMatchObject({ kind: 'confirm-revert', undone: { manifestDigest: 'digest-1', linesDigest: linesDigest(linesOf([DB])) } });
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
    const lines = ruleset([WEB, DB]).split('\n').filter((l) => l !== '');
    const at = lines.findIndex((l) => l.startsWith('rdr') && l.includes('5432'));
    const crafted = [...lines.slice(0, at), ...lines.slice(at + 1), lines[at], ''].join('\n');
    const refused = expectKind(await applyRuleset(deps, request([WEB, DB], { ruleset: crafted, dialect: 'freebsd', confirmSeconds: 60 })), 'refused');
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
    expect(expectKind(await applyRuleset(deps, request([WEB, DB], { confirmSeconds: 60 })), 'failed').restored).toBe(true);
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
    expect(normalizedLines(pending.kind === 'ok' ? (pending.value.previous?.ruleset ?? '') : '')).toEqual(linesOf([WEB]));
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
