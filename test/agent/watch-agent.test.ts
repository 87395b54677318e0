// The agent's loop with every dependency faked and timers under the test's control: debouncing,
// invalid manifests, drift in both modes, signals' stop, pull results and gateway detection, the
// preflight on every reconcile, holding a rollback, confirm windows and warnings said once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAgentLog, createMemoryLog } from '../../src/agent/agent-log.js';
import { AgentMetrics } from '../../src/agent/agent-metrics.js';
import type { ManifestSnapshot } from '../../src/agent/manifest-cache.js';
import type { PullResult } from '../../src/agent/pull-checkout.js';
import { WatchAgent } from '../../src/agent/watch-agent.js';
import { DRIFT_RULES_SHOWN, formatDiagnostic } from '../../src/agent/decide.js';
import type { AgentDeps, AgentOptions } from '../../src/agent/watch-agent.js';
import type { CompileOutcome } from '../../src/compile/options.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import type { ApplyOutcome, ApplyRequest, PendingOutcome } from '../../src/apply/apply-ruleset.js';
import type { PreflightResult } from '../../src/apply/preflight.js';
import { linesDigest, normalizedLines } from '../../src/pf/rule-lines.js';
import { type AppliedRecord } from '../../src/apply/state-dir.js';

const rule = (port: number, on = 'em0'): string =>
  `pass in quick on ${on} inet proto tcp from any to 10.0.0.1 port = ${port} flags S/SA keep state label "p${port}"\n`;

/** The fake manifests: a list of ports, or "invalid". */
type Manifest = number[] | 'invalid';

const HOOKS_MISSING: PreflightResult = {
  kind: 'refused',
  reason: 'the main pf ruleset does not call anchor "pfexpose"',
  linesToAdd: ['anchor "pfexpose"'],
};

function outcomeFor(
  manifest: Manifest,
  gateway: string | undefined,
  needsGateway: boolean,
  warnings: Diagnostic[] = [],
): CompileOutcome {
  const base = {
    files: ['a.yaml'],
    manifestDigest: JSON.stringify(manifest),
    host: null,
    lock: { version: 1 as const, entries: [] },
    lockChanged: false,
    lockPath: 'pfexpose.lock.json',
    texts: new Map<string, string>(),
  };
  if (manifest === 'invalid' || (needsGateway && gateway === undefined)) {
    const code: 'schema' | 'gateway-missing' = manifest === 'invalid' ? 'schema' : 'gateway-missing';
    const failed: CompileOutcome = {
      ...base,
      ok: false,
      exposures: [],
      reaches: [],
      containerNames: [],
      ruleset: '',
      diagnostics: [
        { code, severity: 'error', message: 'bad', file: 'a.yaml', line: 3, column: 5, endLine: 3, endColumn: 6 },
      ],
    };
    return failed;
  }
  const ruleset = manifest.map((port) => rule(port, gateway)).join('');
  return {
    ...base,
    ok: true,
    exposures: manifest.map(() => ({}) as never),
    reaches: [],
    containerNames: [],
    ruleset,
    diagnostics: warnings,
  };
}

function warning(message: string, line: number): Diagnostic {
  return {
    code: 'family-mismatch',
    severity: 'warning',
    message,
    file: 'a.yaml',
    line,
    column: 9,
    endLine: line,
    endColumn: 20,
  };
}

interface Harness {
  agent: WatchAgent;
  log: ReturnType<typeof createMemoryLog>;
  metrics: AgentMetrics;
  /** The fake pf: the anchor's text, whether pf is enabled, what its main ruleset's hooks say. */
  pf: {
    text: string;
    tables: string[];
    enabled: boolean;
    unreadable: string | null;
    hooks: PreflightResult;
    pending: PendingOutcome;
  };
  applies: ApplyRequest[];
  reads: { count: number };
  /** The fake state directory's history, newest last. */
  history: (AppliedRecord & { sequence: number })[];
  /** Warnings the next compiles report. */
  warnings: Diagnostic[];
  set(manifest: Manifest): void;
  /** What `pfexpose rollback` would do: load the ruleset of these ports and record it. */
  rollbackTo(ports: number[], kind?: 'rollback' | 'confirm-revert'): void;
  events(): string[];
}

function harness(
  options: Partial<AgentOptions> = {},
  extra: Partial<AgentDeps> & {
    recorded?: string;
    needsGateway?: boolean;
    unstableReads?: number;
    settleInMs?: number;
  } = {},
): Harness {
  let manifest: Manifest = [80];
  let unstable = extra.unstableReads ?? 0;
  const pf: Harness['pf'] = {
    text: '',
    tables: [],
    enabled: true,
    unreadable: null,
    hooks: { kind: 'ok', warnings: [] },
    pending: { kind: 'none' },
  };
  const applies: ApplyRequest[] = [];
  const reads = { count: 0 };
  const history: Harness['history'] = [];
  const warnings: Diagnostic[] = [];
  const record = (input: Pick<AppliedRecord, 'ruleset' | 'manifestDigest' | 'kind' | 'undone'>): void => {
    history.push({
      anchor: 'pfexpose',
      rulesetDigest: '',
      appliedAt: new Date(Date.now()).toISOString(),
      sequence: history.length + 1,
      ...input,
    });
  };
  const log = createMemoryLog();
  const metrics = new AgentMetrics();
  // As StateDir.mark(): changes with every record.
  const stateMark = (): string => `${history.length}:${JSON.stringify(history.at(-1) ?? null)}`;
  const deps: AgentDeps = {
    readManifests: () => {
      reads.count += 1;
      const stable = unstable === 0;
      if (!stable) unstable -= 1;
      const snapshot: ManifestSnapshot = {
        sources: [{ file: 'a.yaml', text: JSON.stringify(manifest) }],
        parsed: [],
        lockText: null,
        diagnostics: [],
        reread: ['a.yaml'],
        removed: [],
        stable,
        unsettled: stable ? [] : ['a.yaml'],
        settleInMs: stable ? null : (extra.settleInMs ?? null),
      };
      return Promise.resolve(snapshot);
    },
    compile: (snapshot, gateway) =>
      outcomeFor(JSON.parse(snapshot.sources[0]!.text) as Manifest, gateway, extra.needsGateway === true, [
        ...warnings,
      ]),
    detectGateway: () => Promise.resolve({ ok: true, interface: 'em0' }),
    readDeployed: () =>
      Promise.resolve(
        !pf.enabled
          ? { kind: 'pf-disabled', message: 'pf is disabled (pfctl -s info says "Status: Disabled")' }
          : pf.unreadable !== null
            ? { kind: 'failed', message: pf.unreadable }
            : { kind: 'ok', lines: normalizedLines(pf.text), text: pf.text, tables: [...pf.tables], exists: true },
      ),
    checkHooks: () => Promise.resolve(pf.hooks),
    readNewestRecord: () => Promise.resolve(history.at(-1) ?? null),
    resolvePendingConfirm: () => Promise.resolve(pf.pending),
    apply: (request) => {
      applies.push(request);
      const before = pf.text;
      pf.text = request.ruleset;
      // As the apply core records it: a repair of what is already current adds no entry.
      const current = history.at(-1);
      if (
        current === undefined ||
        current.ruleset !== request.ruleset ||
        current.manifestDigest !== request.manifestDigest
      ) {
        record({ ruleset: request.ruleset, manifestDigest: request.manifestDigest, kind: 'apply' });
      }
      const outcome: ApplyOutcome = {
        kind: 'applied',
        previous: before,
        attempts: 1,
        killedLabels: [],
        warnings: [],
        added: normalizedLines(request.ruleset),
        removed: normalizedLines(before),
        revertedExpired: false,
        stateMark: stateMark(),
      };
      return Promise.resolve(outcome);
    },
    readRecorded: () => {
      if (extra.recorded !== undefined)
        return Promise.resolve({ ruleset: extra.recorded, manifestDigest: JSON.stringify([80]) });
      const current = history.at(-1);
      return Promise.resolve(
        current === undefined ? null : { ruleset: current.ruleset, manifestDigest: current.manifestDigest },
      );
    },
    readStateMark: () => Promise.resolve(stateMark()),
    log,
    metrics,
    ...extra,
  };
  const agent = new WatchAgent(deps, {
    anchor: 'pfexpose',
    debounceMs: 500,
    intervalMs: 60_000,
    pullIntervalMs: null,
    drift: 'correct',
    gatewayGiven: false,
    killStates: false,
    lockWaitMs: 0,
    ...options,
  });
  return {
    agent,
    log,
    metrics,
    pf,
    applies,
    reads,
    history,
    warnings,
    set: (m) => {
      manifest = m;
    },
    rollbackTo: (ports, kind = 'rollback') => {
      const undone = history.at(-1);
      pf.text = ports.map((port) => rule(port)).join('');
      record({
        ruleset: pf.text,
        manifestDigest: JSON.stringify(ports),
        kind,
        undone: {
          manifestDigest: undone?.manifestDigest ?? '',
          linesDigest: linesDigest(normalizedLines(undone?.ruleset ?? '')),
        },
      });
    },
    events: () => log.records.map((r) => r.event),
  };
}

