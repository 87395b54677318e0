// The agent's decisions, without I/O, timers or clock: given what a cycle observed (the target the
// manifests give, and on a reconcile what pf holds) and what the agent remembers, what to do
// (actions), what to say (events: log lines and counters), the health it leaves, and what to
// remember. The effect runner (watch-agent.ts) makes the observations and carries the results out.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { diagnosticPlace } from '../diagnostics/diagnostic.js';
import type { ApplyOutcome } from '../apply/apply-ruleset.js';
import type { PreflightResult } from '../apply/preflight.js';
import type { DeployedRead } from '../apply/read-deployed.js';
import { lineChanges, linesDigest, sameLines } from '../pf/rule-lines.js';
import { unmanagedTablesWarning } from '../apply/apply-ruleset.js';
import type { CompileOutcome } from '../compile/options.js';
import type { LogFields } from './agent-log.js';
import type { AnchorFact } from './health.js';
import { boundedLines, countExposureChanges } from './exposure-counts.js';
import { OnceWhileItLasts } from './once-while-it-lasts.js';

export type DriftMode = 'correct' | 'warn';

/** How many drifted rules a drift warning names, per direction, before `and K more`. */
export const DRIFT_RULES_SHOWN = 5;

/** A rollback or a confirm revert the agent keeps in place. */
export interface Hold {
  kind: 'rollback' | 'confirm-revert';
  /** What it loaded. */
  ruleset: string;
  manifestDigest: string;
  appliedAt: string;
  /** Tells one hold from the next. */
  key: string;
}

/** What a cycle compares the live anchor with, and loads when they differ. */
export interface Target {
  ruleset: string;
  exposures: CompileOutcome['exposures'];
  manifestDigest: string;
  /** The compile it comes from (the manifests now, or the last that compiled); null: held or recorded. */
  compiled: CompileOutcome | null;
  /** A rollback or confirm revert the agent keeps in place. */
  held: Hold | null;
}

/** Problems that repeat on every cycle while they last: each is logged once, then `still:` at debug, then a line when it ends. */
export type Problem =
  | 'pull'
  | 'anchor'
  | 'gateway'
  | 'apply'
  | 'confirm-revert'
  | 'containers'
  | 'containers-warn'
  | 'lock-write'
  | 'internal';

/**
 * Everything the agent reports once while it lasts: the problems, and the conditions it states
 * once (a drift, invalid manifests, unmanaged tables, a preflight failure, an open confirm window,
 * a confirm revert in the history, the hold it keeps: seen, announced, released by new manifests).
 */
export type Reported =
  | Problem
  | 'drift'
  | 'manifests-invalid'
  | 'tables'
  | 'preflight'
  | 'confirm-wait'
  | 'confirm-reverted'
  | 'hold'
  | 'hold-announced'
  | 'hold-released';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type AgentEvent =
  | { kind: 'log'; level: LogLevel; event: string; message: string; fields?: LogFields }
  /** A counter of AgentMetrics to add one to. */
  | { kind: 'count'; counter: AgentCounter }
  /** A gauge of AgentMetrics to set. */
  | { kind: 'gauge'; gauge: 'preflightOk' | 'exposures'; value: number }
  /** pf holds what the agent keeps there (found in sync, loaded, or already in place). */
  | { kind: 'in-sync' };

/** A counter of AgentMetrics an event may add one to. */
export type AgentCounter = 'driftDetected' | 'preflightFailures' | 'driftRepairs';

export type AgentAction =
  /** Load the target (drift: the anchor was changed outside pfexpose). */
  | { kind: 'apply'; target: Target; drift: boolean }
  /** Write the lock file of the compile the anchor now holds, if it changed it. */
  | { kind: 'write-lock'; compiled: CompileOutcome }
  /** Events that come after the actions before them (what an apply warned about). */
  | { kind: 'say'; events: AgentEvent[] };

export interface AgentMemory {
  /** What was reported once and still lasts. */
  reported: OnceWhileItLasts<Reported>;
  /** The ruleset text the agent believes pf holds; null when it does not know. */
  knownRuleset: string | null;
  /** The ruleset the agent saw in the live anchor and the state directory's mark then (fast path). */
  verified: { ruleset: string; mark: string } | null;
}

interface CommonObservation {
  anchor: string;
  /** The target the manifests (or a hold, or the recorded ruleset) give; null: nothing to compare with. */
  target: Target | null;
  /** The target's normalized lines (null with no target). */
  targetLines: readonly string[] | null;
  /** The cycle runs for a SIGHUP: what is found is said at info, not debug. */
  announced: boolean;
}

