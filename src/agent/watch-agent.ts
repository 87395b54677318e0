// The agent's loop: file changes (debounced), a reconcile interval, an optional git pull interval
// and requests from signals all become cycles that run one at a time. A cycle reads the manifests
// (only changed files), compiles, compares with what is deployed and applies only a difference.
// Invalid manifests never reach pf; drift is repaired or reported; a reconcile checks what apply's
// preflight checks; a rollback or a confirm revert is held until the manifests change.
//
// Three parts: the scheduler (agent-scheduler.ts) says when a job runs; decide.ts says, from what
// a cycle observed and what the agent remembers, what to do, say and remember; this file is the
// effect runner: it makes the observations (read, compile, ask pf) and carries the decisions out.
import type { LabelCountersResult } from '../pf/pfctl-api.js';
import { exposureSamples } from '../apply/exposure-status.js';
import { MAX_EXPOSURE_SERIES } from './agent-metrics.js';
import { hasErrors, sortDiagnostics } from '../diagnostics/diagnostic.js';
import type { ApplyOutcome, ApplyRequest, PendingOutcome } from '../apply/apply-ruleset.js';
import type { PreflightResult } from '../apply/preflight.js';
import type { DeployedRead } from '../apply/read-deployed.js';
import { linesDigest, normalizedLines } from '../pf/rule-lines.js';
import { type AppliedRecord } from '../apply/state-dir.js';
import { gatewayRetry, type GatewayDetection } from '../compile/compile-with-gateway.js';
import type { CompileOutcome } from '../compile/options.js';
import type { AgentLog, LogFields } from './agent-log.js';
import type { AgentMetrics } from './agent-metrics.js';
import { AgentScheduler, type Job } from './agent-scheduler.js';
import { decide, decideApplied, formatDiagnostic } from './decide.js';
import type { AgentEvent, Decision, DriftMode, Hold, Observation, Problem, Reported, Target } from './decide.js';
import type { AnchorFact, AnchorProblemStatus } from './health.js';
import { OnceEachWhileItLasts, OnceWhileItLasts } from './once-while-it-lasts.js';
import type { ManifestSnapshot } from './manifest-cache.js';
import type { PullResult } from './pull-checkout.js';

export interface AgentDeps {
  readManifests(): Promise<ManifestSnapshot>;
  /** Compiles the snapshot; gateway, when given, is the detected gateway interface. */
  compile(snapshot: ManifestSnapshot, gateway: string | undefined): CompileOutcome;
  /** `route -n get default`: used only when the manifests name no gateway and no flag does. */
  detectGateway(): Promise<GatewayDetection>;
  readDeployed(anchor: string): Promise<DeployedRead>;
  /** apply's hook check (pfctl -sn / -sr of the main ruleset): run by every reconcile. */
  checkHooks(anchor: string): Promise<PreflightResult>;
  apply(request: ApplyRequest): Promise<ApplyOutcome>;
  /** The newest history entry of the state directory for the anchor, or null: tells a hold. */
  readNewestRecord(anchor: string): Promise<(AppliedRecord & { sequence: number }) | null>;
  /**
   * Looks at a pending `apply --confirm` window: none, still open (waiting), or expired and now
   * reverted (or not). Called on every reconcile.
   */
  resolvePendingConfirm(): Promise<PendingOutcome>;
  /** The ruleset the state directory says was applied last to the anchor, or null. */
  readRecorded(anchor: string): Promise<{ ruleset: string; manifestDigest: string } | null>;
  /**
   * StateDir.mark(): changes whenever any pfexpose process records an apply, a rollback or a
   * revert. The fast path is only taken while it is what it was when the agent verified the anchor.
   */
  readStateMark(): Promise<string>;
  /** Writes the lock file when the compile changed it; returns why it failed, or null. */
  writeLock?(outcome: CompileOutcome): Promise<string | null>;
  /**
   * The stale-address guard (src/apply/check-containers.ts) on a valid compile: pass (with the
   * outcome to apply, stopped containers' exposures left out when they are withheld), or refuse
   * (pf keeps what it holds). Absent: no jls, nothing is checked.
   */
  checkContainers?(outcome: CompileOutcome): Promise<ContainerGate>;
  /** `pfctl -a ANCHOR -s labels`, read at each reconcile for the per-exposure metrics. Absent: none exported. */
  readCounters?(anchor: string): Promise<LabelCountersResult>;
  /**
   * Brings the manifest checkout to its upstream (see pull-checkout.ts): bounded in time; the
   * signal aborts it (the agent is stopping).
   */
  pull?(signal: AbortSignal): Promise<PullResult>;
  /**
   * Work that only warms caches (reading, parsing and checking the changed files), run while a
   * burst's quiet period runs out, so that the cycle after it has little left to do. Never
   * decides anything: the cycle reads and checks again whatever changed since.
   */
  prepare?(gateway: string | undefined): Promise<void>;
  log: AgentLog;
  metrics: AgentMetrics;
  now?: () => Date;
}