async function settle(h: Harness, ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await h.agent.idle();
}

/** Starts the agent, lets it apply, then changes the manifests to ports and lets that apply too. */
async function startThenChange(h: Harness, ports: number[]): Promise<void> {
  await h.agent.start();
  await settle(h);
  h.set(ports);
  h.agent.notifyChange('a.yaml');
  await settle(h, 500);
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('WatchAgent', () => {
  it('applies the manifests at start when pf holds something else', async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    expect(h.applies).toHaveLength(1);
    expect(h.pf.text).toBe(rule(80));
    expect(h.events()).toContain('applied');
    expect(h.metrics.exposures).toBe(1);
    await h.agent.stop();
  });

  it('turns a burst of changes into one cycle after the quiet period', async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    const readsBefore = h.reads.count;
    for (let i = 0; i < 50; i += 1) {
      h.set([80, 1000 + i]);
      h.agent.notifyChange('a.yaml');
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(h.reads.count).toBe(readsBefore);
    await settle(h, 500);
    expect(h.reads.count).toBe(readsBefore + 1);
    expect(h.applies).toHaveLength(2);
    expect(h.pf.text).toBe(rule(80) + rule(1049));
    await h.agent.stop();
  });

  it('warms its caches during the quiet period, never while a cycle runs, and still cycles after it', async () => {
    const prepared: (string | undefined)[] = [];
    const h = harness({}, { prepare: (gateway) => Promise.resolve(void prepared.push(gateway)) });
    await h.agent.start();
    await settle(h);
    expect(prepared).toEqual([]);
    const readsBefore = h.reads.count;
    h.set([80, 443]);
    h.agent.notifyChange('a.yaml');
    await vi.advanceTimersByTimeAsync(100);
    // A fifth into the quiet period: prepared once, with the gateway the cycle will use (none
    // detected: these manifests need none); nothing read yet.
    expect(prepared).toEqual([undefined]);
    expect(h.reads.count).toBe(readsBefore);
    await settle(h, 400);
    expect(h.reads.count).toBe(readsBefore + 1);
    expect(h.pf.text).toBe(rule(80) + rule(443));
    expect(prepared).toHaveLength(1);
    await h.agent.stop();
  });

  it('still acts during a burst that never pauses, after the maximum wait', async () => {
    const h = harness({ maxWaitMs: 2000 });
    await h.agent.start();
    await settle(h);
    for (let i = 0; i < 30; i += 1) {
      h.set([80, 2000 + i]);
      h.agent.notifyChange('a.yaml');
      await vi.advanceTimersByTimeAsync(100);
    }
    await h.agent.idle();
    expect(h.applies.length).toBeGreaterThanOrEqual(2);
    await h.agent.stop();
  });

  it('applies nothing when the manifests change but the ruleset does not', async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    expect(h.applies).toHaveLength(1);
    expect(h.events().at(-1)).toBe('unchanged');
  });

  it('never lets invalid manifests reach pf, and logs them once', async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    h.set('invalid');
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    h.agent.reconcileNow();
    await settle(h);
    expect(h.applies).toHaveLength(1);
    expect(h.pf.text).toBe(rule(80));
    expect(h.events().filter((e) => e === 'manifests-invalid')).toHaveLength(1);
    const invalid = h.log.records.find((r) => r.event === 'manifests-invalid');
    expect(invalid?.fields['diagnostics']).toEqual(['a.yaml:3:5: error schema bad']);
    expect(h.metrics.manifestsValid).toBe(0);
    h.set([80, 443]);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    expect(h.pf.text).toBe(rule(80) + rule(443));
    expect(h.events()).toContain('manifests-valid');
  });

  it('repairs drift on a reconcile (--drift correct) and counts it', async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    h.pf.text = '';
    await settle(h, 60_000);
    expect(h.applies).toHaveLength(2);
    expect(h.pf.text).toBe(rule(80));
    expect(h.events()).toEqual(expect.arrayContaining(['drift', 'drift-repaired']));
    expect(h.metrics.driftRepairs).toBe(1);
    expect(h.metrics.driftDetected).toBe(1);
    await h.agent.stop();
  });

  it('reports a table someone put in the anchor once, and does not reload rules that match', async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    h.pf.tables = ['blocked'];
    await settle(h, 60_000);
    await settle(h, 60_000);
    expect(h.applies).toHaveLength(1);
    expect(h.events().filter((e) => e === 'unmanaged-tables')).toHaveLength(1);
    expect(h.log.records.find((r) => r.event === 'unmanaged-tables')?.message).toMatch(
      /pfctl -a pfexpose -t blocked -T kill/,
    );
    expect(h.events()).not.toContain('drift');
    await h.agent.stop();
  });

  it('only reports drift with --drift warn, but still applies manifest changes', async () => {
    const h = harness({ drift: 'warn' });
    await h.agent.start();
    await settle(h);
    h.pf.text = rule(22);
    h.agent.reconcileNow();
    await settle(h);
    expect(h.applies).toHaveLength(1);
    expect(h.pf.text).toBe(rule(22));
    expect(h.events()).toContain('drift');
    expect(h.metrics.driftRepairs).toBe(0);
    h.set([80, 443]);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    expect(h.pf.text).toBe(rule(80) + rule(443));
  });

  it('treats a difference at start as drift when the state says the same ruleset was applied', async () => {
    const h = harness({ drift: 'warn' }, { recorded: rule(80) });
    await h.agent.start();
    await settle(h);
    expect(h.applies).toHaveLength(0);
    expect(h.events()).toContain('drift');
  });

  it('lets the apply in progress finish when stopped', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((done) => {
      release = done;
    });
    let finished = false;
    const h = harness(
      {},
      {
        apply: async (request) => {
          await gate;
          finished = true;
          return { kind: 'unchanged', ruleset: request.ruleset, warnings: [], revertedExpired: false };
        },
      },
    );
    await h.agent.start();
    await vi.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = h.agent.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
    h.agent.notifyChange('a.yaml');
    h.agent.reconcileNow();
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.reads.count).toBe(1);
  });

  it('reconciles after a pull that moved HEAD, and leaves everything after a failed one', async () => {
    const results: PullResult[] = [
      { kind: 'failed', message: 'Not possible to fast-forward, aborting.', durationMs: 5 },
      { kind: 'updated', from: 'a'.repeat(40), to: 'b'.repeat(40), fastForward: true, durationMs: 5 },
    ];
    const h = harness(
      { pullIntervalMs: 10_000 },
      { pull: () => Promise.resolve(results.shift() ?? { kind: 'current', head: 'b', durationMs: 1 }) },
    );
    await h.agent.start();
    await settle(h);
    const readsBefore = h.reads.count;
    h.set([80, 8443]);
    await settle(h, 10_000);
    expect(h.events()).toContain('pull-failed');
    expect(h.reads.count).toBe(readsBefore);
    expect(h.pf.text).toBe(rule(80));
    await settle(h, 10_000);
    expect(h.events()).toContain('pulled');
    expect(h.pf.text).toBe(rule(80) + rule(8443));
    expect(h.metrics.pulls).toEqual({ updated: 1, current: 0, failed: 1 });
    await h.agent.stop();
  });

  it('shows a failed pull in the health until a pull succeeds, and warns of a rewritten history', async () => {
    const results: PullResult[] = [
      { kind: 'failed', message: 'fatal: could not read from remote repository', durationMs: 5 },
      { kind: 'failed', message: 'fatal: could not read from remote repository', durationMs: 5 },
      { kind: 'updated', from: 'a'.repeat(40), to: 'c'.repeat(40), fastForward: false, durationMs: 5 },
    ];
    const h = harness(
      { pullIntervalMs: 10_000, intervalMs: 5000 },
      { pull: () => Promise.resolve(results.shift() ?? { kind: 'current', head: 'c', durationMs: 1 }) },
    );
    await h.agent.start();
    await settle(h);
    expect(h.metrics.currentHealth()).toMatchObject({ healthy: true, status: 'ok' });
    await settle(h, 10_000);
    expect(h.metrics.currentHealth()).toMatchObject({ healthy: false, status: 'pull-failed' });
    expect(h.metrics.currentHealth().reason).toContain('could not read from remote repository');
    // Reconciles go on with the checkout as it is, and do not hide the failed pull.
    h.pf.text = '';
    await settle(h, 5000);
    expect(h.pf.text).toBe(rule(80));
    expect(h.metrics.currentHealth().status).toBe('pull-failed');
    expect(h.metrics.render()).toContain('pfexpose_pull_failing 1');
    await settle(h, 10_000);
    expect(h.metrics.currentHealth().status).toBe('pull-failed');
    await settle(h, 10_000);
    expect(h.metrics.currentHealth()).toMatchObject({ healthy: true, status: 'ok' });
    expect(h.metrics.render()).toContain('pfexpose_pull_failing 0');
    const rewritten = h.log.records.find((r) => r.event === 'pull-rewritten');
    expect(rewritten?.level).toBe('warn');
    expect(h.events()).toContain('pull-ok');
    expect(h.metrics.pulls).toEqual({ updated: 1, current: 0, failed: 2 });
    await h.agent.stop();
  });

  it('looks at unsettled files again when they may have settled, not before, and compiles nothing meanwhile', async () => {
    const h = harness({}, { unstableReads: 2, settleInMs: 1500 });
    await h.agent.start();
    await settle(h);
    expect(h.reads.count).toBe(1);
    expect(h.metrics.unsettledFiles).toBe(1);
    await settle(h, 1499);
    expect(h.reads.count).toBe(1);
    await settle(h, 1);
    expect(h.reads.count).toBe(2);
    expect(h.applies).toHaveLength(0);
    expect(h.events().filter((e) => e === 'unsettled')).toHaveLength(2);
    await settle(h, 1500);
    expect(h.reads.count).toBe(3);
    expect(h.metrics.unsettledFiles).toBe(0);
    expect(h.metrics.unsettledSince).toBeNull();
    // The deferred start-up reconcile ran: it found pf empty and loaded the manifests.
    expect(h.pf.text).toBe(rule(80));
  });

  it('reports a file that never settles as unhealthy once it has lasted the stuck limit', async () => {
    const h = harness({ stuckAfterMs: 5000 }, { unstableReads: 1_000_000, settleInMs: 1000 });
    await h.agent.start();
    await settle(h, 3000);
    const since = h.metrics.unsettledSince;
    expect(since).not.toBeNull();
    expect(h.metrics.currentHealth(since! + 4000).healthy).toBe(true);
    expect(h.metrics.currentHealth(since! + 5001)).toMatchObject({ healthy: false, status: 'manifests-unsettled' });
    await h.agent.stop();
  });

  it('stops at once while a cycle waits on something that never answers, and reports a cycle that long as stalled', async () => {
    const h = harness({}, { readDeployed: () => new Promise(() => undefined) });
    await h.agent.start();
    await vi.advanceTimersByTimeAsync(0);
    const since = h.metrics.busySince;
    expect(since).not.toBeNull();
    expect(h.metrics.currentHealth(since! + 60_000).status).not.toBe('stalled');
    const stalled = h.metrics.currentHealth(since! + 300_001);
    expect(stalled).toMatchObject({ healthy: false, status: 'stalled' });
    let stopped = false;
    void h.agent.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(true);
    expect(h.applies).toHaveLength(0);
  });

  it('aborts a pull in progress when stopped', async () => {
    let aborted = false;
    const h = harness(
      { pullIntervalMs: 1000 },
      {
        pull: (signal) =>
          new Promise<PullResult>((done) => {
            signal.addEventListener('abort', () => {
              aborted = true;
              done({ kind: 'failed', message: 'the agent is stopping', durationMs: 1 });
            });
          }),
      },
    );
    await h.agent.start();
    await settle(h);
    await vi.advanceTimersByTimeAsync(1000);
    await h.agent.stop();
    expect(aborted).toBe(true);
    // A pull cut short by the stop is not a failure to report.
    expect(h.metrics.pulls.failed).toBe(0);
    expect(h.events()).not.toContain('pull-failed');
  });

  it('starts no load once stopping, even if the cycle in progress gets that far', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((done) => {
      release = done;
    });
    const h = harness(
      {},
      {
        readDeployed: async () => {
          await gate;
          return { kind: 'ok', lines: [], text: '', tables: [], exists: true };
        },
      },
    );
    await h.agent.start();
    await vi.advanceTimersByTimeAsync(0);
    await h.agent.stop();
    release();
    await h.agent.idle();
    expect(h.applies).toHaveLength(0);
  });

  it('waits for a writer that is still at work before compiling', async () => {
    const h = harness({}, { unstableReads: 1 });
    await h.agent.start();
    await settle(h);
    expect(h.applies).toHaveLength(0);
    await settle(h, 500);
    expect(h.applies).toHaveLength(1);
    expect(h.reads.count).toBe(2);
  });

  it('asks the routing table for the gateway only when the manifests name none', async () => {
    let asked = 0;
    const h = harness(
      {},
      {
        needsGateway: true,
        detectGateway: () => {
          asked += 1;
          return Promise.resolve({ ok: true, interface: asked === 1 ? 'em0' : 'igb0' });
        },
      },
    );
    await h.agent.start();
    await settle(h);
    expect(h.pf.text).toBe(rule(80, 'em0'));
    h.agent.reconcileNow();
    await settle(h);
    expect(h.events()).toContain('gateway-changed');
    expect(h.pf.text).toBe(rule(80, 'igb0'));
  });

  it('reports a refused apply as unhealthy and tries again on the next reconcile', async () => {
    let refuse = true;
    const h = harness(
      {},
      {
        apply: (request) => {
          if (refuse) return Promise.resolve({ kind: 'refused', reason: 'pf is disabled', diagnostics: [] });
          return Promise.resolve({ kind: 'unchanged', ruleset: request.ruleset, warnings: [], revertedExpired: false });
        },
      },
    );
    await h.agent.start();
    await settle(h);
    expect(h.metrics.health).toMatchObject({ healthy: false, status: 'apply-refused' });
    expect(h.metrics.render()).toContain('pfexpose_applies_total{result="refused"} 1');
    refuse = false;
    await settle(h, 60_000);
    expect(h.metrics.health).toMatchObject({ healthy: true, status: 'ok' });
  });
});

