// The agent's decision step alone: plain observations in, actions, events, health and memory out.
import { describe, expect, it } from 'vitest';
import type { CompileOutcome } from '../../src/compile/options.js';
import type { AgentMemory, Decision, Observation, Target } from '../../src/agent/decide.js';
import { decide, decideApplied } from '../../src/agent/decide.js';
import type { ApplyOutcome } from '../../src/apply/apply-ruleset.js';
import { OnceWhileItLasts } from '../../src/agent/once-while-it-lasts.js';
import type { DeployedRead } from '../../src/apply/read-deployed.js';
import { normalizedLines } from '../../src/pf/rule-lines.js';
import { emptyLockfile } from '../../src/model/lockfile.js';

const rule = (port: number): string => `pass in quick on em0 inet proto tcp to 192.0.2.1 port = ${port}\n`;
const ANCHOR = 'pfexpose';

function compiled(ruleset: string): CompileOutcome {
  return {
    ok: true,
    diagnostics: [],
    exposures: [],
    reaches: [],
    containerNames: [],
    ruleset,
    files: ['a.yaml'],
    manifestDigest: `digest of ${ruleset}`,
    host: null,
    lock: emptyLockfile(),
    lockChanged: false,
    lockPath: 'pfexpose.lock',
    texts: new Map(),
  };
}

function target(ruleset: string, over: Partial<Target> = {}): Target {
  const outcome = compiled(ruleset);
  return { ruleset, exposures: [], manifestDigest: outcome.manifestDigest, compiled: outcome, held: null, ...over };
}

function memory(over: Partial<AgentMemory> = {}): AgentMemory {
  return { reported: new OnceWhileItLasts(), knownRuleset: null, verified: null, ...over };
}

const HOLD = {
  kind: 'rollback' as const,
  ruleset: rule(22),
  manifestDigest: 'd',
  appliedAt: '2026-01-01T00:00:00.000Z',
  key: '3:2026-01-01T00:00:00.000Z',
};

const live = (text: string, tables: string[] = []): DeployedRead => ({
  kind: 'ok',
  lines: normalizedLines(text),
  text,
  tables,
  exists: true,
});

function reconcile(t: Target | null, deployed: DeployedRead, over: Partial<Observation> = {}): Observation {
  return {
    kind: 'reconcile',
    anchor: ANCHOR,
    target: t,
    targetLines: t === null ? null : normalizedLines(t.ruleset),
    announced: false,
    drift: 'correct',
    mark: 'mark-1',
    live: deployed,
    hooks: { kind: 'ok', warnings: [] },
    ...over,
  } as Observation;
}

const logged = (d: Decision): string[] => d.events.flatMap((e) => (e.kind === 'log' ? [`${e.level} ${e.event}`] : []));
const actions = (d: Decision): string[] =>
  d.actions.map((a) => (a.kind === 'apply' ? `apply drift=${a.drift}` : a.kind));

describe('decide: a change', () => {
  it('loads nothing when the ruleset did not change, and writes the lock file', () => {
    const t = target(rule(80));
    const d = decide(
      {
        kind: 'change',
        anchor: ANCHOR,
        target: t,
        targetLines: null,
        announced: false,
        loadFields: { files: 1 },
        healthy: true,
      },
      memory({ knownRuleset: rule(80) }),
    );
    expect(actions(d)).toEqual(['write-lock']);
    expect(logged(d)).toEqual(['info unchanged']);
    expect(d.health).toBeUndefined();
  });

  it('loads a new ruleset', () => {
    const d = decide(
      {
        kind: 'change',
        anchor: ANCHOR,
        target: target(rule(443)),
        targetLines: null,
        announced: false,
        loadFields: {},
        healthy: true,
      },
      memory({ knownRuleset: rule(80) }),
    );
    expect(actions(d)).toEqual(['apply drift=false']);
    expect(logged(d)).toEqual([]);
  });

  it('loads nothing while the manifests are what a hold undid; a problem with pf outranks the hold', () => {
    const held = target(rule(22), { compiled: null, held: HOLD });
    const change = (healthy: boolean): Observation => ({
      kind: 'change',
      anchor: ANCHOR,
      target: held,
      targetLines: null,
      announced: false,
      loadFields: {},
      healthy,
    });
    const first = decide(change(true), memory());
    expect(actions(first)).toEqual([]);
    expect(logged(first)).toEqual(['warn holding', 'info held']);
    expect(first.health?.status).toBe('held');
    const sick = decide(change(false), first.memory);
    expect(logged(sick)).toEqual(['info held']);
    expect(sick.health).toBeUndefined();
  });
});

