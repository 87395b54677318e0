// What the agent counts, and its rendering in Prometheus' text exposition format (version 0.0.4).
// The agent updates the numbers as it works; /metrics renders them and /healthz reads the health.
import type { ExposureSample } from '../apply/exposure-status.js';
// Nothing reads as a failure before it happened: a gauge about the last apply has no sample until
// the agent has attempted one (an agent restarted on a host in sync may never need to).
import { APPLY_DURATION_BUCKETS, DurationHistogram } from './duration-histogram.js';
import { agentHealth, type AgentHealth, type HealthFacts } from './health.js';

/** Who is running: pfexpose_build_info's labels and process_start_time_seconds. */
export interface AgentIdentity {
  /** pfexpose's version. */
  version: string;
  /** Node.js's version (process.version). */
  node: string;
  /** process.platform. */
  platform: string;
  /** Seconds since the epoch when the process started. */
  startTimeSeconds: number;
}

export type ApplyResultKind = 'applied' | 'unchanged' | 'refused' | 'failed';
export type PullResultKind = 'updated' | 'current' | 'failed';

/** The most exposures exported one series each in /metrics: the rest are counted in pfexpose_exposure_series_dropped. */
export const MAX_EXPOSURE_SERIES = 1000;

export class AgentMetrics {
  readonly identity: AgentIdentity;
  /** Seconds since the epoch of the last apply attempt (any result), 0 before the first. */
  lastApplyTime = 0;
  /** null: the agent has attempted no apply (the last-apply gauges have no sample yet). */
  lastApplyResult: ApplyResultKind | null = null;
  /** Seconds the last apply attempt took. */
  lastApplyDuration = 0;
  /** Seconds since the epoch of the last ruleset actually loaded; 0 before the first. */
  lastSuccessTime = 0;
  /**
   * Seconds since the epoch when a cycle last ended with pf holding what the agent keeps there (a
   * reconcile found it in sync, or an apply loaded it or found it in place); null before the first.
   */
  lastInSyncTime: number | null = null;
  readonly applyDuration = new DurationHistogram(APPLY_DURATION_BUCKETS);
  /** Exposures in the ruleset the agent last saw deployed (applied or found in place). */
  exposures = 0;
  /** 1 while the manifests as they are now compile, 0 while they are invalid. */
  manifestsValid = 1;
  readonly applies: Record<ApplyResultKind, number> = { applied: 0, unchanged: 0, refused: 0, failed: 0 };
  /** Manifest loads (every cycle that read the manifests). */
  reloads = 0;
  reloadsInvalid = 0;
  reconciles = 0;
  driftDetected = 0;
  driftRepairs = 0;
  /** 1 while the last reconcile found pf enabled and the anchor called by the main ruleset. */
  preflightOk = 1;
  /** Reconciles that found a new preflight problem (pf disabled, hooks missing). */
  preflightFailures = 0;
  /** 1 while the agent holds a ruleset loaded by rollback or a confirm revert. */
  held = 0;
  /** 1 while the stale-address guard refuses the manifests (pf keeps what it holds). */
  containersStale = 0;
  /** pf's counters per exposure as the last reconcile read them (at most MAX_EXPOSURE_SERIES). */
  exposureSamples: ExposureSample[] = [];
  /** Exposures left out of exposureSamples by the bound. */
  exposureSamplesDropped = 0;
  readonly pulls: Record<PullResultKind, number> = { updated: 0, current: 0, failed: 0 };
  /** What the agent's last cycle found (see health.ts); currentHealth() adds what happened since. */
  healthFacts: HealthFacts = { anchor: null, manifestsInvalid: false };
  /** Why the last git pull failed, until one succeeds; null: none failed (or none ran). */
  pullFailure: string | null = null;
  /** Monotonic ms when the cycle or pull now running began; null while the agent waits. */
  busySince: number | null = null;
  /** Monotonic ms since when some manifest file has not settled; null: all settled. */
  unsettledSince: number | null = null;
  unsettledFiles = 0;
  /** How long a cycle may run, or a file stay unsettled, before /healthz says so (set by the agent). */
  stuckAfterMs = 300_000;
  /** Connections the metrics server closed at once because it already had its maximum. */
  connectionsRefused = 0;

  constructor(identity: AgentIdentity = processIdentity('unknown')) {
    this.identity = identity;
  }

  /**
   * What /healthz answers now: the last cycle's health, unless a cycle has run far too long
   * (stalled), a file has never settled, or the last pull failed (the agent goes on with the
   * checkout it has, but no change of the repository arrives).
   */
  currentHealth(now: number = performance.now()): AgentHealth {
    const minutes = (since: number): string => `${Math.round((now - since) / 60_000)} min`;
    const stuck = (since: number | null): boolean => since !== null && now - since > this.stuckAfterMs;
    return agentHealth({
      ...this.healthFacts,
      pullFailure: this.pullFailure,
      stalledFor: stuck(this.busySince) ? minutes(this.busySince ?? now) : null,
      unsettled: stuck(this.unsettledSince)
        ? { files: this.unsettledFiles, for: minutes(this.unsettledSince ?? now) }
        : null,
    });
  }