describe('WatchAgent: the preflight on every reconcile', () => {
  it('reports missing anchor hooks, never loads through the fast path meanwhile, and proceeds once they are back', async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    expect(h.applies).toHaveLength(1);
    h.pf.hooks = HOOKS_MISSING;
    // Interval reconciles (a SIGHUP's would say "still" at info: the operator asked).
    await settle(h, 60_000);
    await settle(h, 60_000);
    expect(h.metrics.health).toMatchObject({ healthy: false, status: 'preflight-failed' });
    expect(h.metrics.health.reason).toContain('does not call anchor');
    expect(h.metrics.render()).toContain('pfexpose_preflight_ok 0');
    expect(h.metrics.render()).toContain('pfexpose_preflight_failures_total 1');
    const failures = h.log.records.filter((r) => r.event === 'preflight-failed');
    expect(failures.map((r) => r.level)).toEqual(['error', 'debug']);
    expect(h.events()).not.toContain('in-sync');
    // A manifest change now goes through apply's full path (its own preflight), not the fast path.
    h.set([80, 443]);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    expect(h.applies).toHaveLength(2);
    expect(h.applies[1]?.assumeDeployed).toBeUndefined();
    h.pf.hooks = { kind: 'ok', warnings: [] };
    h.agent.reconcileNow();
    await settle(h);
    expect(h.events()).toContain('preflight-ok');
    expect(h.metrics.health).toMatchObject({ healthy: true, status: 'ok' });
    expect(h.metrics.render()).toContain('pfexpose_preflight_ok 1');
  });

  it('clears the fast path when pf is disabled, so the next change takes the full path', async () => {
    const h = harness();
    await startThenChange(h, [80, 443]);
    // In sync and verified: this change took the fast path.
    expect(h.applies[1]?.assumeDeployed).toBe(rule(80));
    h.pf.enabled = false;
    h.agent.reconcileNow();
    await settle(h);
    expect(h.metrics.health).toMatchObject({ healthy: false, status: 'preflight-failed' });
    expect(h.metrics.health.reason).toContain('pf is disabled');
    h.set([80, 443, 8443]);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    expect(h.applies).toHaveLength(3);
    expect(h.applies[2]?.assumeDeployed).toBeUndefined();
  });

  it('clears the fast path when the anchor cannot be read', async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    h.pf.unreadable = 'pfctl: DIOCGETRULES: Operation not permitted';
    h.agent.reconcileNow();
    await settle(h);
    expect(h.metrics.health).toMatchObject({ healthy: false, status: 'anchor-unreadable' });
    h.pf.unreadable = null;
    h.set([80, 443]);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    expect(h.applies.at(-1)?.assumeDeployed).toBeUndefined();
  });
});

