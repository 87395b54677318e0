// The apply core told to stop (ApplyDeps.interrupt, aborted by the CLI on SIGINT/SIGHUP/SIGTERM):
// no load starts after that, and a load already under way runs to its end, restore included.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyRuleset, rollbackRuleset, type ApplyDeps } from '../../src/apply/apply-ruleset.js';
import { confirmApply } from '../../src/apply/confirm-window.js';
import { StateDirMutex } from '../../src/host/state-dir-mutex.js';
import type { Pfctl } from '../../src/pf/pfctl-api.js';
import {
  ANCHOR,
  anchorLines,
  createBench,
  DB,
  expectKind,
  linesOf,
  request,
  WEB,
  type Bench,
} from './apply-fixtures.js';

// Generous limits from the spawned-simulator days; the in-memory pf needs far less.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

let bench: Bench;
beforeEach(async () => {
  bench = await createBench();
});
afterEach(async () => {
  await bench.cleanup();
});

/** The bench's pfctl, with `at` aborting the controller when that step starts. */
function interruptedAt(at: 'dryRun' | 'load', controller: AbortController, signal = 'SIGTERM'): Pfctl {
  const pfctl = bench.deps.pfctl;
  return {
    ...pfctl,
    dryRun: (anchor, text) => {
      if (at === 'dryRun') controller.abort(signal);
      return pfctl.dryRun(anchor, text);
    },
    load: (anchor, text) => {
      if (at === 'load') controller.abort(signal);
      return pfctl.load(anchor, text);
    },
  };
}

async function applied(exposures = [WEB]): Promise<void> {
  expectKind(await applyRuleset(bench.deps, request(exposures)), 'applied');
}

