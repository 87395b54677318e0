// The agent's loop: file changes (debounced), a reconcile interval, an optional git pull interval
// and requests from signals all become cycles that run one at a time. A cycle reads the manifests
// (only changed files), compiles, compares with what is deployed and applies only a difference.
// Invalid manifests never reach pf; drift is repaired or reported; a reconcile checks what apply's
// preflight checks; a rollback or a confirm revert is held until the manifests change.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { diagnosticPlace, hasErrors, sortDiagnostics } from '../diagnostics/diagnostic.js';
import type { ApplyOutcome, ApplyRequest, PendingOutcome } from '../apply/apply-ruleset.js';
import { unmanagedTablesWarning } from '../apply/apply-ruleset.js';
import type { PreflightResult } from '../apply/preflight.js';
import type { DeployedRead } from '../apply/read-deployed.js';
import { linesDigest, normalizedLines, sameLines } from '../pf/rule-lines.js';
import { type AppliedRecord } from '../apply/state-dir.js';
import { gatewayRetry, type GatewayDetection } from '../compile/compile-with-gateway.js';
import type { CompileOutcome } from '../compile/options.js';
import type { AgentLog, LogFields } from './agent-log.js';
import type { AgentHealth, AgentMetrics } from './agent-metrics.js';
import { boundedLines, countExposureChanges } from './exposure-counts.js';
import type { ManifestSnapshot } from './manifest-cache.js';
import type { PullResult } from './pull-checkout.js';

export type DriftMode = 'correct' | 'warn';

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
  settlePendingConfirm(): Promise<PendingOutcome>;
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

/** A rollback or a confirm revert the agent keeps in place (see readHold). */
interface Hold {
  kind: 'rollback' | 'confirm-revert';
  /** What it loaded. */
  ruleset: string;
  manifestDigest: string;
  appliedAt: string;
  /** Tells one hold from the next. */
  key: string;
}

/** What a cycle compares the live anchor with, and loads when they differ. */
interface Target {
  ruleset: string;
  exposures: CompileOutcome['exposures'];
  manifestDigest: string;
  /** The compile it comes from (the manifests now, or the last that compiled); null: held or recorded. */
  compiled: CompileOutcome | null;
  /** A rollback or confirm revert the agent keeps in place. */
  held: Hold | null;
}

const MANIFESTS_INVALID = 'the manifests are invalid; the deployed ruleset stays';

/** How many drifted rules a drift warning names, per direction, before `and K more`. */
export const DRIFT_RULES_SHOWN = 5;

/** Problems that repeat on every cycle while they last: each is logged once, then `still:` at debug, then a line when it ends. */
type Problem = 'pull' | 'anchor' | 'gateway' | 'apply' | 'confirm-revert';

function holdSentence(hold: Hold): string {
  return hold.kind === 'rollback'
    ? `pfexpose rollback loaded an earlier ruleset at ${hold.appliedAt}`
    : `an apply made with --confirm was not confirmed and was reverted at ${hold.appliedAt}`;
}