describe('WatchAgent: holding a rollback or a confirm revert', () => {
  it.each(['rollback', 'confirm-revert'] as const)(
    'keeps what the %s loaded, repairs drift towards it, and applies again once the manifests change',
    async (kind) => {
      const h = harness();
      await startThenChange(h, [80, 443]);
      expect(h.pf.text).toBe(rule(80) + rule(443));
      const applied = h.applies.length;

      h.rollbackTo([80], kind);
      h.agent.reconcileNow();
      await settle(h);
      expect(h.pf.text).toBe(rule(80));
      expect(h.applies).toHaveLength(applied);
      expect(h.metrics.health).toMatchObject({ healthy: true, status: 'held' });
      expect(h.metrics.render()).toContain('pfexpose_held 1');
      const holding = h.log.records.filter((r) => r.event === 'holding');
      expect(holding).toHaveLength(1);
      expect(holding[0]?.message).toContain(kind === 'rollback' ? 'pfexpose rollback' : 'not confirmed');

      // A reconcile again: still held, said once.
      await settle(h, 60_000);
      expect(h.applies).toHaveLength(applied);
      expect(h.log.records.filter((r) => r.event === 'holding')).toHaveLength(1);

      // Drift is repaired towards the held ruleset, not the manifests.
      h.pf.text = '';
      h.agent.reconcileNow();
      await settle(h);
      expect(h.pf.text).toBe(rule(80));
      expect(h.applies.at(-1)).toMatchObject({ ruleset: rule(80), manifestDigest: JSON.stringify([80]) });
      expect(h.applies.at(-1)?.assumeDeployed).toBeUndefined();
      expect(h.events()).toContain('drift-repaired');
      expect(h.history.at(-1)?.kind).toBe(kind);

      // A touch that leaves the manifests as they were changes nothing.
      const before = h.applies.length;
      h.agent.notifyChange('a.yaml');
      await settle(h, 500);
      expect(h.applies).toHaveLength(before);
      expect(h.pf.text).toBe(rule(80));

      // New manifests end the hold.
      h.set([80, 8443]);
      h.agent.notifyChange('a.yaml');
      await settle(h, 500);
      expect(h.pf.text).toBe(rule(80) + rule(8443));
      expect(h.events()).toContain('hold-released');
      expect(h.metrics.health).toMatchObject({ healthy: true, status: 'ok' });
      expect(h.metrics.render()).toContain('pfexpose_held 0');
      expect(h.history.at(-1)?.kind).toBe('apply');
    },
  );

  it('holds at start when the newest record is a rollback of these manifests', async () => {
    const h = harness();
    h.set([80, 443]);
    h.history.push({
      anchor: 'pfexpose',
      ruleset: rule(80) + rule(443),
      rulesetDigest: '',
      manifestDigest: JSON.stringify([80, 443]),
      appliedAt: 'x',
      kind: 'apply',
      sequence: 1,
    });
    h.rollbackTo([80]);
    await h.agent.start();
    await settle(h);
    expect(h.applies).toHaveLength(0);
    expect(h.pf.text).toBe(rule(80));
    expect(h.metrics.health.status).toBe('held');
  });

  it('also holds when the manifests read differently but compile to the rules the rollback took out', async () => {
    const h = harness();
    await startThenChange(h, [80, 443]);
    h.rollbackTo([80]);
    // The record of what was undone names another manifest digest (another spelling of the paths).
    const newest = h.history.at(-1)!;
    h.history[h.history.length - 1] = { ...newest, undone: { ...newest.undone!, manifestDigest: 'elsewhere' } };
    h.agent.reconcileNow();
    await settle(h);
    expect(h.pf.text).toBe(rule(80));
    expect(h.metrics.health.status).toBe('held');
  });

  it('does not hold after a rollback that a later apply superseded', async () => {
    const h = harness();
    await startThenChange(h, [80, 443]);
    h.rollbackTo([80]);
    h.history.push({
      anchor: 'pfexpose',
      ruleset: rule(22),
      rulesetDigest: '',
      manifestDigest: 'by hand',
      appliedAt: 'y',
      kind: 'apply',
      sequence: 99,
    });
    h.pf.text = rule(22);
    h.agent.reconcileNow();
    await settle(h);
    expect(h.pf.text).toBe(rule(80) + rule(443));
    expect(h.metrics.health.status).toBe('ok');
  });
});