/** What the stale-address guard lets through to pf (see AgentDeps.checkContainers). */
export type ContainerGate =
  | { kind: 'pass'; outcome: CompileOutcome; warnings: string[]; withheld: string[] }
  | { kind: 'refuse'; message: string; findings: string[] };

export interface AgentOptions {
  anchor: string;
  /** Quiet time after the last file event before a cycle starts. */
  debounceMs: number;
  /** A burst that never pauses still gets a cycle after this long. Default 20 × debounce, at least 5 s. */
  maxWaitMs?: number;
  /** Reconcile interval; 0 turns the timer off (SIGHUP still reconciles). */
  intervalMs: number;
  /** git pull interval, or null for none. */
  pullIntervalMs: number | null;
  drift: DriftMode;
  /** True when --gateway was given: never ask the routing table. */
  gatewayGiven: boolean;
  killStates: boolean;
  /** How long an apply waits for another pfexpose process holding the lock. */
  lockWaitMs: number;
  /**
   * /healthz turns 503 when one cycle (or pull) has run this long, or the manifests have had a
   * file that never settled this long. Default: 5 minutes plus lockWaitMs.
   */
  stuckAfterMs?: number;
}

type CycleKind = 'change' | 'reconcile';

export class WatchAgent {
  private readonly deps: AgentDeps;
  private readonly options: AgentOptions;
  /** Owns the timers and runs the jobs (cycles and pulls) one at a time. */
  private readonly scheduler: AgentScheduler;
  /**
   * The ruleset text the agent believes pf holds (applied by it, recorded, or found in place);
   * null when it does not know. Rendering is deterministic, so equal text means equal rules.
   */
  private knownRuleset: string | null = null;
  /**
   * The ruleset the agent itself saw in the live anchor (its last reconcile found it in sync, or
   * its last apply loaded and read it back), and the state directory's mark at that moment; null
   * when unverified. A manifest change then takes apply's fast path, skipping the reads and the dry
   * run before the load (the next reconcile re-reads the anchor and the hooks anyway), as long as
   * no other pfexpose process has recorded a load since (the mark is unchanged).
   */
  private verified: { ruleset: string; mark: string } | null = null;
  /** normalizedLines of the last ruleset compared with the live anchor, kept between reconciles. */
  private normalized: { text: string; lines: string[] } | null = null;
  private lastGood: CompileOutcome | null = null;
  /** What was reported once and still lasts (see Reported), with the value it was reported with. */
  private reported = new OnceWhileItLasts<Reported>();
  /** The manifest warnings of the last valid compile (file, code, message), each logged once. */
  private readonly warned = new OnceEachWhileItLasts();
  private ownRevertPending = false;
  /** SIGHUP asked for a reconcile: its result is logged at info even when nothing changed. */
  private signalled = false;
  /** The cycle runs for a SIGHUP: debug lines are promoted to info, and it always ends with a line. */
  private announcing = false;
  /** Lines at info or above logged by the current cycle (an announced cycle logs at least one). */
  private loggedThisCycle = 0;
  private detectedGateway: string | undefined;
  private readonly changedPaths = new Set<string>();
  /** The load in progress (an apply, or the revert of an expired confirm window): stop waits for it. */
  private loading: Promise<unknown> | null = null;
  /** Aborts a pull in progress when the agent stops. */
  private readonly aborter = new AbortController();