export type Observation =
  | (CommonObservation & {
      kind: 'change';
      /** Where the manifests came from, for the log line. */
      loadFields: LogFields;
      /** The health is healthy now (a problem with pf or the anchor outranks a hold). */
      healthy: boolean;
    })
  | (CommonObservation & {
      kind: 'reconcile';
      drift: DriftMode;
      /** The state directory's mark, read before the anchor; null when it could not be read. */
      mark: string | null;
      live: DeployedRead;
      /** apply's hook check; null when the anchor could not be read (it is not asked then). */
      hooks: PreflightResult | null;
    });

export interface Decision {
  actions: AgentAction[];
  events: AgentEvent[];
  /** The health the anchor leaves; undefined: as it was. */
  health: AnchorFact | undefined;
  memory: AgentMemory;
}

/**
 * A change with a target: a hold stays, unchanged rules are not loaded again (the lock file is
 * still written), else the target is loaded. A reconcile: pf must be enabled, the anchor readable and called by
 * the main ruleset (else nothing is loaded, reported once while it lasts); in sync, nothing is
 * loaded; a difference from what the agent itself loaded is drift, reported once per distinct
 * drift and repaired unless --drift warn; any other difference is loaded.
 */
export function decide(observation: Observation, memory: AgentMemory): Decision {
  const events: AgentEvent[] = [];
  const actions: AgentAction[] = [];
  const next: AgentMemory = { ...memory, reported: memory.reported.clone() };
  const reported = next.reported;
  let health: AnchorFact | undefined;
  const { anchor, target } = observation;
  const quiet: LogLevel = observation.announced ? 'info' : 'debug';
  const log = (level: LogLevel, event: string, message: string, fields?: LogFields): void => {
    events.push(
      fields === undefined ? { kind: 'log', level, event, message } : { kind: 'log', level, event, message, fields },
    );
  };
  const done = (): Decision => ({ actions, events, health, memory: next });
  const load = (drift: boolean): Decision => {
    if (target === null) return done();
    if (target.held !== null) announceHold(target.held, anchor, reported, log);
    actions.push({ kind: 'apply', target, drift });
    return done();
  };

  if (observation.kind === 'change') {
    if (target === null) return done();
    if (target.held !== null) {
      // The manifests are still what a rollback or confirm revert undid: nothing is loaded.
      const hold = target.held;
      announceHold(hold, anchor, reported, log);
      // A problem with pf or the anchor outranks the hold until a reconcile finds it gone.
      if (observation.healthy) health = heldFact(hold);
      log('info', 'held', `the manifests changed but are still what the ${hold.kind} undid: nothing is applied`, {
        ...observation.loadFields,
        heldBy: hold.kind,
      });
      return done();
    }
    if (next.knownRuleset === target.ruleset) {
      log('info', 'unchanged', 'manifests changed, the ruleset did not: nothing to apply', {
        ...observation.loadFields,
        exposures: target.exposures.length,
      });
      if (target.compiled !== null) actions.push({ kind: 'write-lock', compiled: target.compiled });
      return done();
    }
    return load(false);
  }

  const { live, hooks } = observation;
  const preflightFailed = (reason: string): Decision => {
    health = { status: 'preflight-failed', reason };
    events.push({ kind: 'gauge', gauge: 'preflightOk', value: 0 });
    if (reported.report('preflight', reason)) {
      events.push({ kind: 'count', counter: 'preflightFailures' });
      log('error', 'preflight-failed', `nothing will be loaded until this is fixed: ${reason}`, { anchor });
    } else {
      log(quiet, 'preflight-failed', `still: ${reason}`);
    }
    return done();
  };
  if (live.kind === 'pf-disabled') return preflightFailed(`${live.message} (and pf_enable="YES" in /etc/rc.conf)`);
  if (live.kind !== 'ok') {
    health = { status: 'anchor-unreadable', reason: live.message };
    const message = `cannot compare the live anchor: ${live.message}`;
    // One condition, whatever pfctl said this time (a flaky pfctl fails at another step, or with
    // another message, from one reconcile to the next): logged once when it starts; /healthz keeps
    // the current reason.
    if (!reported.has('anchor')) {
      reported.report('anchor', message);
      log('error', 'anchor-unreadable', message);
    } else {
      log(quiet, 'anchor-unreadable', `still: ${message}`);
    }
    return done();
  }
  if (reported.clear('anchor')) log('info', 'anchor-readable', `anchor "${anchor}" can be read again`);
  // The same check apply makes before it loads: an anchor the main ruleset does not call is
  // inert, and loading it would only look like success.
  if (hooks === null || hooks.kind === 'refused')
    return preflightFailed(hooks?.reason ?? 'the hooks of the anchor were not checked');
  events.push({ kind: 'gauge', gauge: 'preflightOk', value: 1 });
  if (reported.clear('preflight'))
    log('info', 'preflight-ok', `pf is enabled and its main ruleset calls anchor "${anchor}" again`);
  // Tables pfexpose never writes: reported once, not "repaired" by reloading rules that match.
  const tables = unmanagedTablesWarning(anchor, live.tables);
  if (tables === null) reported.clear('tables');
  else if (reported.report('tables', tables)) log('warn', 'unmanaged-tables', tables, { tables: live.tables.length });

  if (target === null) {
    reported.clear('drift');
    health = { status: 'ok' };
    log(
      quiet,
      'nothing-to-compare',
      `no manifests have compiled since the agent started, and no ruleset is recorded for anchor "${anchor}": nothing to compare it with`,
    );
    return done();
  }
  const targetLines = observation.targetLines ?? [];
  if (sameLines(live.lines, targetLines)) {
    next.knownRuleset = target.ruleset;
    reported.clear('drift');
    events.push({ kind: 'in-sync' });
    health = target.held !== null ? heldFact(target.held) : { status: 'ok' };
    if (target.held !== null) {
      announceHold(target.held, anchor, reported, log);
      log(quiet, 'in-sync', `anchor "${anchor}" holds the ruleset the ${target.held.kind} loaded`);
      return done();
    }
    if (target.compiled === null) {
      log(
        quiet,
        'in-sync',
        `anchor "${anchor}" holds the ruleset recorded as last applied (the manifests have not compiled since the agent started)`,
      );
      return done();
    }
    next.verified = observation.mark === null ? null : { ruleset: target.ruleset, mark: observation.mark };
    events.push({ kind: 'gauge', gauge: 'exposures', value: target.exposures.length });
    log(quiet, 'in-sync', `anchor "${anchor}" matches the manifests`, { exposures: target.exposures.length });
    return done();
  }
  const drift = next.knownRuleset === target.ruleset;
  if (!drift) return load(false);
  const mode = observation.drift;
  const { added: missing, removed: unexpected } = lineChanges(live.lines, targetLines);
  const verb = mode === 'correct' ? 'repairing it' : 'not repairing it (--drift warn)';
  // The rules themselves, bounded: an operator must see what was changed, not only how much.
  const named = [
    ...boundedLines(missing, DRIFT_RULES_SHOWN).map((line) => `missing: ${line}`),
    ...boundedLines(unexpected, DRIFT_RULES_SHOWN).map((line) => `unexpected: ${line}`),
  ];
  const message = `anchor "${anchor}" was changed outside pfexpose${driftWanted(target)}: ${missing.length} rule(s) missing, ${unexpected.length} unexpected; ${verb}\n${named.join('\n')}`;
  const fields = {
    missing: missing.length,
    unexpected: unexpected.length,
    missingRules: missing.slice(0, DRIFT_RULES_SHOWN),
    unexpectedRules: unexpected.slice(0, DRIFT_RULES_SHOWN),
    tables: live.tables.length,
    mode,
  };
  // One detection per distinct drift: the same live rules against the same target are
  // logged (and counted) once while they last, not again on every reconcile.
  if (reported.report('drift', `${linesDigest(live.lines)}:${linesDigest(targetLines)}`)) {
    events.push({ kind: 'count', counter: 'driftDetected' });
    log('warn', 'drift', message, fields);
  } else {
    log(quiet, 'drift', `still: ${message}`, fields);
  }
  if (mode === 'warn') {
    health = { status: 'drift', reason: `the live anchor differs from ${driftWhat(target)} (--drift warn)` };
    return done();
  }
  return load(true);
}