describe('WatchAgent: commit-confirmed windows', () => {
  it('leaves the anchor alone while a window is open, and goes on after it was reverted', async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    h.pf.text = rule(22);
    h.pf.pending = { kind: 'waiting', deadline: '2030-01-01T00:01:00.000Z', anchor: 'pfexpose' };
    h.agent.reconcileNow();
    await settle(h);
    h.agent.reconcileNow();
    await settle(h);
    expect(h.pf.text).toBe(rule(22));
    expect(h.applies).toHaveLength(1);
    expect(h.metrics.health).toMatchObject({ healthy: true, status: 'awaiting-confirmation' });
    expect(h.events().filter((e) => e === 'confirm-pending')).toHaveLength(1);
    // The watchdog was late: the reconcile reverts (resolvePendingConfirm), and the revert is held.
    h.pf.pending = { kind: 'reverted', anchor: 'pfexpose', ruleset: rule(80) };
    h.rollbackTo([80], 'confirm-revert');
    h.history[h.history.length - 1] = {
      ...h.history.at(-1)!,
      undone: { manifestDigest: 'the trial', linesDigest: linesDigest(normalizedLines(rule(22))) },
    };
    h.agent.reconcileNow();
    await settle(h);
    expect(h.events()).toContain('confirm-reverted');
    expect(h.pf.text).toBe(rule(80));
    expect(h.metrics.health).toMatchObject({ healthy: true });
  });

  it('reports a revert that failed as unhealthy', async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    h.pf.pending = { kind: 'failed', reason: 'pfctl: /dev/pf: Permission denied', restored: false };
    h.agent.reconcileNow();
    await settle(h);
    expect(h.metrics.health).toMatchObject({ healthy: false, status: 'confirm-revert-failed' });
    expect(h.applies).toHaveLength(1);
  });
});

describe('WatchAgent: manifest warnings', () => {
  it('logs a warning once while it lasts, and again when it changes', async () => {
    const h = harness();
    h.warnings.push(warning('legacy [::1]:80 has no ip6 address', 7));
    await h.agent.start();
    await settle(h);
    for (const ports of [
      [80, 443],
      [80, 443, 8443],
    ]) {
      h.set(ports);
      // An edit above it moves it a line down: the same warning.
      h.warnings[0] = warning('legacy [::1]:80 has no ip6 address', 7 + ports.length);
      h.agent.notifyChange('a.yaml');
      await settle(h, 500);
    }
    h.agent.reconcileNow();
    await settle(h);
    expect(h.events().filter((e) => e === 'manifest-warning')).toHaveLength(1);
    h.warnings[0] = warning('legacy [::2]:80 has no ip6 address', 9);
    h.set([80]);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    const logged = h.log.records.filter((r) => r.event === 'manifest-warning').map((r) => r.message);
    expect(logged).toHaveLength(2);
    expect(logged[1]).toContain('[::2]');
  });
});