describe('an interrupt before the load', () => {
  it('already given: refused before anything is read or loaded, the lock given back', async () => {
    const controller = new AbortController();
    controller.abort('SIGINT');
    const refused = expectKind(
      await applyRuleset({ ...bench.deps, interrupt: controller.signal }, request([WEB])),
      'refused',
    );
    expect(refused.reason).toBe('interrupted by SIGINT before the load: nothing was loaded');
    expect(await bench.sim.calls()).toEqual([]);
    expect(bench.deps.mutex.holder).toBeNull();
    expect((await bench.deps.state.readCurrent()).kind).toBe('absent');
  });

  it('during the dry run: the dry run ends, no load starts, pf keeps what it held', async () => {
    await applied();
    const loads = (await bench.sim.loadCalls()).length;
    const controller = new AbortController();
    const deps: ApplyDeps = { ...bench.deps, pfctl: interruptedAt('dryRun', controller), interrupt: controller.signal };
    const refused = expectKind(await applyRuleset(deps, request([WEB, DB])), 'refused');
    expect(refused.reason).toBe('interrupted by SIGTERM before the load: nothing was loaded');
    expect(await bench.sim.loadCalls()).toHaveLength(loads);
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
    const current = await bench.deps.state.readCurrent();
    expect(current.kind === 'ok' && current.value.manifestDigest).toBe('digest-1');
  });

  it('--confirm: between opening the window and the load: the window is closed again, nothing loaded', async () => {
    await applied();
    const controller = new AbortController();
    const deps: ApplyDeps = {
      ...bench.deps,
      interrupt: controller.signal,
      startConfirmWatchdog: () => {
        controller.abort('SIGHUP');
        return Promise.resolve(null);
      },
    };
    const refused = expectKind(await applyRuleset(deps, request([WEB, DB], { confirmSeconds: 60 })), 'refused');
    expect(refused.reason).toBe('interrupted by SIGHUP before the load: nothing was loaded');
    expect((await bench.deps.state.readPendingConfirm()).kind).toBe('absent');
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
  });

  it('while waiting for the lock (--wait): the wait ends, refused', async () => {
    const other = new StateDirMutex(bench.deps.state.mutexPath, { command: 'other' });
    await bench.deps.state.ensure();
    expect((await other.acquire()).kind).toBe('acquired');
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort('SIGINT'), 300);
      // Waiting out the 10 minutes would time the test out: the interrupt must end the wait.
      const refused = expectKind(
        await applyRuleset({ ...bench.deps, interrupt: controller.signal }, request([WEB], { lockWaitMs: 600_000 })),
        'refused',
      );
      expect(refused.reason).toBe('interrupted by SIGINT before the load: nothing was loaded');
      expect(await bench.sim.calls()).toEqual([]);
    } finally {
      await other.release();
    }
  });

  it('rollback of a pending confirmation: refused, the window and pf as they were', async () => {
    await applied();
    const deps = { ...bench.deps, startConfirmWatchdog: () => Promise.resolve(null) };
    expectKind(await applyRuleset(deps, request([WEB, DB], { confirmSeconds: 60 })), 'applied');
    // Interrupted once the lock is held and the pending window read: at the revert.
    const late = new AbortController();
    const pfctl = bench.deps.pfctl;
    const refused = expectKind(
      await rollbackRuleset(
        {
          ...bench.deps,
          interrupt: late.signal,
          pfctl: {
            ...pfctl,
            showAnchor: (anchor) => {
              late.abort('SIGTERM');
              return pfctl.showAnchor(anchor);
            },
          },
        },
        { anchor: ANCHOR },
      ),
      'refused',
    );
    expect(refused.reason).toBe('interrupted by SIGTERM before the load: nothing was loaded');
    expect((await bench.deps.state.readPendingConfirm()).kind).toBe('ok');
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB, DB]));
  });

  it('confirm after the window closed: the revert is not started', async () => {
    await applied();
    // Both clocks move a minute past the 5 s window (the window closes on the monotonic clock).
    let clock = new Date('2030-01-01T00:00:00Z');
    let monotonic = 1_000_000;
    const deps = {
      ...bench.deps,
      now: () => clock,
      monotonicNow: () => monotonic,
      startConfirmWatchdog: () => Promise.resolve(null),
    };
    expectKind(await applyRuleset(deps, request([WEB, DB], { confirmSeconds: 5 })), 'applied');
    clock = new Date('2030-01-01T00:01:00Z');
    monotonic += 60_000;
    const late = new AbortController();
    const pfctl = bench.deps.pfctl;
    const outcome = await confirmApply({
      ...deps,
      interrupt: late.signal,
      pfctl: {
        ...pfctl,
        showAnchor: (anchor) => {
          late.abort('SIGINT');
          return pfctl.showAnchor(anchor);
        },
      },
    });
    expect(outcome).toEqual({
      kind: 'too-late',
      revert: { kind: 'refused', reason: 'interrupted by SIGINT before the load: nothing was loaded' },
    });
    expect((await bench.deps.state.readPendingConfirm()).kind).toBe('ok');
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB, DB]));
  });
});

describe('an interrupt once the load started', () => {
  it('the load runs to its end: read back and recorded', async () => {
    await applied();
    const controller = new AbortController();
    const deps: ApplyDeps = { ...bench.deps, pfctl: interruptedAt('load', controller), interrupt: controller.signal };
    const done = expectKind(await applyRuleset(deps, request([WEB, DB])), 'applied');
    expect(done.added).toEqual(linesOf([DB]));
    expect(controller.signal.aborted).toBe(true);
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB, DB]));
    const current = await bench.deps.state.readCurrent();
    expect(current.kind === 'ok' && current.value.manifestDigest).toBe('digest-2');
  });

  it('a load that fails after the interrupt is still put right: the previous ruleset is loaded again', async () => {
    await applied();
    await bench.sim.setControl({ dieLoads: 1, dieWhen: 'after-commit' });
    const controller = new AbortController();
    const deps: ApplyDeps = { ...bench.deps, pfctl: interruptedAt('load', controller), interrupt: controller.signal };
    const failed = expectKind(await applyRuleset(deps, request([WEB, DB])), 'failed');
    expect(failed.restored).toBe(true);
    expect(failed.reason).toContain('the previous ruleset was loaded again');
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
  });
});