describe('decide: a reconcile', () => {
  it('in sync: loads nothing, is ok, and remembers the anchor as verified under the mark', () => {
    const d = decide(reconcile(target(rule(80)), live(rule(80))), memory());
    expect(actions(d)).toEqual([]);
    expect(d.health).toEqual({ status: 'ok' });
    expect(logged(d)).toEqual(['debug in-sync']);
    expect(d.memory.knownRuleset).toBe(rule(80));
    expect(d.memory.verified).toEqual({ ruleset: rule(80), mark: 'mark-1' });
  });

  it('repairs drift from what the agent loaded, and reports one drift once', () => {
    const before = memory({ knownRuleset: rule(80) });
    const first = decide(reconcile(target(rule(80)), live(rule(22))), before);
    expect(actions(first)).toEqual(['apply drift=true']);
    expect(logged(first)).toEqual(['warn drift']);
    expect(first.events).toContainEqual({ kind: 'count', counter: 'driftDetected' });
    // The memory given is left as it was.
    expect(before.reported.has('drift')).toBe(false);

    const again = decide(reconcile(target(rule(80)), live(rule(22))), first.memory);
    expect(logged(again)).toEqual(['debug drift']);
    expect(again.events).not.toContainEqual({ kind: 'count', counter: 'driftDetected' });
  });

  it('under --drift warn leaves drift in place and says so in the health', () => {
    const d = decide(
      reconcile(target(rule(80)), live(rule(22)), { drift: 'warn' }),
      memory({ knownRuleset: rule(80) }),
    );
    expect(actions(d)).toEqual([]);
    expect(d.health).toEqual({
      status: 'drift',
      reason: 'the live anchor differs from the manifests (--drift warn)',
    });
  });

  it('loads a target that differs from an anchor the agent did not load, without calling it drift', () => {
    const d = decide(reconcile(target(rule(443)), live(rule(80))), memory({ knownRuleset: rule(80) }));
    expect(actions(d)).toEqual(['apply drift=false']);
    expect(logged(d)).toEqual([]);
  });

  it('while the manifests are invalid, guards the last good ruleset it is given', () => {
    const lastGood = target(rule(80));
    const d = decide(reconcile(lastGood, live('')), memory({ knownRuleset: rule(80) }));
    expect(d.actions).toEqual([{ kind: 'apply', target: lastGood, drift: true }]);
  });

  it('reports a preflight failure once while it lasts, and its end once', () => {
    const disabled: DeployedRead = { kind: 'pf-disabled', message: 'pf is disabled' };
    const first = decide(reconcile(target(rule(80)), disabled), memory());
    expect(actions(first)).toEqual([]);
    expect(logged(first)).toEqual(['error preflight-failed']);
    expect(first.health).toEqual({
      status: 'preflight-failed',
      reason: 'pf is disabled (and pf_enable="YES" in /etc/rc.conf)',
    });
    expect(first.events).toContainEqual({ kind: 'count', counter: 'preflightFailures' });
    expect(first.events).toContainEqual({ kind: 'gauge', gauge: 'preflightOk', value: 0 });

    const still = decide(reconcile(target(rule(80)), disabled, { announced: true }), first.memory);
    expect(logged(still)).toEqual(['info preflight-failed']);
    expect(still.events).not.toContainEqual({ kind: 'count', counter: 'preflightFailures' });

    const back = decide(reconcile(target(rule(80)), live(rule(80))), still.memory);
    expect(logged(back)).toEqual(['info preflight-ok', 'debug in-sync']);
    const after = decide(reconcile(target(rule(80)), live(rule(80))), back.memory);
    expect(logged(after)).toEqual(['debug in-sync']);
  });

  it('loads nothing while the main ruleset does not call the anchor', () => {
    const d = decide(
      reconcile(target(rule(80)), live(''), {
        hooks: { kind: 'refused', reason: 'the main pf ruleset does not call anchor "pfexpose"', linesToAdd: [] },
      }),
      memory(),
    );
    expect(actions(d)).toEqual([]);
    expect(d.health?.status).toBe('preflight-failed');
  });

  it('says once that the anchor cannot be read, and once that it can again', () => {
    const failed: DeployedRead = { kind: 'failed', message: 'pfctl timed out' };
    const first = decide(reconcile(target(rule(80)), failed, { hooks: null }), memory());
    expect(logged(first)).toEqual(['error anchor-unreadable']);
    expect(first.health).toEqual({ status: 'anchor-unreadable', reason: 'pfctl timed out' });
    const still = decide(reconcile(target(rule(80)), failed, { hooks: null }), first.memory);
    expect(logged(still)).toEqual(['debug anchor-unreadable']);
    const back = decide(reconcile(target(rule(80)), live(rule(80))), still.memory);
    expect(logged(back)).toEqual(['info anchor-readable', 'debug in-sync']);
  });

  it('says an unreadable anchor once while it lasts, whatever pfctl says on later reconciles', () => {
    const at = (message: string): DeployedRead => ({ kind: 'failed', message });
    let d = decide(reconcile(target(rule(80)), at('pfctl -s info timed out'), { hooks: null }), memory());
    const levels = [...logged(d)];
    for (const message of ['pfctl -sn exited 1', 'pfctl -s info timed out', 'pfctl -sn exited 1']) {
      d = decide(reconcile(target(rule(80)), at(message), { hooks: null }), d.memory);
      levels.push(...logged(d));
      expect(d.health).toEqual({ status: 'anchor-unreadable', reason: message });
    }
    expect(levels).toEqual([
      'error anchor-unreadable',
      'debug anchor-unreadable',
      'debug anchor-unreadable',
      'debug anchor-unreadable',
    ]);
  });

  it('warns once about tables pfexpose never writes', () => {
    const first = decide(reconcile(target(rule(80)), live(rule(80), ['bad'])), memory());
    expect(logged(first)).toEqual(['warn unmanaged-tables', 'debug in-sync']);
    const again = decide(reconcile(target(rule(80)), live(rule(80), ['bad'])), first.memory);
    expect(logged(again)).toEqual(['debug in-sync']);
  });

  it('with nothing to compare, only checks pf', () => {
    const d = decide(reconcile(null, live(rule(80))), memory());
    expect(actions(d)).toEqual([]);
    expect(logged(d)).toEqual(['debug nothing-to-compare']);
  });

  it('keeps a hold in place and announces it once', () => {
    const held = target(rule(22), { compiled: null, held: HOLD });
    const first = decide(reconcile(held, live(rule(22))), memory());
    expect(actions(first)).toEqual([]);
    expect(first.health?.status).toBe('held');
    expect(logged(first)).toEqual(['warn holding', 'debug in-sync']);
    const again = decide(reconcile(held, live(rule(22))), first.memory);
    expect(logged(again)).toEqual(['debug in-sync']);
  });
});