  /** The health the agent's last cycle left, without what currentHealth() adds. */
  get health(): AgentHealth {
    return agentHealth(this.healthFacts);
  }

  recordApply(result: ApplyResultKind, seconds: number, at: Date): void {
    this.applies[result] += 1;
    this.lastApplyResult = result;
    this.lastApplyTime = at.getTime() / 1000;
    this.lastApplyDuration = seconds;
    this.applyDuration.observe(seconds);
    if (result === 'applied') this.lastSuccessTime = this.lastApplyTime;
  }

  /** pf's counters per exposure (pfctl -s labels, read at each reconcile), one series per direction. */
  private renderExposures(
    metric: (name: string, type: 'gauge' | 'counter', help: string, samples: [string, number][]) => void,
  ): void {
    const labelsOf = (sample: ExposureSample, extra = ''): string =>
      `{container="${labelValue(sample.container)}",protocol="${sample.protocol}",listen="${labelValue(sample.listen)}",port="${sample.port}"${extra}}`;
    const both = (pick: (s: ExposureSample, d: 'in' | 'out') => number): [string, number][] =>
      this.exposureSamples.flatMap((s) =>
        (['in', 'out'] as const).map((d): [string, number] => [labelsOf(s, `,direction="${d}"`), pick(s, d)]),
      );
    metric(
      'pfexpose_exposure_packets_total',
      'counter',
      "Packets pf counted for the exposure's rules since they were loaded, by direction.",
      both((s, d) => (d === 'in' ? s.counters.inPackets : s.counters.outPackets)),
    );
    metric(
      'pfexpose_exposure_bytes_total',
      'counter',
      "Bytes pf counted for the exposure's rules since they were loaded, by direction.",
      both((s, d) => (d === 'in' ? s.counters.inBytes : s.counters.outBytes)),
    );
    metric(
      'pfexpose_exposure_evaluations_total',
      'counter',
      "Times pf evaluated the exposure's rules since they were loaded.",
      this.exposureSamples.map((s): [string, number] => [labelsOf(s), s.counters.evaluations]),
    );
    metric(
      'pfexpose_exposure_states_created_total',
      'counter',
      "States the exposure's rules created since they were loaded.",
      this.exposureSamples.map((s): [string, number] => [labelsOf(s), s.counters.states]),
    );
    metric(
      'pfexpose_exposure_series_dropped',
      'gauge',
      `Exposures left out of the per-exposure series (at most ${MAX_EXPOSURE_SERIES} are exported).`,
      [['', this.exposureSamplesDropped]],
    );
  }

  /** pf holds what the agent keeps there, as of `at`. */
  recordInSync(at: Date): void {
    this.lastInSyncTime = at.getTime() / 1000;
  }