describe('WatchAgent: the fast path only while the state directory is as the agent left it', () => {
  it('passes the mark it verified with, and drops the fast path after an apply by hand', async () => {
    const h = harness();
    await startThenChange(h, [80, 443]);
    expect(h.applies[1]).toMatchObject({ assumeDeployed: rule(80), assumeStateMark: expect.any(String) as unknown });

    // An operator runs pfexpose apply by hand on other manifests: pf and the state directory change.
    h.pf.text = rule(22);
    h.history.push({
      anchor: 'pfexpose',
      ruleset: rule(22),
      rulesetDigest: '',
      manifestDigest: 'by hand',
      appliedAt: 'y',
      kind: 'apply',
      sequence: 99,
    });
    h.set([80, 8443]);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    expect(h.applies).toHaveLength(3);
    expect(h.applies[2]?.ruleset).toBe(rule(80) + rule(8443));
    expect(h.applies[2]?.assumeDeployed).toBeUndefined();
    // That apply verified the anchor again: the next change may take the fast path.
    h.set([80]);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    expect(h.applies[3]?.assumeDeployed).toBe(rule(80) + rule(8443));
  });

  it('drops the fast path after a rollback by hand, also when new manifests end the hold', async () => {
    const h = harness();
    await startThenChange(h, [80, 443]);
    h.rollbackTo([80]);
    h.set([80, 8443]);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    expect(h.applies.at(-1)?.ruleset).toBe(rule(80) + rule(8443));
    expect(h.applies.at(-1)?.assumeDeployed).toBeUndefined();
  });

  it('verifies with the mark read before the anchor at a reconcile', async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    h.agent.reconcileNow();
    await settle(h);
    const mark = `${h.history.length}:${JSON.stringify(h.history.at(-1))}`;
    h.set([80, 443]);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    expect(h.applies.at(-1)).toMatchObject({ assumeDeployed: rule(80), assumeStateMark: mark });
  });
});

describe('WatchAgent: manifests invalid from the start', () => {
  const recordedApply = (h: Harness): void => {
    h.history.push({
      anchor: 'pfexpose',
      ruleset: rule(80),
      rulesetDigest: '',
      manifestDigest: JSON.stringify([80]),
      appliedAt: 'x',
      kind: 'apply',
      sequence: 1,
    });
  };

  it('still runs the preflight, and reports both problems', async () => {
    const h = harness();
    recordedApply(h);
    h.pf.text = rule(80);
    h.pf.enabled = false;
    h.set('invalid');
    await h.agent.start();
    await settle(h);
    expect(h.metrics.reconciles).toBe(1);
    expect(h.metrics.render()).toContain('pfexpose_preflight_ok 0');
    expect(h.metrics.render()).toContain('pfexpose_manifests_valid 0');
    expect(h.metrics.health).toMatchObject({ healthy: false, status: 'preflight-failed' });
    expect(h.metrics.health.reason).toContain('pf is disabled');
    expect(h.metrics.health.reason).toContain('the manifests are invalid');
    expect(h.events()).toEqual(expect.arrayContaining(['manifests-invalid', 'preflight-failed']));
    expect(h.applies).toHaveLength(0);

    h.pf.hooks = HOOKS_MISSING;
    h.pf.enabled = true;
    h.agent.reconcileNow();
    await settle(h);
    expect(h.metrics.health.reason).toContain('does not call anchor');
    expect(h.metrics.health.reason).toContain('the manifests are invalid');

    h.pf.hooks = { kind: 'ok', warnings: [] };
    h.agent.reconcileNow();
    await settle(h);
    expect(h.metrics.health).toMatchObject({ healthy: true, status: 'manifests-invalid' });
    expect(h.metrics.render()).toContain('pfexpose_preflight_ok 1');
    expect(h.metrics.reconciles).toBe(3);
  });

  it('repairs drift towards the ruleset recorded as last applied, adding no history entry', async () => {
    const h = harness();
    recordedApply(h);
    h.pf.text = '';
    h.set('invalid');
    await h.agent.start();
    await settle(h);
    expect(h.applies).toHaveLength(1);
    expect(h.applies[0]).toMatchObject({ ruleset: rule(80), manifestDigest: JSON.stringify([80]) });
    expect(h.applies[0]?.assumeDeployed).toBeUndefined();
    expect(h.pf.text).toBe(rule(80));
    expect(h.history).toHaveLength(1);
    expect(h.events()).toEqual(expect.arrayContaining(['drift', 'drift-repaired']));
    expect(h.log.records.find((r) => r.event === 'drift')?.message).toContain('recorded as last applied');
    expect(h.metrics.health).toMatchObject({ healthy: true, status: 'manifests-invalid' });
    expect(h.metrics.driftRepairs).toBe(1);

    // Once the manifests compile, they are what the agent follows.
    h.set([80, 443]);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    expect(h.pf.text).toBe(rule(80) + rule(443));
    expect(h.metrics.health).toMatchObject({ healthy: true, status: 'ok' });
  });

  it('with nothing recorded, only checks pf', async () => {
    const h = harness();
    h.set('invalid');
    await h.agent.start();
    await settle(h);
    expect(h.applies).toHaveLength(0);
    expect(h.metrics.reconciles).toBe(1);
    expect(h.metrics.health).toMatchObject({ healthy: true, status: 'manifests-invalid' });
    expect(h.events()).toContain('nothing-to-compare');
  });
});

describe('WatchAgent: one report per drift', () => {
  it('logs and counts a drift once while it lasts under --drift warn, and a new one again', async () => {
    const h = harness({ drift: 'warn' });
    await h.agent.start();
    await settle(h);
    h.pf.text = rule(22);
    for (let i = 0; i < 3; i += 1) await settle(h, 60_000);
    const drifts = (): string[] => h.log.records.filter((r) => r.event === 'drift').map((r) => r.level);
    expect(drifts()).toEqual(['warn', 'debug', 'debug']);
    expect(h.metrics.driftDetected).toBe(1);
    expect(h.metrics.health).toMatchObject({ healthy: true, status: 'drift' });

    // Another drift: reported and counted again.
    h.pf.text = rule(23);
    h.agent.reconcileNow();
    await settle(h);
    expect(drifts()).toEqual(['warn', 'debug', 'debug', 'warn']);
    expect(h.metrics.driftDetected).toBe(2);

    // In sync again (fixed by hand), then the first drift once more: a new drift.
    h.pf.text = rule(80);
    h.agent.reconcileNow();
    await settle(h);
    h.pf.text = rule(22);
    h.agent.reconcileNow();
    await settle(h);
    expect(drifts()).toEqual(['warn', 'debug', 'debug', 'warn', 'warn']);
    expect(h.metrics.driftDetected).toBe(3);
    expect(h.applies).toHaveLength(1);
  });

  it('counts a drift whose repair keeps failing once, and tries to repair it on every reconcile', async () => {
    let failing = false;
    const h: Harness = harness(
      {},
      {
        apply: (request) => {
          if (failing) return Promise.resolve({ kind: 'failed', reason: 'pfctl: killed', restored: true });
          h.pf.text = request.ruleset;
          return Promise.resolve({ kind: 'unchanged', ruleset: request.ruleset, warnings: [], revertedExpired: false });
        },
      },
    );
    await h.agent.start();
    await settle(h);
    failing = true;
    h.pf.text = '';
    await settle(h, 60_000);
    await settle(h, 60_000);
    expect(h.log.records.filter((r) => r.event === 'drift').map((r) => r.level)).toEqual(['warn', 'debug']);
    expect(h.events().filter((e) => e === 'apply-failed')).toHaveLength(2);
    expect(h.metrics.driftDetected).toBe(1);
  });
});