describe('decideApplied', () => {
  const applied = (over: Partial<Extract<ApplyOutcome, { kind: 'applied' }>> = {}): ApplyOutcome => ({
    kind: 'applied',
    previous: rule(22),
    attempts: 1,
    killedLabels: [],
    warnings: [],
    added: [],
    removed: [],
    revertedExpired: false,
    stateMark: 'mark-2',
    ...over,
  });
  const observe = (outcome: ApplyOutcome, drift = false) => ({
    anchor: ANCHOR,
    target: target(rule(80)),
    drift,
    outcome,
    durationMs: 5,
    loadFields: {},
    lines: { previous: normalizedLines(rule(22)), target: normalizedLines(rule(80)) },
  });

  it('a repaired drift: counted, the anchor known and verified, the lock written, then the warnings', () => {
    const d = decideApplied(observe(applied({ warnings: ['careful'] }), true), memory());
    expect(logged(d)).toEqual(['info drift-repaired']);
    expect(d.events).toContainEqual({ kind: 'count', counter: 'driftRepairs' });
    expect(d.health).toEqual({ status: 'ok' });
    expect(d.memory.knownRuleset).toBe(rule(80));
    expect(d.memory.verified).toEqual({ ruleset: rule(80), mark: 'mark-2' });
    expect(d.actions.map((a) => a.kind)).toEqual(['write-lock', 'say']);
  });

  it('reports a refused apply once while it lasts, and its end once', () => {
    const refused: ApplyOutcome = { kind: 'refused', reason: 'the state directory is locked', diagnostics: [] };
    const first = decideApplied(observe(refused), memory());
    expect(logged(first)).toEqual(['error apply-refused']);
    expect(first.health).toEqual({ status: 'apply-refused', reason: 'the state directory is locked' });
    const still = decideApplied(observe(refused), first.memory);
    expect(logged(still)).toEqual(['debug apply-refused']);
    const through = decideApplied(observe(applied()), still.memory);
    expect(logged(through)).toEqual(['info apply-ok', 'info applied']);
    expect(logged(decideApplied(observe(applied()), through.memory))).toEqual(['info applied']);
  });

  it('a failed load that could not restore forgets what pf holds', () => {
    const d = decideApplied(
      observe({ kind: 'failed', reason: 'pfctl: killed', restored: false }),
      memory({ knownRuleset: rule(22) }),
    );
    expect(d.memory.knownRuleset).toBeNull();
    expect(d.health).toEqual({ status: 'apply-failed', reason: 'pfctl: killed' });
    expect(d.actions).toEqual([]);
  });
});
