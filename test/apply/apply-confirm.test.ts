// Rollback and commit-confirmed against the simulator, with the clock in the test's hands. The
// detached watchdog itself is exercised end to end in test/e2e/apply.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyRuleset, confirmApply, revertExpiredConfirm, rollbackRuleset } from '../../src/host/apply-ruleset.js';
import { ANCHOR, anchorLines, createBench, DB, expectKind, linesOf, request, ruleset, WEB, WEB_TLS, type Bench } from './apply-fixtures.js';

let bench: Bench;
beforeEach(async () => {
  bench = await createBench();
});
afterEach(async () => {
  await bench.cleanup();
});

describe('rollback', () => {
  it('refuses without an earlier ruleset, then loads the one before the current, and swaps back', async () => {
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    expect(expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR }), 'refused').reason).toContain('nothing to roll back to');
    expectKind(await applyRuleset(bench.deps, request([WEB, DB])), 'applied');
    const back = expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR }), 'applied');
    expect(back.removed).toHaveLength(2);
    expect(await bench.sim.readAnchor(ANCHOR)).toBe(ruleset([WEB]));
    const current = await bench.deps.state.readCurrent();
    expect(current.kind === 'ok' && current.value.manifestDigest).toBe('digest-1');
    expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR }), 'applied');
    expect(await bench.sim.readAnchor(ANCHOR)).toBe(ruleset([WEB, DB]));
  });
});

describe('commit-confirmed', () => {
  it('blocks other applies while waiting; the next apply reverts an expired record first', async () => {
    let clock = new Date('2030-01-01T00:00:00Z');
    const deps = { ...bench.deps, now: () => clock, startConfirmWatchdog: () => Promise.resolve(null) };
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
    const deps = { ...bench.deps, now: () => clock, startConfirmWatchdog: () => Promise.resolve(null) };
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    expectKind(await applyRuleset(deps, request([DB], { confirmSeconds: 5 })), 'applied');
    clock = new Date('2030-01-01T00:00:06Z');
    expect(await confirmApply(deps)).toMatchObject({ kind: 'too-late', revert: { kind: 'reverted', anchor: ANCHOR } });
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
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
