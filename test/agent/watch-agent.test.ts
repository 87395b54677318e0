// The agent's loop with every dependency faked and timers under the test's control: debouncing,
// invalid manifests, drift in both modes, signals' stop, pull results and gateway detection.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryLog } from '../../src/agent/agent-log.js';
import { AgentMetrics } from '../../src/agent/agent-metrics.js';
import type { ManifestSnapshot } from '../../src/agent/manifest-cache.js';
import type { PullResult } from '../../src/agent/pull-checkout.js';
import { WatchAgent } from '../../src/agent/watch-agent.js';
import type { AgentDeps, AgentOptions } from '../../src/agent/watch-agent.js';
import type { CompileOutcome } from '../../src/cli/pipeline.js';
import type { ApplyOutcome, ApplyRequest } from '../../src/host/apply-ruleset.js';
import { normalizedLines } from '../../src/host/read-deployed.js';

const rule = (port: number, on = 'em0'): string =>
  `pass in quick on ${on} inet proto tcp from any to 10.0.0.1 port = ${port} flags S/SA keep state label "p${port}"\n`;

/** The fake manifests: a list of ports, or "invalid". */
type Manifest = number[] | 'invalid';

function outcomeFor(manifest: Manifest, gateway: string | undefined, needsGateway: boolean): CompileOutcome {
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
      ruleset: '',
      diagnostics: [{ code, severity: 'error', message: 'bad', file: 'a.yaml', line: 3, column: 5, endLine: 3, endColumn: 6 }],
    };
    return failed;
  }
  const ruleset = manifest.map((port) => rule(port, gateway)).join('');
  return { ...base, ok: true, exposures: manifest.map(() => ({}) as never), ruleset, diagnostics: [] };
}

interface Harness {
  agent: WatchAgent;
  log: ReturnType<typeof createMemoryLog>;
  metrics: AgentMetrics;
  pf: { text: string };
  applies: ApplyRequest[];
  reads: { count: number };
  set(manifest: Manifest): void;
  events(): string[];
}

function harness(options: Partial<AgentOptions> = {}, extra: Partial<AgentDeps> & { recorded?: string; needsGateway?: boolean; unstableReads?: number } = {}): Harness {
  let manifest: Manifest = [80];
  let unstable = extra.unstableReads ?? 0;
  const pf = { text: '' };
  const applies: ApplyRequest[] = [];
  const reads = { count: 0 };
  const log = createMemoryLog();
  const metrics = new AgentMetrics();
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
      };
      return Promise.resolve(snapshot);
    },
    compile: (snapshot, gateway) => outcomeFor(JSON.parse(snapshot.sources[0]!.text) as Manifest, gateway, extra.needsGateway === true),
    detectGateway: () => Promise.resolve({ ok: true, interface: 'em0' }),
    readDeployed: () => Promise.resolve({ kind: 'ok', lines: normalizedLines(pf.text), text: pf.text, tables: [], exists: true }),
    apply: (request) => {
      applies.push(request);
      const before = pf.text;
      pf.text = request.ruleset;
      const outcome: ApplyOutcome = {
        kind: 'applied',
        previous: before,
        attempts: 1,
        killedLabels: [],
        warnings: [],
        added: normalizedLines(request.ruleset),
        removed: normalizedLines(before),
        revertedExpired: false,
      };
      return Promise.resolve(outcome);
    },
    readRecorded: () => Promise.resolve(extra.recorded ?? null),
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
    set: (m) => {
      manifest = m;
    },
    events: () => log.records.map((r) => r.event),
  };
}

async function settle(h: Harness, ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await h.agent.idle();
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
    const h = harness({}, {
      apply: async (request) => {
        await gate;
        finished = true;
        return { kind: 'unchanged', ruleset: request.ruleset, warnings: [], revertedExpired: false };
      },
    });
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
      { kind: 'updated', from: 'a'.repeat(40), to: 'b'.repeat(40), durationMs: 5 },
    ];
    const h = harness({ pullIntervalMs: 10_000 }, { pull: () => Promise.resolve(results.shift() ?? { kind: 'current', head: 'b', durationMs: 1 }) });
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
    const h = harness({}, {
      needsGateway: true,
      detectGateway: () => {
        asked += 1;
        return Promise.resolve({ ok: true, interface: asked === 1 ? 'em0' : 'igb0' });
      },
    });
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
    const h = harness({}, {
      apply: (request) => {
        if (refuse) return Promise.resolve({ kind: 'refused', reason: 'pf is disabled', diagnostics: [] });
        return Promise.resolve({ kind: 'unchanged', ruleset: request.ruleset, warnings: [], revertedExpired: false });
      },
    });
    await h.agent.start();
    await settle(h);
    expect(h.metrics.health).toMatchObject({ healthy: false, status: 'apply-refused' });
    expect(h.metrics.render()).toContain('pfexpose_applies_total{result="refused"} 1');
    refuse = false;
    await settle(h, 60_000);
    expect(h.metrics.health).toMatchObject({ healthy: true, status: 'ok' });
  });
});