describe('WatchAgent: the lock file', () => {
  it('is written once pf holds the ruleset (applied or unchanged), never after a refused apply', async () => {
    const written: string[] = [];
    let result: 'refused' | 'unchanged' = 'refused';
    const h = harness(
      {},
      {
        compile: (snapshot, gateway) => ({
          ...outcomeFor(JSON.parse(snapshot.sources[0]!.text) as Manifest, gateway, false),
          lockChanged: true,
        }),
        writeLock: (outcome) => {
          written.push(outcome.lockPath);
          return Promise.resolve(null);
        },
        apply: (request) =>
          Promise.resolve(
            result === 'refused'
              ? { kind: 'refused', reason: 'pf is disabled', diagnostics: [] }
              : { kind: 'unchanged', ruleset: request.ruleset, warnings: [], revertedExpired: false },
          ),
      },
    );
    await h.agent.start();
    await settle(h);
    expect(h.events()).toContain('apply-refused');
    expect(written).toEqual([]);
    result = 'unchanged';
    h.agent.reconcileNow();
    await settle(h);
    expect(written).toEqual(['pfexpose.lock.json']);
    expect(h.events()).toContain('lock-updated');
  });
});

describe('WatchAgent: repeated failures logged once while they last', () => {
  const levelsOf = (h: Harness, event: string): string[] =>
    h.log.records.filter((r) => r.event === event).map((r) => r.level);

  it('a lock file that cannot be written, on every change, is warned about once until it can', async () => {
    let failure: string | null = 'EROFS: read-only file system';
    const h = harness(
      {},
      {
        compile: (snapshot, gateway) => ({
          ...outcomeFor(JSON.parse(snapshot.sources[0]!.text) as Manifest, gateway, false),
          lockChanged: true,
        }),
        writeLock: () => Promise.resolve(failure),
      },
    );
    await h.agent.start();
    await settle(h);
    for (const port of [81, 82, 83]) {
      h.set([80, port]);
      h.agent.notifyChange('a.yaml');
      await settle(h, 500);
    }
    expect(levelsOf(h, 'lock-write-failed')).toEqual(['warn', 'debug', 'debug', 'debug']);
    failure = null;
    h.set([80, 84]);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    expect(levelsOf(h, 'lock-updated')).toEqual(['info']);
    failure = 'EROFS: read-only file system';
    h.set([80, 85]);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    expect(levelsOf(h, 'lock-write-failed')).toEqual(['warn', 'debug', 'debug', 'debug', 'warn']);
  });

  it('an internal error that every cycle hits is logged once, and again after a cycle got through', async () => {
    let broken = true;
    const h = harness(
      {},
      {
        readStateMark: () => (broken ? Promise.reject(new Error('bug')) : Promise.resolve('m')),
        readDeployed: () => {
          if (broken) throw new TypeError('cannot read properties of undefined');
          return Promise.resolve({ kind: 'ok', lines: [], text: '', tables: [], exists: true });
        },
      },
    );
    await h.agent.start();
    await settle(h);
    await settle(h, 60_000);
    await settle(h, 60_000);
    expect(levelsOf(h, 'internal-error')).toEqual(['error', 'debug', 'debug']);
    broken = false;
    await settle(h, 60_000);
    broken = true;
    await settle(h, 60_000);
    expect(levelsOf(h, 'internal-error')).toEqual(['error', 'debug', 'debug', 'error']);
  });
});