  constructor(deps: AgentDeps, options: AgentOptions) {
    this.deps = deps;
    this.options = options;
    deps.metrics.stuckAfterMs = options.stuckAfterMs ?? 300_000 + options.lockWaitMs;
    this.scheduler = new AgentScheduler(
      {
        debounceMs: options.debounceMs,
        ...(options.maxWaitMs === undefined ? {} : { maxWaitMs: options.maxWaitMs }),
        intervalMs: options.intervalMs,
        pullIntervalMs: deps.pull === undefined ? null : options.pullIntervalMs,
      },
      {
        run: (job) => this.runJob(job),
        ...(deps.prepare === undefined
          ? {}
          : {
              prepare: () =>
                deps.prepare?.(this.options.gatewayGiven ? undefined : this.detectedGateway) ?? Promise.resolve(),
            }),
      },
    );
  }

  private get stopping(): boolean {
    return this.scheduler.stopped;
  }

  /** Reads what was recorded, reconciles once at once, and starts the timers. */
  async start(): Promise<void> {
    const recorded = await this.deps.readRecorded(this.options.anchor).catch(() => null);
    this.knownRuleset = recorded?.ruleset ?? null;
    this.scheduler.schedule('reconcile');
    this.scheduler.startTimers();
  }

  /** A file event: starts or extends the quiet period. */
  notifyChange(path: string): void {
    if (this.stopping) return;
    this.changedPaths.add(path);
    this.scheduler.fileChanged();
  }

  /** SIGHUP: compare the live anchor with the manifests now, and log what was found. */
  reconcileNow(): void {
    if (this.stopping) return;
    this.signalled = true;
    this.scheduler.schedule('reconcile');
  }

  /** Resolves when no cycle runs and none is due (timers aside): for tests and the bench. */
  async idle(): Promise<void> {
    await this.scheduler.idle();
  }