export class WatchAgent {
  private readonly deps: AgentDeps;
  private readonly options: AgentOptions;
  private readonly pending = { change: false, reconcile: false, pull: false };
  private draining: Promise<void> | null = null;
  private debounceTimer: NodeJS.Timeout | undefined;
  private prepareTimer: NodeJS.Timeout | undefined;
  private preparing: Promise<void> | null = null;
  private burstStartedAt: number | null = null;
  private intervalTimer: NodeJS.Timeout | undefined;
  private pullTimer: NodeJS.Timeout | undefined;
  private stopping = false;
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
  /** The drift last reported (live and target digests), so that one drift is reported once. */
  private driftSeen: string | null = null;
  /** normalizedLines of the last ruleset compared with the live anchor, kept between reconciles. */
  private normalized: { text: string; lines: string[] } | null = null;
  private lastGood: CompileOutcome | null = null;
  private lastInvalidDigest: string | null = null;
  /** The unmanaged-tables warning last logged (null: none), so it is logged once while it lasts. */
  private tablesReported: string | null = null;
  /** The manifest warnings of the last valid compile (file, code, message), each logged once. */
  private warned = new Set<string>();
  /** The hold last seen, whether it was announced, and whether new manifests released it. */
  private holdSeen: { key: string; released: boolean; logged: boolean } | null = null;
  /** The confirm revert (history sequence and time) last logged, so a watchdog's revert is said once. */
  private revertLogged: string | null = null;
  private ownRevertPending = false;
  /** The deadline of the open confirmation window last announced. */
  private lastConfirmWait: string | null = null;
  /** Why the last reconcile's preflight failed; null when it passed. */
  private lastPreflightFailure: string | null = null;
  /** The problems going on, with the message last logged for each (see reportProblem). */
  private readonly problems = new Map<Problem, string>();
  /** SIGHUP asked for a reconcile: its result is logged at info even when nothing changed. */
  private signalled = false;
  /** The cycle runs for a SIGHUP: debug lines are promoted to info, and it always ends with a line. */
  private announcing = false;
  /** Lines at info or above logged by the current cycle (an announced cycle logs at least one). */
  private loggedThisCycle = 0;
  private detectedGateway: string | undefined;
  private readonly changedPaths = new Set<string>();
  /** A reconcile that met a file being written runs when the writer has finished. */
  private reconcileAfterQuiet = false;
  /** Looks at unsettled files again once their settle period may have passed. */
  private settleTimer: NodeJS.Timeout | undefined;
  /** The load in progress (an apply, or the revert of an expired confirm window): stop waits for it. */
  private loading: Promise<unknown> | null = null;
  /** Aborts a pull in progress when the agent stops. */
  private readonly aborter = new AbortController();

  constructor(deps: AgentDeps, options: AgentOptions) {
    this.deps = deps;
    this.options = options;
    deps.metrics.stuckAfterMs = options.stuckAfterMs ?? 300_000 + options.lockWaitMs;
  }

  /** Reads what was recorded, reconciles once at once, and starts the timers. */
  async start(): Promise<void> {
    const recorded = await this.deps.readRecorded(this.options.anchor).catch(() => null);
    this.knownRuleset = recorded?.ruleset ?? null;
    this.schedule('reconcile');
    if (this.options.intervalMs > 0)
      this.intervalTimer = setInterval(() => this.schedule('reconcile'), this.options.intervalMs);
    if (this.options.pullIntervalMs !== null && this.deps.pull !== undefined) {
      this.pullTimer = setInterval(() => this.schedule('pull'), this.options.pullIntervalMs);
    }
  }

  /** A file event: starts or extends the quiet period. */
  notifyChange(path: string): void {
    if (this.stopping) return;
    this.changedPaths.add(path);
    const now = Date.now();
    this.burstStartedAt ??= now;
    clearTimeout(this.debounceTimer);
    const maxWait = this.options.maxWaitMs ?? Math.max(5000, this.options.debounceMs * 20);
    const wait = Math.max(0, Math.min(this.options.debounceMs, this.burstStartedAt + maxWait - now));
    this.debounceTimer = setTimeout(() => {
      this.burstStartedAt = null;
      this.schedule('change');
    }, wait);
    this.schedulePrepare(wait);
  }

  /** Warms the caches a short while into the quiet period (not while a cycle runs). */
  private schedulePrepare(wait: number): void {
    if (this.deps.prepare === undefined) return;
    clearTimeout(this.prepareTimer);
    const delay = Math.floor(wait / 5);
    if (delay >= wait) return;
    this.prepareTimer = setTimeout(() => {
      if (this.stopping || this.draining !== null || this.preparing !== null || this.deps.prepare === undefined) return;
      this.preparing = this.deps
        .prepare(this.options.gatewayGiven ? undefined : this.detectedGateway)
        .catch(() => undefined)
        .finally(() => {
          this.preparing = null;
        });
    }, delay);
  }

