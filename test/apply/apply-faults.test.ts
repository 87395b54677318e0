// pfctl misbehaving under the apply core (the simulator's faults, in memory): failing, hanging past the
// timeout, busy, dying before or after the commit. pf must end in one full state every time.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyRuleset } from '../../src/apply/apply-ruleset.js';
import { normalizedLines } from '../../src/pf/rule-lines.js';
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
  type Bench,
} from './apply-fixtures.js';

let bench: Bench;
beforeEach(async () => {
  bench = await createBench();
});
afterEach(async () => {
  await bench.cleanup();
});

describe('apply when pfctl misbehaves', () => {
  it('refuses when pfctl fails outright, touching nothing', async () => {
    await bench.sim.setControl({ fail: '/dev/pf: Permission denied' });
    const refused = expectKind(await applyRuleset(bench.deps, request([WEB])), 'refused');
    expect(refused.reason).toContain('Permission denied');
    expect(await bench.sim.readAnchor(ANCHOR)).toBeUndefined();
  });

  it('keeps the previous rules when the load hangs past the timeout', async () => {
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    await bench.sim.setControl({ hangMs: 20_000, hangOn: ['load'] });
    const failed = expectKind(await applyRuleset(bench.depsWith({ timeoutMs: 600 }), request([WEB, DB])), 'failed');
    expect(failed.restored).toBe(true);
    expect(failed.reason).toContain('timed out');
    expect(await bench.sim.readAnchor(ANCHOR)).toBe(ruleset([WEB]));
    // Only what pf held before this first apply is recorded (for rollback), nothing of the failed load.
    const current = await bench.deps.state.readCurrent();
    expect(current.kind === 'ok' && [current.value.kind, normalizedLines(current.value.ruleset)]).toEqual([
      'initial',
      linesOf([WEB]),
    ]);
  });

  it('retries while pf is busy and counts the attempts', async () => {
    await bench.sim.setControl({ busyLoads: 2 });
    const applied = expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    expect(applied.attempts).toBe(3);
    expect(await bench.sim.loadCalls()).toHaveLength(3);
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
  });

  it('fails, keeping the previous rules, when pf stays busy', async () => {
    await bench.sim.writeAnchor(ANCHOR, ruleset([DB]));
    await bench.sim.setControl({ busyLoads: 10 });
    const failed = expectKind(await applyRuleset(bench.depsWith({ busyAttempts: 2 }), request([WEB])), 'failed');
    expect(failed.restored).toBe(true);
    expect(failed.reason).toContain('EBUSY');
    expect(await bench.sim.readAnchor(ANCHOR)).toBe(ruleset([DB]));
  });

  it.each([
    ['before-commit' as const, 2],
    ['after-commit' as const, 3],
  ])('survives pfctl dying %s, and a re-run ends consistent', async (dieWhen, loadsAfterFailure) => {
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    await bench.sim.setControl({ dieLoads: 1, dieWhen });
    const failed = expectKind(await applyRuleset(bench.deps, request([WEB, DB])), 'failed');
    expect(failed.restored).toBe(true);
    expect(failed.reason).toContain('SIGKILL');
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
    // after-commit: the new rules had landed, so the previous ones were loaded again.
    expect(await bench.sim.loadCalls()).toHaveLength(loadsAfterFailure - 1);

    expectKind(await applyRuleset(bench.deps, request([WEB, DB])), 'applied');
    expect(await bench.sim.loadCalls()).toHaveLength(loadsAfterFailure);
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB, DB]));
    const current = await bench.deps.state.readCurrent();
    expect(current.kind === 'ok' && current.value.ruleset).toBe(ruleset([WEB, DB]));
  });
});