  /**
   * SIGTERM/SIGINT: no new cycle, pull or load starts, a pull in progress is killed, and only a
   * load already in progress is waited for (a cycle still reading or comparing is abandoned: it
   * stops before it would load). So a stop never waits on anything but pfctl's bounded load.
   */
  async stop(): Promise<void> {
    this.scheduler.stop();
    this.aborter.abort();
    if (this.loading !== null) await this.loading.catch(() => undefined);
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** One job of the scheduler: a pull, or a cycle; a failure is reported, never thrown. */
  private async runJob(job: Job): Promise<void> {
    // /healthz turns 503 if this job never ends (see AgentMetrics.currentHealth).
    this.deps.metrics.busySince = performance.now();
    try {
      if (job === 'pull') {
        await this.runPull();
        return;
      }
      this.announcing = job === 'reconcile' && this.signalled;
      if (this.announcing) this.signalled = false;
      this.loggedThisCycle = 0;
      try {
        await this.cycle(job);
        this.reported.clear('internal');
      } finally {
        if (this.announcing && this.loggedThisCycle === 0 && !this.stopping) {
          const health = this.deps.metrics.health;
          this.log(
            'info',
            'reconciled',
            `reconcile requested by SIGHUP: ${health.reason ?? `anchor "${this.options.anchor}" is as it should be`}`,
            { status: health.status },
          );
        }
        this.announcing = false;
      }
    } catch (error) {
      // A bug in a cycle must not end the agent: say so (once while every cycle hits it) and wait
      // for the next trigger.
      this.reportProblem(
        'internal',
        'error',
        'internal-error',
        `internal error in the agent: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      this.deps.metrics.busySince = null;
    }
  }

  /** Runs a load (apply or revert) unless the agent is stopping; stop() waits for it. */
  private async load<T>(run: () => Promise<T>): Promise<T | null> {
    if (this.stopping) return null;
    const running = run();
    this.loading = running;
    try {
      return await running;
    } finally {
      if (this.loading === running) this.loading = null;
    }
  }

  private async runPull(): Promise<void> {
    if (this.deps.pull === undefined) return;
    const result = await this.deps.pull(this.aborter.signal);
    if (this.stopping) return;
    const metrics = this.deps.metrics;
    metrics.pulls[result.kind] += 1;
    switch (result.kind) {
      case 'failed':
        // The checkout keeps its last good state and the agent goes on with it; /healthz says so
        // (503 pull-failed) until a pull succeeds.
        metrics.pullFailure = result.message;
        this.reportProblem(
          'pull',
          'error',
          'pull-failed',
          `git pull failed; the agent goes on with the checkout as it was: ${result.message}`,
          {
            durationMs: result.durationMs,
          },
        );
        return;
      case 'current':
        this.pullRecovered();
        this.log('debug', 'pull-current', 'git pull: already up to date', {
          head: result.head,
          durationMs: result.durationMs,
        });
        return;
      case 'updated':
        this.pullRecovered();
        if (!result.fastForward) {
          this.log(
            'warn',
            'pull-rewritten',
            `the upstream history was rewritten: the checkout was reset from ${result.from.slice(0, 12)} to ${result.to.slice(0, 12)}, which does not descend from it`,
            {
              from: result.from,
              to: result.to,
            },
          );
        }
        this.log('info', 'pulled', `git pull: ${result.from.slice(0, 12)} -> ${result.to.slice(0, 12)}`, {
          from: result.from,
          to: result.to,
          durationMs: result.durationMs,
        });
        this.scheduler.schedule('reconcile');
        return;
    }
  }

  private pullRecovered(): void {
    this.deps.metrics.pullFailure = null;
    this.problemEnded('pull', 'pull-ok', 'git pull works again');
  }

  /**
   * A problem that may repeat on every cycle (a failing pull, an unreadable anchor, a refused
   * apply): logged at `level` when it starts or its message changes, at debug (`still: ...`)
   * while it lasts; problemEnded says when it is over.
   */
  private reportProblem(
    problem: Problem,
    level: 'warn' | 'error',
    event: string,
    message: string,
    fields?: LogFields,
  ): void {
    if (!this.reported.report(problem, message)) {
      this.log('debug', event, `still: ${message}`, fields);
      return;
    }
    this.log(level, event, message, fields);
  }

  /** The end of a problem reportProblem logged: one line at info; nothing when there was none. */
  private problemEnded(problem: Problem, event: string, message: string): void {
    if (!this.reported.clear(problem)) return;
    this.log('info', event, message);
  }

  private async cycle(kind: CycleKind): Promise<void> {
    await this.scheduler.prepared();
    const started = performance.now();
    const changed = [...this.changedPaths];
    this.changedPaths.clear();
    const snapshot = await this.deps.readManifests();
    if (this.stopping) return;
    if (!snapshot.stable) {
      // A file is new or changed and has not stayed the same for the settle period yet (or it
      // changed while it was read): nothing is compiled from it; look again when it may have settled.
      this.log(
        'debug',
        'unsettled',
        `waiting for ${snapshot.unsettled.length} manifest file(s) to stay unchanged: ${snapshot.unsettled.slice(0, 5).join(', ')}`,
        {
          files: snapshot.unsettled.length,
          settleInMs: snapshot.settleInMs,
        },
      );
      const metrics = this.deps.metrics;
      metrics.unsettledSince ??= performance.now();
      metrics.unsettledFiles = snapshot.unsettled.length;
      for (const path of changed) this.changedPaths.add(path);
      this.scheduler.lookAgainAfter(snapshot.settleInMs ?? this.options.debounceMs, kind === 'reconcile');
      return;
    }
    this.deps.metrics.unsettledSince = null;
    this.deps.metrics.unsettledFiles = 0;
    // apply's gateway policy; the gateway route(8) gave is kept between cycles and asked again on each
    // reconcile (a default route that moved changes the rules).
    const retried = await gatewayRetry(
      { compile: (gateway) => this.compile(snapshot, gateway), detect: () => this.deps.detectGateway() },
      { given: this.options.gatewayGiven, known: this.detectedGateway, recheck: kind === 'reconcile' },
    );
    const outcome = retried.outcome;
    if (retried.kind === 'no-gateway') {
      this.reportProblem('gateway', 'warn', 'gateway-unknown', retried.message);
    } else if (retried.detected !== null) {
      this.problemEnded('gateway', 'gateway-found', `the default route leaves through ${retried.detected} again`);
      if (this.detectedGateway !== undefined) {
        this.log(
          'info',
          'gateway-changed',
          `the default route now leaves through ${retried.detected} (was ${this.detectedGateway})`,
        );
      }
      this.detectedGateway = retried.detected;
    }
    const metrics = this.deps.metrics;
    metrics.reloads += 1;
    const loadFields: LogFields = {
      files: outcome.files.length,
      reread: snapshot.reread.length,
      compileMs: Math.round(performance.now() - started),
    };

    // What the manifests say: this compile, or while they are invalid the last one that succeeded
    // (null: none has since the agent started).
    let compiled: CompileOutcome | null;
    if (outcome.ok) {
      if (this.reported.clear('manifests-invalid'))
        this.log('info', 'manifests-valid', 'the manifests are valid again');
      metrics.healthFacts.manifestsInvalid = false;
      metrics.manifestsValid = 1;
      this.lastGood = outcome;
      compiled = outcome;
      this.logNewWarnings(outcome);
    } else {
      metrics.manifestsValid = 0;
      metrics.reloadsInvalid += 1;
      if (this.reported.report('manifests-invalid', outcome.manifestDigest)) {
        const errors = outcome.diagnostics.filter((d) => d.severity === 'error');
        this.log(
          'error',
          'manifests-invalid',
          `the manifests have ${errors.length} error(s); pf keeps the deployed ruleset until they are fixed`,
          {
            ...loadFields,
            errors: errors.length,
            diagnostics: outcome.diagnostics.slice(0, 50).map(formatDiagnostic),
          },
        );
      }
      metrics.healthFacts.manifestsInvalid = true;
      // A change has nothing to apply. A reconcile still checks pf (preflight, anchor) and guards
      // what is deployed: the last ruleset that compiled, or else the one recorded as last applied.
      if (kind === 'change') return;
      compiled = this.lastGood;
    }

    // The guard runs on whatever the agent is about to keep in pf: this cycle's compile, or the last
    // good one while the manifests are invalid (a drift repair must not send traffic to another jail).
    if (compiled !== null && this.deps.checkContainers !== undefined) {
      const gate = await this.deps.checkContainers(compiled);
      if (gate.kind === 'refuse') {
        // A manifest that is merely out of date must not send traffic to another jail: pf keeps
        // what it holds (no apply, no drift repair) until the manifests or the jails change.
        metrics.containersStale = 1;
        this.verified = null;
        this.reportProblem('containers', 'error', 'containers-stale', gate.message, { findings: gate.findings });
        return;
      }
      metrics.containersStale = 0;
      this.problemEnded('containers', 'containers-ok', 'the containers hold their addresses again');
      if (gate.warnings.length > 0)
        this.reportProblem('containers-warn', 'warn', 'containers-warning', gate.warnings.join('; '), {
          withheld: gate.withheld,
        });
      else this.problemEnded('containers-warn', 'containers-running', 'every container runs again');
      compiled = gate.outcome;
    }

    if (kind === 'reconcile') {
      // Whatever this reconcile finds, the fast path needs it to end in sync: a reconcile that
      // stops early (pf disabled, hooks gone, anchor unreadable) leaves the next apply the full path.
      this.verified = null;
      metrics.reconciles += 1;
    }
    if (!(await this.resolvePendingConfirm())) {
      this.verified = null;
      return;
    }

    let target: Target | null;
    if (compiled !== null) {
      // A rollback or a confirm revert newer than anything the agent applied: keep what it loaded.
      const hold = await this.readHold(compiled);
      if (hold !== null) {
        this.verified = null;
        this.knownRuleset = hold.ruleset;
        metrics.held = 1;
        target = {
          ruleset: hold.ruleset,
          exposures: [],
          manifestDigest: hold.manifestDigest,
          compiled: null,
          held: hold,
        };
      } else {
        metrics.held = 0;
        target = {
          ruleset: compiled.ruleset,
          exposures: compiled.exposures,
          manifestDigest: compiled.manifestDigest,
          compiled,
          held: null,
        };
      }
    } else {
      // No compile has succeeded since the agent started: guard the ruleset recorded as last applied.
      const recorded = await this.deps.readRecorded(this.options.anchor).catch(() => null);
      target =
        recorded === null
          ? null
          : {
              ruleset: recorded.ruleset,
              exposures: [],
              manifestDigest: recorded.manifestDigest,
              compiled: null,
              held: null,
            };
    }

    const common = { anchor: this.options.anchor, target, targetLines: null, announced: this.announcing };
    let observation: Observation;
    if (kind === 'change') {
      observation = { ...common, kind, loadFields, healthy: metrics.health.healthy };
    } else {
      // Read before the anchor: a load by another pfexpose process after it changes the mark.
      const mark = await this.deps.readStateMark().catch(() => null);
      const live = await this.deps.readDeployed(this.options.anchor);
      const hooks = live.kind === 'ok' ? await this.deps.checkHooks(this.options.anchor) : null;
      if (live.kind === 'ok') await this.readExposureCounters(target);
      const targetLines = target === null || live.kind !== 'ok' ? null : this.normalize(target.ruleset);
      observation = { ...common, kind, targetLines, drift: this.options.drift, mark, live, hooks };
    }
    await this.carryOut(
      decide(observation, { reported: this.reported, knownRuleset: this.knownRuleset, verified: this.verified }),
      loadFields,
    );
  }

  /**
   * pf's counters for the exposures the agent means pf to hold, for /metrics (as of this
   * reconcile). A failure to read them is logged at debug level and leaves the last ones.
   */
  private async readExposureCounters(target: Target | null): Promise<void> {
    if (this.deps.readCounters === undefined) return;
    const read = await this.deps.readCounters(this.options.anchor).catch(() => null);
    if (read === null || (read.kind !== 'ok' && read.kind !== 'anchor-missing')) {
      this.log(
        'debug',
        'counters-unread',
        `the label counters could not be read${read === null ? '' : `: ${read.message}`}`,
      );
      return;
    }
    const { samples, dropped } = exposureSamples(
      target?.exposures ?? [],
      read.kind === 'ok' ? read.counters : [],
      MAX_EXPOSURE_SERIES,
    );
    this.deps.metrics.exposureSamples = samples;
    this.deps.metrics.exposureSamplesDropped = dropped;
  }

  /** The effect runner: takes what decide() remembers, says and counts what it found, and loads. */
  private async carryOut(decision: Decision, loadFields: LogFields): Promise<void> {
    this.reported = decision.memory.reported;
    this.knownRuleset = decision.memory.knownRuleset;
    this.verified = decision.memory.verified;
    if (decision.health !== undefined) this.setAnchorFact(decision.health);
    this.say(decision.events);
    for (const action of decision.actions) {
      if (action.kind === 'write-lock') await this.writeLock(action.compiled);
      else if (action.kind === 'say') this.say(action.events);
      else await this.applyTarget(action.target, action.drift, loadFields);
    }
  }

  /** Logs and counts what a decision found. */
  private say(events: readonly AgentEvent[]): void {
    const metrics = this.deps.metrics;
    for (const event of events) {
      switch (event.kind) {
        case 'log':
          this.log(event.level, event.event, event.message, event.fields);
          break;
        case 'count':
          metrics[event.counter] += 1;
          break;
        case 'gauge':
          metrics[event.gauge] = event.value;
          break;
        case 'in-sync':
          metrics.recordInSync(this.now());
          break;
      }
    }
  }

  private async applyTarget(target: Target, drift: boolean, loadFields: LogFields): Promise<void> {
    const metrics = this.deps.metrics;
    const started = performance.now();
    const fast = await this.fastPath(target, drift);
    this.verified = null;
    const outcome = await this.load(() =>
      this.deps.apply({
        ...(fast === null ? {} : { assumeDeployed: fast.ruleset, assumeStateMark: fast.mark }),
        anchor: this.options.anchor,
        ruleset: target.ruleset,
        exposures: target.exposures,
        manifestDigest: target.manifestDigest,
        killStates: this.options.killStates,
        lockWaitMs: this.options.lockWaitMs,
      }),
    );
    // Stopping: no load was started.
    if (outcome === null) return;
    const seconds = (performance.now() - started) / 1000;
    metrics.recordApply(outcome.kind, seconds, this.now());
    const durationMs = Math.round(seconds * 1000);
    const lines =
      outcome.kind === 'applied'
        ? { previous: normalizedLines(outcome.previous), target: this.normalize(target.ruleset) }
        : null;
    await this.carryOut(
      decideApplied(
        { anchor: this.options.anchor, target, drift, outcome, durationMs, loadFields, lines },
        { reported: this.reported, knownRuleset: this.knownRuleset, verified: this.verified },
      ),
      loadFields,
    );
  }

  /**
   * The ruleset the agent saw in the anchor, when a load towards the manifests may skip reading it
   * first: only while the state directory is as it was then (no apply, rollback or revert by
   * another pfexpose process since; the apply core checks that again under the lock).
   */
  private async fastPath(target: Target, drift: boolean): Promise<{ ruleset: string; mark: string } | null> {
    const verified = this.verified;
    if (verified === null || drift || target.held !== null || target.compiled === null) return null;
    const mark = await this.deps.readStateMark().catch(() => null);
    return mark === verified.mark ? verified : null;
  }

  /** Writes the lock file of a compile that changed it, once pf holds (or already held) its ruleset. */
  private async writeLock(compiled: CompileOutcome): Promise<void> {
    if (this.deps.writeLock === undefined || !compiled.lockChanged) return;
    const failure = await this.deps.writeLock(compiled);
    if (failure === null) {
      this.reported.clear('lock-write');
      this.log('info', 'lock-updated', `updated ${compiled.lockPath}`);
    } else {
      // Every cycle whose compile changes the lock tries again: said once while it fails the same way.
      this.reportProblem(
        'lock-write',
        'warn',
        'lock-write-failed',
        `cannot write the lock file ${compiled.lockPath}: ${failure}`,
      );
    }
  }

  /** A problem with pf or the anchor; invalid manifests are named beside it (see health.ts). */
  private unhealthy(status: AnchorProblemStatus, reason: string): void {
    this.setAnchorFact({ status, reason });
  }

  private setAnchorFact(fact: AnchorFact): void {
    this.deps.metrics.healthFacts.anchor = fact;
  }

  /**
   * The hold, if there is one: the newest history entry for the anchor is a rollback or a confirm
   * revert (so it is newer than the agent's own last apply, which is in the history too), and the
   * manifests still are what it undid: the same manifest digest, or a ruleset with the same rules
   * (a comment-only edit, or the same files under another path). New manifests end the hold.
   */
  private async readHold(desired: CompileOutcome): Promise<Hold | null> {
    const newest = await this.deps.readNewestRecord(this.options.anchor).catch(() => null);
    if (newest?.kind === 'confirm-revert')
      this.noteConfirmRevert(`${newest.sequence}:${newest.appliedAt}`, newest.appliedAt);
    if (
      newest === null ||
      (newest.kind !== 'rollback' && newest.kind !== 'confirm-revert') ||
      newest.undone === undefined
    ) {
      this.reported.clear('hold');
      this.reported.clear('hold-announced');
      this.reported.clear('hold-released');
      return null;
    }
    const key = `${newest.sequence}:${newest.appliedAt}`;
    const undone = newest.undone;
    const sameManifests = undone.manifestDigest !== '' && undone.manifestDigest === desired.manifestDigest;
    const sameRules = !sameManifests && undone.linesDigest === linesDigest(this.normalize(desired.ruleset));
    const hold: Hold = {
      kind: newest.kind,
      ruleset: newest.ruleset,
      manifestDigest: newest.manifestDigest,
      appliedAt: newest.appliedAt,
      key,
    };
    if (sameManifests || sameRules) {
      // A new hold: neither announced nor released yet.
      if (this.reported.report('hold', key)) {
        this.reported.clear('hold-announced');
        this.reported.clear('hold-released');
      }
      return hold;
    }
    if (this.reported.current('hold') === key && this.reported.current('hold-released') !== key) {
      this.log(
        'info',
        'hold-released',
        `the manifests changed since the ${hold.kind} at ${hold.appliedAt}: applying them again`,
        { heldBy: hold.kind },
      );
    }
    this.reported.report('hold', key);
    this.reported.report('hold-announced', key);
    this.reported.report('hold-released', key);
    return null;
  }

  /**
   * A confirm revert in the history (the watchdog's, or another process's): logged once, whether or
   * not the agent holds it, so the agent's log says that an unconfirmed apply was undone.
   */
  private noteConfirmRevert(key: string, at: string): void {
    if (!this.reported.report('confirm-reverted', key)) return;
    if (this.ownRevertPending) {
      this.ownRevertPending = false;
      return;
    }
    this.log(
      'warn',
      'confirm-reverted',
      `an apply made with --confirm was not confirmed in time and was reverted at ${at} (by its watchdog or another pfexpose process): anchor "${this.options.anchor}" holds the ruleset from before it`,
      {
        revertedAt: at,
      },
    );
  }

  /**
   * An `apply --confirm` window: the agent leaves the anchor alone while it is open (the operator
   * is testing a change), and reverts it once expired if the watchdog has not. False: stop here.
   */
  private async resolvePendingConfirm(): Promise<boolean> {
    // It may revert an expired window: a load, which stop() waits for (and never starts while stopping).
    const pending = await this.load(() => this.deps.resolvePendingConfirm());
    if (pending === null) return false;
    switch (pending.kind) {
      case 'none':
        this.reported.clear('confirm-wait');
        this.problemEnded(
          'confirm-revert',
          'confirm-settled',
          'the unconfirmed apply is settled: no confirmation window is pending any more',
        );
        return true;
      case 'waiting':
        if (this.reported.report('confirm-wait', pending.deadline)) {
          this.log(
            'info',
            'confirm-pending',
            `an apply made with --confirm awaits pfexpose confirm until ${pending.deadline}; the agent leaves anchor "${pending.anchor}" alone until then`,
            {
              deadline: pending.deadline,
            },
          );
        }
        this.setAnchorFact({
          status: 'awaiting-confirmation',
          reason: `an apply made with --confirm awaits pfexpose confirm until ${pending.deadline}`,
        });
        return false;
      case 'reverted':
        this.reported.clear('confirm-wait');
        this.reported.clear('confirm-revert');
        // The agent's own revert: said here; its history entry is not said again.
        this.ownRevertPending = true;
        this.log(
          'warn',
          'confirm-reverted',
          `an apply made with --confirm was not confirmed in time: the agent put back the ruleset anchor "${pending.anchor}" held before it`,
        );
        return true;
      case 'failed':
      case 'refused':
        this.unhealthy('confirm-revert-failed', pending.reason);
        this.reportProblem(
          'confirm-revert',
          'error',
          'confirm-revert-failed',
          `an unconfirmed apply passed its deadline, but reverting it did not succeed: ${pending.reason}`,
        );
        return false;
    }
  }

  /** Warnings are worth one mention each while they last, not one per version of the manifests. */
  private logNewWarnings(outcome: CompileOutcome): void {
    let logged = 0;
    this.warned.begin();
    for (const warning of outcome.diagnostics.filter((d) => d.severity === 'warning')) {
      // Without its position: an edit above a warning moves it, and that is not a new warning.
      const key = `${warning.file}\u0000${warning.code}\u0000${warning.message}`;
      if (!this.warned.report(key) || logged >= 20) continue;
      logged += 1;
      this.log('warn', 'manifest-warning', formatDiagnostic(warning), { code: warning.code });
    }
    this.warned.end();
  }

  private normalize(text: string): string[] {
    if (this.normalized?.text !== text) this.normalized = { text, lines: normalizedLines(text) };
    return this.normalized.lines;
  }

  private compile(snapshot: ManifestSnapshot, gateway: string | undefined): CompileOutcome {
    const outcome = this.deps.compile(snapshot, gateway);
    if (snapshot.diagnostics.length === 0) return outcome;
    // Files that could not be read make the set incomplete: never deploy a partial set.
    const diagnostics = sortDiagnostics([...snapshot.diagnostics, ...outcome.diagnostics]);
    if (!hasErrors(snapshot.diagnostics)) return { ...outcome, diagnostics };
    return { ...outcome, ok: false, diagnostics, exposures: [], ruleset: '' };
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', event: string, message: string, fields?: LogFields): void {
    if (level !== 'debug') this.loggedThisCycle += 1;
    this.deps.log.log(level, event, message, fields);
  }
}