export interface AppliedObservation {
  anchor: string;
  target: Target;
  drift: boolean;
  outcome: ApplyOutcome;
  durationMs: number;
  loadFields: LogFields;
  /** For a load: the rule lines the anchor held before it and those of the target (exposure counts). */
  lines: { previous: readonly string[]; target: readonly string[] } | null;
}

/**
 * What an apply's outcome means: in place (the anchor is known and, verified under the lock, may
 * take the fast path next), refused or failed (reported once while it lasts, and its end once).
 */
export function decideApplied(observation: AppliedObservation, memory: AgentMemory): Decision {
  const { anchor, target, drift, outcome, durationMs, loadFields } = observation;
  const events: AgentEvent[] = [];
  const actions: AgentAction[] = [];
  const next: AgentMemory = { ...memory, reported: memory.reported.clone() };
  const reported = next.reported;
  const log = (level: LogLevel, event: string, message: string, fields?: LogFields): void => {
    events.push(
      fields === undefined ? { kind: 'log', level, event, message } : { kind: 'log', level, event, message, fields },
    );
  };
  const problem = (event: string, message: string, fields: LogFields): void => {
    if (reported.report('apply', message)) log('error', event, message, fields);
    else log('debug', event, `still: ${message}`, fields);
  };
  const exposures = target.exposures.length;
  let health: AnchorFact;
  switch (outcome.kind) {
    case 'unchanged':
    case 'applied': {
      if (reported.clear('apply'))
        log('info', 'apply-ok', `anchor "${anchor}" holds the ruleset again: the apply went through`);
      next.knownRuleset = target.ruleset;
      reported.clear('drift');
      events.push({ kind: 'in-sync' });
      if (target.compiled !== null) {
        // Verified under the lock by the apply itself: a change may take the fast path next,
        // as long as the state directory stays as the apply left it.
        next.verified = outcome.stateMark === undefined ? null : { ruleset: target.ruleset, mark: outcome.stateMark };
        events.push({ kind: 'gauge', gauge: 'exposures', value: exposures });
      }
      if (outcome.kind === 'applied' && drift) events.push({ kind: 'count', counter: 'driftRepairs' });
      health = target.held !== null ? heldFact(target.held) : { status: 'ok' };
      if (outcome.kind === 'unchanged') {
        log('info', 'unchanged', `anchor "${anchor}" already holds the ruleset`, {
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
        const counts = countExposureChanges(observation.lines?.previous ?? [], observation.lines?.target ?? []);
        log(
          'info',
          drift ? 'drift-repaired' : 'applied',
          `${drift ? 'repaired' : 'applied'} ${what} to anchor "${anchor}" (exposures +${counts.added} ~${counts.changed} -${counts.removed}; rules +${outcome.added.length} -${outcome.removed.length})`,
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
      if (target.compiled !== null) actions.push({ kind: 'write-lock', compiled: target.compiled });
      if (outcome.warnings.length > 0) {
        actions.push({
          kind: 'say',
          events: outcome.warnings.map((message) => ({ kind: 'log', level: 'warn', event: 'apply-warning', message })),
        });
      }
      break;
    }
    case 'refused':
      health = { status: 'apply-refused', reason: outcome.reason };
      problem('apply-refused', `apply refused, pf was not touched: ${outcome.reason}`, {
        ...loadFields,
        exposures,
        durationMs,
        diagnostics:
          outcome.diagnostics.length > 0 ? outcome.diagnostics.slice(0, 50).map(formatDiagnostic) : undefined,
      });
      break;
    case 'failed':
      if (!outcome.restored) next.knownRuleset = null;
      health = { status: 'apply-failed', reason: outcome.reason };
      problem(
        'apply-failed',
        `apply failed (${outcome.restored ? 'pf holds the previous ruleset' : 'pf may hold neither ruleset'}): ${outcome.reason}`,
        { ...loadFields, exposures, restored: outcome.restored, durationMs },
      );
      break;
  }
  return { actions, events, health, memory: next };
}

/** One diagnostic for the log (text and JSON alike), its hint on a line of its own. */
export function formatDiagnostic(d: Diagnostic): string {
  const hint = d.hint === undefined || d.hint === '' ? '' : `\nhint: ${d.hint}`;
  return `${diagnosticPlace(d)}: ${d.severity} ${d.code} ${d.message}${hint}`;
}

/** Says once per hold that the agent holds, and why. */
export function announceHold(
  hold: Hold,
  anchor: string,
  reported: OnceWhileItLasts<Reported>,
  log: (level: LogLevel, event: string, message: string, fields?: LogFields) => void,
): void {
  if (reported.current('hold') === hold.key && reported.current('hold-announced') === hold.key) return;
  reported.report('hold', hold.key);
  reported.report('hold-announced', hold.key);
  reported.clear('hold-released');
  log(
    'warn',
    'holding',
    `${holdSentence(hold)}: the agent keeps that ruleset in anchor "${anchor}" (drift repair included) and does not apply the manifests it undid, until they change`,
    { heldBy: hold.kind, since: hold.appliedAt },
  );
}

export function heldFact(hold: Hold): AnchorFact {
  return { status: 'held', reason: `${holdSentence(hold)}; the agent keeps it until the manifests change` };
}

function holdSentence(hold: Hold): string {
  return hold.kind === 'rollback'
    ? `pfexpose rollback loaded an earlier ruleset at ${hold.appliedAt}`
    : `an apply made with --confirm was not confirmed and was reverted at ${hold.appliedAt}`;
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