  /** Runs a cycle again once unsettled files may have settled (one timer, the earliest wins). */
  private scheduleSettleCheck(waitMs: number): void {
    if (this.stopping) return;
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.schedule('change'), Math.max(10, waitMs));
  }

  /** SIGHUP: compare the live anchor with the manifests now, and log what was found. */
  reconcileNow(): void {
    if (this.stopping) return;
    this.signalled = true;
    this.schedule('reconcile');
  }

  /** Resolves when no cycle runs and none is due (timers aside): for tests and the bench. */
  async idle(): Promise<void> {
    while (this.draining !== null) await this.draining;
  }

  /**
   * SIGTERM/SIGINT: no new cycle, pull or load starts, a pull in progress is killed, and only a
   * load already in progress is waited for (a cycle still reading or comparing is abandoned: it
   * stops before it would load). So a stop never waits on anything but pfctl's bounded load.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.debounceTimer);
    clearTimeout(this.prepareTimer);
    clearTimeout(this.settleTimer);
    clearInterval(this.intervalTimer);
    clearInterval(this.pullTimer);
    this.aborter.abort();
    if (this.loading !== null) await this.loading.catch(() => undefined);
  }

  get stopped(): boolean {
    return this.stopping;
  }

  private schedule(what: 'change' | 'reconcile' | 'pull'): void {
    if (this.stopping) return;
    this.pending[what] = true;
    if (this.draining === null) {
      this.draining = this.drain().finally(() => {
        this.draining = null;
      });
    }
  }

  private async drain(): Promise<void> {
    while (!this.stopping && (this.pending.change || this.pending.reconcile || this.pending.pull)) {
      // /healthz turns 503 if this iteration never ends (see AgentMetrics.currentHealth).
      this.deps.metrics.busySince = performance.now();
      try {
        if (this.pending.pull) {
          this.pending.pull = false;
          await this.runPull();
          continue;
        }
        const kind: CycleKind = this.pending.reconcile || this.reconcileAfterQuiet ? 'reconcile' : 'change';
        this.reconcileAfterQuiet = false;
        // A reconcile reads everything a change would: one cycle serves both.
        this.pending.reconcile = false;
        this.pending.change = false;
        this.announcing = kind === 'reconcile' && this.signalled;
        if (this.announcing) this.signalled = false;
        this.loggedThisCycle = 0;
        try {
          await this.cycle(kind);
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
        // A bug in a cycle must not end the agent: say so and wait for the next trigger.
        this.log(
          'error',
          'internal-error',
          `internal error in the agent: ${error instanceof Error ? error.message : String(error)}`,
        );
      } finally {
        this.deps.metrics.busySince = null;
      }
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
        this.pending.reconcile = true;
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
    if (this.problems.get(problem) === message) {
      this.log('debug', event, `still: ${message}`, fields);
      return;
    }
    this.problems.set(problem, message);
    this.log(level, event, message, fields);
  }

  /** The end of a problem reportProblem logged: one line at info; nothing when there was none. */
  private problemEnded(problem: Problem, event: string, message: string): void {
    if (!this.problems.delete(problem)) return;
    this.log('info', event, message);
  }

  private async cycle(kind: CycleKind): Promise<void> {
    if (this.preparing !== null) await this.preparing;
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
      if (kind === 'reconcile') this.reconcileAfterQuiet = true;
      for (const path of changed) this.changedPaths.add(path);
      this.scheduleSettleCheck(snapshot.settleInMs ?? this.options.debounceMs);
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
      if (this.lastInvalidDigest !== null) this.log('info', 'manifests-valid', 'the manifests are valid again');
      this.lastInvalidDigest = null;
      metrics.manifestsValid = 1;
      this.lastGood = outcome;
      compiled = outcome;
      this.logNewWarnings(outcome);
    } else {
      metrics.manifestsValid = 0;
      metrics.reloadsInvalid += 1;
      if (outcome.manifestDigest !== this.lastInvalidDigest) {
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
      this.lastInvalidDigest = outcome.manifestDigest;
      this.noteManifestsInvalid();
      // A change has nothing to apply. A reconcile still checks pf (preflight, anchor) and guards
      // what is deployed: the last ruleset that compiled, or else the one recorded as last applied.
      if (kind === 'change') return;
      compiled = this.lastGood;
    }

    if (kind === 'reconcile') {
      // Whatever this reconcile finds, the fast path needs it to end in sync: a reconcile that
      // stops early (pf disabled, hooks gone, anchor unreadable) leaves the next apply the full path.
      this.verified = null;
      metrics.reconciles += 1;
    }
    if (!(await this.settlePendingConfirm())) {
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
        if (kind === 'change') {
          this.logHold(hold);
          if (metrics.health.healthy) metrics.health = this.heldHealth(hold);
          this.log(
            'info',
            'held',
            `the manifests changed but are still what the ${hold.kind} undid: nothing is applied`,
            { ...loadFields, heldBy: hold.kind },
          );
          return;
        }
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

    if (kind === 'change' && target !== null && this.knownRuleset === target.ruleset) {
      this.log('info', 'unchanged', 'manifests changed, the ruleset did not: nothing to apply', {
        ...loadFields,
        exposures: target.exposures.length,
      });
      if (target.compiled !== null) await this.writeLock(target.compiled);
      return;
    }

    let drift = false;
    if (kind === 'reconcile') {
      // Read before the anchor: a load by another pfexpose process after it changes the mark.
      const mark = await this.deps.readStateMark().catch(() => null);
      const live = await this.deps.readDeployed(this.options.anchor);
      if (live.kind === 'pf-disabled') {
        this.preflightFailed(`${live.message} (and pf_enable="YES" in /etc/rc.conf)`);
        return;
      }
      if (live.kind !== 'ok') {
        this.unhealthy('anchor-unreadable', live.message);
        this.reportProblem('anchor', 'error', 'anchor-unreadable', `cannot compare the live anchor: ${live.message}`);
        return;
      }
      this.problemEnded('anchor', 'anchor-readable', `anchor "${this.options.anchor}" can be read again`);
      // The same check apply makes before it loads: an anchor the main ruleset does not call is
      // inert, and loading it would only look like success.
      const hooks = await this.deps.checkHooks(this.options.anchor);
      if (hooks.kind === 'refused') {
        this.preflightFailed(hooks.reason);
        return;
      }
      this.preflightPassed();
      // Tables pfexpose never writes: reported once, not "repaired" by reloading rules that match.
      const tables = unmanagedTablesWarning(this.options.anchor, live.tables);
      if (tables !== this.tablesReported) {
        if (tables !== null) this.log('warn', 'unmanaged-tables', tables, { tables: live.tables.length });
        this.tablesReported = tables;
      }
      if (target === null) {
        this.driftSeen = null;
        this.setHealthy(null);
        this.log(
          this.quiet(),
          'nothing-to-compare',
          `no manifests have compiled since the agent started, and no ruleset is recorded for anchor "${this.options.anchor}": nothing to compare it with`,
        );
        return;
      }
      const targetLines = this.normalize(target.ruleset);
      if (sameLines(live.lines, targetLines)) {
        this.knownRuleset = target.ruleset;
        this.driftSeen = null;
        this.setHealthy(target);
        if (target.held !== null) {
          this.logHold(target.held);
          this.log(
            this.quiet(),
            'in-sync',
            `anchor "${this.options.anchor}" holds the ruleset the ${target.held.kind} loaded`,
          );
          return;
        }
        if (target.compiled === null) {
          this.log(
            this.quiet(),
            'in-sync',
            `anchor "${this.options.anchor}" holds the ruleset recorded as last applied (the manifests have not compiled since the agent started)`,
          );
          return;
        }
        this.verified = mark === null ? null : { ruleset: target.ruleset, mark };
        metrics.exposures = target.exposures.length;
        this.log(this.quiet(), 'in-sync', `anchor "${this.options.anchor}" matches the manifests`, {
          exposures: target.exposures.length,
        });
        return;
      }
      drift = this.knownRuleset === target.ruleset;
      if (drift) {
        const { missing, unexpected } = lineDifference(live.lines, targetLines);
        const verb = this.options.drift === 'correct' ? 'repairing it' : 'not repairing it (--drift warn)';
        // The rules themselves, bounded: an operator must see what was changed, not only how much.
        const named = [
          ...boundedLines(missing, DRIFT_RULES_SHOWN).map((line) => `missing: ${line}`),
          ...boundedLines(unexpected, DRIFT_RULES_SHOWN).map((line) => `unexpected: ${line}`),
        ];
        const message = `anchor "${this.options.anchor}" was changed outside pfexpose${driftWanted(target)}: ${missing.length} rule(s) missing, ${unexpected.length} unexpected; ${verb}\n${named.join('\n')}`;
        const fields = {
          missing: missing.length,
          unexpected: unexpected.length,
          missingRules: missing.slice(0, DRIFT_RULES_SHOWN),
          unexpectedRules: unexpected.slice(0, DRIFT_RULES_SHOWN),
          tables: live.tables.length,
          mode: this.options.drift,
        };
        // One detection per distinct drift: the same live rules against the same target are
        // logged (and counted) once while they last, not again on every reconcile.
        const key = `${linesDigest(live.lines)}:${linesDigest(targetLines)}`;
        if (key !== this.driftSeen) {
          metrics.driftDetected += 1;
          this.log('warn', 'drift', message, fields);
        } else {
          this.log(this.quiet(), 'drift', `still: ${message}`, fields);
        }
        this.driftSeen = key;
        if (this.options.drift === 'warn') {
          metrics.health = {
            healthy: true,
            status: 'drift',
            reason: `the live anchor differs from ${driftWhat(target)} (--drift warn)`,
          };
          return;
        }
      }
    }
    if (target === null) return;
    if (target.held !== null) this.logHold(target.held);
    await this.applyTarget(target, drift, loadFields);
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
    const exposures = target.exposures.length;
    switch (outcome.kind) {
      case 'unchanged':
      case 'applied': {
        this.problemEnded(
          'apply',
          'apply-ok',
          `anchor "${this.options.anchor}" holds the ruleset again: the apply went through`,
        );
        this.knownRuleset = target.ruleset;
        this.driftSeen = null;
        if (target.compiled !== null) {
          // Verified under the lock by the apply itself: a change may take the fast path next,
          // as long as the state directory stays as the apply left it.
          this.verified = outcome.stateMark === undefined ? null : { ruleset: target.ruleset, mark: outcome.stateMark };
          metrics.exposures = exposures;
        }
        if (outcome.kind === 'applied' && drift) metrics.driftRepairs += 1;
        this.setHealthy(target);
        if (outcome.kind === 'unchanged') {
          this.log('info', 'unchanged', `anchor "${this.options.anchor}" already holds the ruleset`, {
            ...loadFields,
            exposures,
            durationMs,
          });
        } else {
          const what =
            target.held !== null
              ? `the ruleset the ${target.held.kind} loaded`
              : target.compiled === null
                ? 'the ruleset recorded as last applied'
                : `${exposures} exposure(s)`;
          // added/removed count exposures, as plan's summary and `exposures` do; the rules have their own fields.
          const counts = countExposureChanges(normalizedLines(outcome.previous), this.normalize(target.ruleset));
          this.log(
            'info',
            drift ? 'drift-repaired' : 'applied',
            `${drift ? 'repaired' : 'applied'} ${what} to anchor "${this.options.anchor}" (exposures +${counts.added} ~${counts.changed} -${counts.removed}; rules +${outcome.added.length} -${outcome.removed.length})`,
            {
              ...loadFields,
              exposures,
              added: counts.added,
              changed: counts.changed,
              removed: counts.removed,
              rulesAdded: outcome.added.length,
              rulesRemoved: outcome.removed.length,
              attempts: outcome.attempts,
              killedLabels: outcome.killedLabels.length > 0 ? outcome.killedLabels : undefined,
              durationMs,
            },
          );
        }
        if (target.compiled !== null) await this.writeLock(target.compiled);
        for (const warning of outcome.warnings) this.log('warn', 'apply-warning', warning);
        break;
      }
      case 'refused':
        this.unhealthy('apply-refused', outcome.reason);
        this.reportProblem('apply', 'error', 'apply-refused', `apply refused, pf was not touched: ${outcome.reason}`, {
          ...loadFields,
          exposures,
          durationMs,
          diagnostics:
            outcome.diagnostics.length > 0 ? outcome.diagnostics.slice(0, 50).map(formatDiagnostic) : undefined,
        });
        break;
      case 'failed':
        if (!outcome.restored) this.knownRuleset = null;
        this.unhealthy('apply-failed', outcome.reason);
        this.reportProblem(
          'apply',
          'error',
          'apply-failed',
          `apply failed (${outcome.restored ? 'pf holds the previous ruleset' : 'pf may hold neither ruleset'}): ${outcome.reason}`,
          {
            ...loadFields,
            exposures,
            restored: outcome.restored,
            durationMs,
          },
        );
        break;
    }
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
    if (failure === null) this.log('info', 'lock-updated', `updated ${compiled.lockPath}`);
    else this.log('warn', 'lock-write-failed', `cannot write the lock file ${compiled.lockPath}: ${failure}`);
  }

  /** Health once the anchor holds the target (or there is nothing to compare it with). */
  private setHealthy(target: Target | null): void {
    if (target?.held != null) {
      this.deps.metrics.health = this.heldHealth(target.held);
      return;
    }
    this.deps.metrics.health =
      target !== null &&
      target.compiled !== null &&
      target.compiled === this.lastGood &&
      this.lastInvalidDigest === null
        ? { healthy: true, status: 'ok', reason: null }
        : { healthy: true, status: 'manifests-invalid', reason: MANIFESTS_INVALID };
  }

  /** An unhealthy state; invalid manifests, a problem of their own, are said in the same reason. */
  private unhealthy(status: string, reason: string): void {
    const also = this.lastInvalidDigest === null ? '' : `; also, ${MANIFESTS_INVALID}`;
    this.deps.metrics.health = { healthy: false, status, reason: `${reason}${also}` };
  }

  /** The manifests just turned out invalid: say so in the health, beside any other problem. */
  private noteManifestsInvalid(): void {
    const health = this.deps.metrics.health;
    if (health.healthy) {
      if (health.status !== 'held' && health.status !== 'awaiting-confirmation') {
        this.deps.metrics.health = { healthy: true, status: 'manifests-invalid', reason: MANIFESTS_INVALID };
      }
    } else if (health.reason !== null && !health.reason.includes(MANIFESTS_INVALID)) {
      this.deps.metrics.health = { ...health, reason: `${health.reason}; also, ${MANIFESTS_INVALID}` };
    }
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
      this.holdSeen = null;
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
      if (this.holdSeen?.key !== key) this.holdSeen = { key, released: false, logged: false };
      return hold;
    }
    if (this.holdSeen?.key === key && !this.holdSeen.released) {
      this.log(
        'info',
        'hold-released',
        `the manifests changed since the ${hold.kind} at ${hold.appliedAt}: applying them again`,
        { heldBy: hold.kind },
      );
    }
    this.holdSeen = { key, released: true, logged: true };
    return null;
  }

  /**
   * A confirm revert in the history (the watchdog's, or another process's): logged once, whether or
   * not the agent holds it, so the agent's log says that an unconfirmed apply was undone.
   */
  private noteConfirmRevert(key: string, at: string): void {
    if (this.revertLogged === key) return;
    this.revertLogged = key;
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

  private heldHealth(hold: Hold): AgentHealth {
    return {
      healthy: true,
      status: 'held',
      reason: `${holdSentence(hold)}; the agent keeps it until the manifests change`,
    };
  }

  /** Says once per hold that the agent holds, and why. */
  private logHold(hold: Hold): void {
    if (this.holdSeen?.key === hold.key && this.holdSeen.logged) return;
    this.holdSeen = { key: hold.key, released: false, logged: true };
    this.log(
      'warn',
      'holding',
      `${holdSentence(hold)}: the agent keeps that ruleset in anchor "${this.options.anchor}" (drift repair included) and does not apply the manifests it undid, until they change`,
      {
        heldBy: hold.kind,
        since: hold.appliedAt,
      },
    );
  }

  /**
   * An `apply --confirm` window: the agent leaves the anchor alone while it is open (the operator
   * is testing a change), and reverts it once expired if the watchdog has not. False: stop here.
   */
  private async settlePendingConfirm(): Promise<boolean> {
    // It may revert an expired window: a load, which stop() waits for (and never starts while stopping).
    const pending = await this.load(() => this.deps.settlePendingConfirm());
    if (pending === null) return false;
    const metrics = this.deps.metrics;
    switch (pending.kind) {
      case 'none':
        this.lastConfirmWait = null;
        this.problemEnded(
          'confirm-revert',
          'confirm-settled',
          'the unconfirmed apply is settled: no confirmation window is pending any more',
        );
        return true;
      case 'waiting':
        if (this.lastConfirmWait !== pending.deadline) {
          this.log(
            'info',
            'confirm-pending',
            `an apply made with --confirm awaits pfexpose confirm until ${pending.deadline}; the agent leaves anchor "${pending.anchor}" alone until then`,
            {
              deadline: pending.deadline,
            },
          );
        }
        this.lastConfirmWait = pending.deadline;
        metrics.health = {
          healthy: true,
          status: 'awaiting-confirmation',
          reason: `an apply made with --confirm awaits pfexpose confirm until ${pending.deadline}`,
        };
        return false;
      case 'reverted':
        this.lastConfirmWait = null;
        this.problems.delete('confirm-revert');
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

  private preflightFailed(reason: string): void {
    const metrics = this.deps.metrics;
    this.unhealthy('preflight-failed', reason);
    metrics.preflightOk = 0;
    if (reason !== this.lastPreflightFailure) {
      metrics.preflightFailures += 1;
      this.log('error', 'preflight-failed', `nothing will be loaded until this is fixed: ${reason}`, {
        anchor: this.options.anchor,
      });
    } else {
      this.log(this.quiet(), 'preflight-failed', `still: ${reason}`);
    }
    this.lastPreflightFailure = reason;
  }

  private preflightPassed(): void {
    this.deps.metrics.preflightOk = 1;
    if (this.lastPreflightFailure === null) return;
    this.lastPreflightFailure = null;
    this.log('info', 'preflight-ok', `pf is enabled and its main ruleset calls anchor "${this.options.anchor}" again`);
  }

  /** Warnings are worth one mention each while they last, not one per version of the manifests. */
  private logNewWarnings(outcome: CompileOutcome): void {
    const now = new Set<string>();
    let logged = 0;
    for (const warning of outcome.diagnostics.filter((d) => d.severity === 'warning')) {
      // Without its position: an edit above a warning moves it, and that is not a new warning.
      const key = `${warning.file}\u0000${warning.code}\u0000${warning.message}`;
      now.add(key);
      if (this.warned.has(key) || logged >= 20) continue;
      logged += 1;
      this.log('warn', 'manifest-warning', formatDiagnostic(warning), { code: warning.code });
    }
    this.warned = now;
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

  /** debug, or info in a cycle a SIGHUP asked for: the operator wants to see what it found. */
  private quiet(): 'debug' | 'info' {
    return this.announcing ? 'info' : 'debug';
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', event: string, message: string, fields?: LogFields): void {
    if (level !== 'debug') this.loggedThisCycle += 1;
    this.deps.log.log(level, event, message, fields);
  }
}

/** What the drift message says the anchor should hold, when it is not the manifests. */
function driftWanted(target: Target): string {
  if (target.held !== null) return ` (the ruleset the ${target.held.kind} loaded, which the agent holds)`;
  if (target.compiled === null)
    return ' (the ruleset recorded as last applied: the manifests have not compiled since the agent started)';
  return '';
}

function driftWhat(target: Target): string {
  if (target.held !== null) return 'the held ruleset';
  if (target.compiled === null) return 'the ruleset recorded as last applied';
  return 'the manifests';
}

/** The rules the anchor should hold but does not (missing), and those it holds but should not (unexpected). */
function lineDifference(
  live: readonly string[],
  desired: readonly string[],
): { missing: string[]; unexpected: string[] } {
  const have = new Set(live);
  const want = new Set(desired);
  return { missing: desired.filter((l) => !have.has(l)), unexpected: live.filter((l) => !want.has(l)) };
}

/** One diagnostic for the log (text and JSON alike), its hint on a line of its own. */
export function formatDiagnostic(d: Diagnostic): string {
  const hint = d.hint === undefined || d.hint === '' ? '' : `\nhint: ${d.hint}`;
  return `${diagnosticPlace(d)}: ${d.severity} ${d.code} ${d.message}${hint}`;
}