describe('WatchAgent: logs (issue 11)', () => {
  const levelsOf = (h: Harness, event: string): string[] =>
    h.log.records.filter((r) => r.event === event).map((r) => r.level);

  it('a SIGHUP reconcile logs its result at info; an interval reconcile that finds nothing new stays at debug', async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    await settle(h, 60_000);
    expect(levelsOf(h, 'in-sync')).toEqual(['debug']);
    h.agent.reconcileNow();
    await settle(h);
    expect(levelsOf(h, 'in-sync')).toEqual(['debug', 'info']);
    await settle(h, 60_000);
    expect(levelsOf(h, 'in-sync')).toEqual(['debug', 'info', 'debug']);
  });

  it('a SIGHUP reconcile that finds only what was already said still ends with a line saying so', async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    h.pf.pending = { kind: 'waiting', deadline: '2030-01-01T00:00:00.000Z', anchor: 'pfexpose' };
    await settle(h, 60_000);
    expect(levelsOf(h, 'confirm-pending')).toEqual(['info']);
    h.agent.reconcileNow();
    await settle(h);
    const last = h.log.records.at(-1);
    expect(last?.event).toBe('reconciled');
    expect(last?.level).toBe('info');
    expect(last?.message).toContain('awaits pfexpose confirm');
  });

  it('a drift warning names the drifted rules, at most DRIFT_RULES_SHOWN per direction, then "and K more"', async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    const extra = Array.from({ length: DRIFT_RULES_SHOWN + 3 }, (_, i) => rule(2000 + i)).join('');
    h.pf.text = extra;
    await settle(h, 60_000);
    const drift = h.log.records.find((r) => r.event === 'drift');
    expect(drift?.level).toBe('warn');
    const message = drift?.message ?? '';
    expect(message).toContain(`missing: ${rule(80).trim()}`);
    expect(message).toContain(`unexpected: ${rule(2000).trim()}`);
    expect(message).toContain(`unexpected: ${rule(2000 + DRIFT_RULES_SHOWN - 1).trim()}`);
    expect(message).not.toContain(`port = ${2000 + DRIFT_RULES_SHOWN} `);
    expect(message).toContain('and 3 more');
    expect(drift?.fields['unexpected']).toBe(DRIFT_RULES_SHOWN + 3);
    expect(drift?.fields['unexpectedRules']).toHaveLength(DRIFT_RULES_SHOWN);
    expect(drift?.fields['missingRules']).toEqual([rule(80).trim()]);
  });

  it('a failing --pull is logged once while it lasts, then once when it works again', async () => {
    const results: PullResult[] = [
      { kind: 'failed', message: 'fatal: could not read from remote repository', durationMs: 5 },
      { kind: 'failed', message: 'fatal: could not read from remote repository', durationMs: 5 },
      { kind: 'failed', message: 'fatal: could not read from remote repository', durationMs: 5 },
      { kind: 'current', head: 'c', durationMs: 1 },
      { kind: 'current', head: 'c', durationMs: 1 },
    ];
    const h = harness(
      { pullIntervalMs: 10_000 },
      { pull: () => Promise.resolve(results.shift() ?? { kind: 'current', head: 'c', durationMs: 1 }) },
    );
    await h.agent.start();
    await settle(h);
    for (let i = 0; i < 5; i += 1) await settle(h, 10_000);
    expect(levelsOf(h, 'pull-failed')).toEqual(['error', 'debug', 'debug']);
    expect(levelsOf(h, 'pull-ok')).toEqual(['info']);
    expect(h.metrics.pulls.failed).toBe(3);
  });

  it('an unreadable anchor is logged once while it lasts, then once when it can be read again', async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    h.pf.unreadable = 'pfctl: timed out after 30s';
    for (let i = 0; i < 3; i += 1) await settle(h, 60_000);
    expect(levelsOf(h, 'anchor-unreadable')).toEqual(['error', 'debug', 'debug']);
    h.pf.unreadable = null;
    await settle(h, 60_000);
    await settle(h, 60_000);
    expect(levelsOf(h, 'anchor-readable')).toEqual(['info']);
  });

  it('a refused apply with the same reason is logged once while it lasts, and its end is said', async () => {
    let refuse = true;
    const h: Harness = harness(
      {},
      {
        apply: (request) => {
          if (refuse)
            return Promise.resolve({ kind: 'refused', reason: 'the state directory is locked', diagnostics: [] });
          h.pf.text = request.ruleset;
          return Promise.resolve({ kind: 'unchanged', ruleset: request.ruleset, warnings: [], revertedExpired: false });
        },
      },
    );
    await h.agent.start();
    await settle(h);
    for (let i = 0; i < 2; i += 1) await settle(h, 60_000);
    expect(levelsOf(h, 'apply-refused')).toEqual(['error', 'debug', 'debug']);
    refuse = false;
    await settle(h, 60_000);
    expect(levelsOf(h, 'apply-ok')).toEqual(['info']);
  });

  it('added and removed count exposures, like plan; the rules have fields of their own', async () => {
    const h = harness();
    await startThenChange(h, [80, 8443]);
    const applied = h.log.records.filter((r) => r.event === 'applied').at(-1);
    expect(applied?.fields).toMatchObject({
      exposures: 2,
      added: 1,
      changed: 0,
      removed: 0,
      rulesAdded: 2,
      rulesRemoved: 1,
    });
    expect(applied?.message).toContain('exposures +1 ~0 -0');
  });

  it('diagnostics in the log keep their hints, in JSON and in text', () => {
    const d: Diagnostic = {
      code: 'schema',
      severity: 'error',
      message: 'bad',
      file: 'a.yaml',
      line: 3,
      column: 5,
      endLine: 3,
      endColumn: 6,
      hint: 'write it as PORT',
    };
    expect(formatDiagnostic(d)).toBe('a.yaml:3:5: error schema bad\nhint: write it as PORT');
    const lines: string[] = [];
    const json = createAgentLog({ format: 'json', write: (l) => lines.push(l), now: () => new Date(0) });
    json.log('error', 'manifests-invalid', 'invalid', { diagnostics: [formatDiagnostic(d)] });
    expect((JSON.parse(lines[0] ?? '{}') as { diagnostics: string[] }).diagnostics[0]).toContain(
      'hint: write it as PORT',
    );
    const text = createAgentLog({ format: 'text', write: (l) => lines.push(l), now: () => new Date(0) });
    text.log('error', 'manifests-invalid', 'invalid', { diagnostics: [formatDiagnostic(d)] });
    expect(lines[1]).toContain('\n      hint: write it as PORT\n');
  });

  it("a confirm revert by the watchdog reaches the agent's log once, at its next reconcile", async () => {
    const h = harness();
    await h.agent.start();
    await settle(h);
    h.set([80, 8443]);
    h.agent.notifyChange('a.yaml');
    await settle(h, 500);
    // The watchdog (another process) puts the previous ruleset back and records it.
    h.rollbackTo([80], 'confirm-revert');
    expect(levelsOf(h, 'confirm-reverted')).toEqual([]);
    await settle(h, 60_000);
    expect(levelsOf(h, 'confirm-reverted')).toEqual(['warn']);
    await settle(h, 60_000);
    expect(levelsOf(h, 'confirm-reverted')).toEqual(['warn']);
  });
});

describe('WatchAgent: metrics an alert can rely on', () => {
  /** The value of a sample without labels in /metrics, or undefined when it has none. */
  const sample = (h: Harness, name: string): string | undefined =>
    h.metrics
      .render()
      .split('\n')
      .find((line) => line.startsWith(`${name} `))
      ?.slice(name.length + 1);

  it('a restart on a host already in sync: the reconcile time is set, and nothing reads as a failure', async () => {
    const h = harness({}, { recorded: rule(80) });
    h.pf.text = rule(80);
    expect(sample(h, 'pfexpose_last_successful_reconcile_timestamp_seconds')).toBeUndefined();
    await h.agent.start();
    await settle(h);
    expect(h.applies).toHaveLength(0);
    expect(sample(h, 'pfexpose_last_successful_reconcile_timestamp_seconds')).toBe(String(Date.now() / 1000));
    expect(sample(h, 'pfexpose_last_apply_success')).toBeUndefined();
    expect(h.metrics.render()).not.toMatch(/^pfexpose_last_apply_result/m);
    expect(sample(h, 'pfexpose_up')).toBe('1');
    // Each reconcile that finds pf in sync moves it on.
    await settle(h, 60_000);
    expect(sample(h, 'pfexpose_last_successful_reconcile_timestamp_seconds')).toBe(String(Date.now() / 1000));
  });

  it('is set by an apply that loads the manifests, and not by a refused apply or an unreadable anchor', async () => {
    let refuse = true;
    const h = harness(
      {},
      {
        apply: (request) => {
          if (refuse) return Promise.resolve({ kind: 'refused', reason: 'pf is disabled', diagnostics: [] });
          h.pf.text = request.ruleset;
          return Promise.resolve({ kind: 'unchanged', ruleset: request.ruleset, warnings: [], revertedExpired: false });
        },
      },
    );
    await h.agent.start();
    await settle(h);
    expect(sample(h, 'pfexpose_last_apply_success')).toBe('0');
    expect(sample(h, 'pfexpose_last_successful_reconcile_timestamp_seconds')).toBeUndefined();
    refuse = false;
    await settle(h, 60_000);
    const synced = String(Date.now() / 1000);
    expect(sample(h, 'pfexpose_last_apply_success')).toBe('1');
    expect(sample(h, 'pfexpose_last_successful_reconcile_timestamp_seconds')).toBe(synced);
    h.pf.unreadable = 'pfctl: timed out after 30s';
    await settle(h, 60_000);
    expect(sample(h, 'pfexpose_last_successful_reconcile_timestamp_seconds')).toBe(synced);
  });

  it('is not set while drift is only warned about (--drift warn)', async () => {
    const h = harness({ drift: 'warn' });
    await h.agent.start();
    await settle(h);
    const applied = sample(h, 'pfexpose_last_successful_reconcile_timestamp_seconds');
    expect(applied).toBe(String(Date.now() / 1000));
    h.pf.text = rule(81);
    await settle(h, 60_000);
    await settle(h, 60_000);
    expect(sample(h, 'pfexpose_last_successful_reconcile_timestamp_seconds')).toBe(applied);
  });
});