  render(): string {
    const out: string[] = [];
    const metric = (
      name: string,
      type: 'gauge' | 'counter' | 'histogram',
      help: string,
      samples: [string, number][],
    ): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) out.push(`${name}${labels} ${formatNumber(value)}`);
    };
    const { version, node, platform, startTimeSeconds } = this.identity;
    metric('pfexpose_build_info', 'gauge', 'Always 1: the version of pfexpose and of Node.js running the agent.', [
      [`{version="${labelValue(version)}",node="${labelValue(node)}",platform="${labelValue(platform)}"}`, 1],
    ]);
    metric('process_start_time_seconds', 'gauge', 'Start time of the process since the epoch in seconds.', [
      ['', startTimeSeconds],
    ]);
    metric(
      'pfexpose_last_successful_reconcile_timestamp_seconds',
      'gauge',
      'Time a cycle last ended with pf holding what the agent keeps there (found in sync, or applied); no sample before the first.',
      this.lastInSyncTime === null ? [] : [['', this.lastInSyncTime]],
    );
    // The last-apply gauges describe an apply attempt: none before the agent has made one.
    const applied = this.lastApplyResult !== null;
    metric(
      'pfexpose_last_apply_timestamp_seconds',
      'gauge',
      'Time of the last apply attempt, whatever its result; no sample before the first.',
      applied ? [['', this.lastApplyTime]] : [],
    );
    metric(
      'pfexpose_last_apply_success',
      'gauge',
      '1 when the last apply attempt loaded the ruleset or found it in place, 0 when it was refused or failed; no sample before the first.',
      applied ? [['', this.lastApplyResult === 'applied' || this.lastApplyResult === 'unchanged' ? 1 : 0]] : [],
    );
    metric(
      'pfexpose_last_apply_result',
      'gauge',
      'The result of the last apply attempt (1 on the matching label); no sample before the first.',
      applied
        ? (['applied', 'unchanged', 'refused', 'failed'] as const).map((r): [string, number] => [
            `{result="${r}"}`,
            this.lastApplyResult === r ? 1 : 0,
          ])
        : [],
    );
    metric(
      'pfexpose_last_apply_duration_seconds',
      'gauge',
      'How long the last apply attempt took; no sample before the first.',
      applied ? [['', this.lastApplyDuration]] : [],
    );
    metric(
      'pfexpose_last_success_timestamp_seconds',
      'gauge',
      'Time the agent last loaded a ruleset into the anchor; no sample before the first.',
      this.lastSuccessTime === 0 ? [] : [['', this.lastSuccessTime]],
    );
    metric('pfexpose_apply_duration_seconds', 'histogram', 'Duration of apply attempts.', [
      ...this.applyDuration.buckets().map(([le, count]): [string, number] => [`_bucket{le="${le}"}`, count]),
      ['_sum', this.applyDuration.sum],
      ['_count', this.applyDuration.count],
    ]);
    metric('pfexpose_applies_total', 'counter', 'Apply attempts by result.', [
      ...(['applied', 'unchanged', 'refused', 'failed'] as const).map((r): [string, number] => [
        `{result="${r}"}`,
        this.applies[r],
      ]),
    ]);
    metric('pfexpose_exposures', 'gauge', 'Exposures in the ruleset deployed by the agent.', [['', this.exposures]]);
    metric(
      'pfexpose_manifests_valid',
      'gauge',
      '1 when the manifests compile, 0 while they are invalid (the deployed ruleset stays).',
      [['', this.manifestsValid]],
    );
    metric('pfexpose_reloads_total', 'counter', 'Times the manifests were loaded and compiled.', [['', this.reloads]]);
    metric('pfexpose_reloads_invalid_total', 'counter', 'Loads that found invalid manifests.', [
      ['', this.reloadsInvalid],
    ]);
    metric('pfexpose_reconciles_total', 'counter', 'Comparisons of the live anchor with the manifests.', [
      ['', this.reconciles],
    ]);
    metric(
      'pfexpose_drift_detected_total',
      'counter',
      'Reconciles that found the live anchor different from what the agent applied.',
      [['', this.driftDetected]],
    );
    metric('pfexpose_drift_repairs_total', 'counter', 'Drift repaired by loading the ruleset again.', [
      ['', this.driftRepairs],
    ]);
    metric(
      'pfexpose_preflight_ok',
      'gauge',
      '1 when the last reconcile found pf enabled and the main ruleset calling the anchor (nothing is loaded while 0).',
      [['', this.preflightOk]],
    );
    metric(
      'pfexpose_preflight_failures_total',
      'counter',
      'Preflight problems found by reconciles (pf disabled, anchor hooks missing), each counted once.',
      [['', this.preflightFailures]],
    );
    metric(
      'pfexpose_held',
      'gauge',
      "1 while the agent keeps a ruleset loaded by pfexpose rollback or an unconfirmed apply's revert, until the manifests change.",
      [['', this.held]],
    );
    metric(
      'pfexpose_containers_stale',
      'gauge',
      "1 while a container's address is held by another jail, or no longer by its own (jls): nothing is loaded.",
      [['', this.containersStale]],
    );
    this.renderExposures(metric);
    metric('pfexpose_pulls_total', 'counter', 'git pulls of the manifest checkout by result.', [
      ...(['updated', 'current', 'failed'] as const).map((r): [string, number] => [`{result="${r}"}`, this.pulls[r]]),
    ]);
    metric(
      'pfexpose_manifests_unsettled',
      'gauge',
      'Manifest files new or changed and not yet unchanged for the settle period (nothing is compiled meanwhile).',
      [['', this.unsettledFiles]],
    );
    metric(
      'pfexpose_pull_failing',
      'gauge',
      '1 while the last git pull failed (the agent goes on with the checkout it has).',
      [['', this.pullFailure === null ? 0 : 1]],
    );
    metric(
      'pfexpose_metrics_connections_refused_total',
      'counter',
      'Connections to this server closed at once because it already had its maximum.',
      [['', this.connectionsRefused]],
    );
    metric('pfexpose_up', 'gauge', '1 while the agent is healthy (see /healthz).', [
      ['', this.currentHealth().healthy ? 1 : 0],
    ]);
    return `${out.join('\n')}\n`;
  }
}

/** The identity of this process; the version comes from the caller (the CLI owns it). */
export function processIdentity(version: string): AgentIdentity {
  return {
    version,
    node: process.version,
    platform: process.platform,
    startTimeSeconds: Math.round(Date.now() / 1000 - process.uptime()),
  };
}

/** A label value in the exposition format: backslash, double quote and newline escaped. */
function labelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Number(value.toFixed(6)).toString();
}
