// Puts a ruleset into pf's anchor so that every failure leaves pf as it was and says why: under
// an exclusive lock, after a preflight and a dry run, in one load, verified by reading it back,
// restored on any doubt, recorded atomically. Also rollback, commit-confirmed and its revert.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Exposure } from '../model/exposure.js';
import type { Dialect } from '../pf/render-ruleset.js';
import type { StateDirMutex, MutexAcquireResult } from '../host/state-dir-mutex.js';
import { mapPfctlErrors } from './map-pfctl-errors.js';
import type { LoadResult, Pfctl } from '../host/pfctl.js';
import { checkHooks, PF_DISABLED_REASON, preflight } from './preflight.js';
import { readDeployed, type DeployedAnchor, type DeployedRead } from './read-deployed.js';
import { linesDigest, normalizedLines, rulesetLabels, sameLines, sha256 } from '../pf/rule-lines.js';
import { checkOwnRuleset, describeForeign } from '../pf/check-own-ruleset.js';
import { narrowedLabels } from '../plan/narrowed-labels.js';
import {
  confirmWindowClosed,
  historyName,
  monotonicNowMs,
  UnsafePathError,
  type HistoryKind,
  type PendingConfirm,
  type StateDir,
  type UndoneRuleset,
} from './state-dir.js';

export { readDeployed, type DeployedAnchor, type DeployedRead } from './read-deployed.js';

export interface ApplyDeps {
  pfctl: Pfctl;
  state: StateDir;
  mutex: StateDirMutex;
  now?: () => Date;
  /** Milliseconds on the system's monotonic clock (see confirmWindowClosed); default monotonicNowMs. */
  monotonicNow?: () => number;
  /**
   * Starts whatever reverts an unconfirmed apply after its deadline even if this process is gone
   * (the CLI spawns a detached watchdog). Returns null when started, or why not. Required for
   * confirmSeconds.
   */
  startConfirmWatchdog?: (pending: PendingConfirm) => Promise<string | null>;
  /** The plan module's fingerprint of the deployed state, for expectedFingerprint. */
  fingerprint?: (deployed: DeployedAnchor) => string;
  /**
   * Aborted (reason: the signal's name) when the operator interrupts: no load starts after that,
   * and the transaction ends as refused, nothing loaded. A load already running is finished,
   * read back, restored if need be and recorded as always: a transaction is never left mid-load.
   */
  interrupt?: AbortSignal;
}

export interface ApplyRequest {
  anchor: string;
  /** Compile output (with header comments). */
  ruleset: string;
  /** For stdin:LINE -> manifest mapping and --kill-states. */
  exposures: Exposure[];
  manifestDigest: string;
  /** End the open connections of removed exposures, and of exposures whose sources were narrowed (by label). */
  killStates?: boolean;
  /** Commit-confirmed window. */
  confirmSeconds?: number;
  /** From a saved plan: refuse if the deployed state changed. */
  expectedFingerprint?: string;
  lockWaitMs?: number;
  /** The dialect the ruleset was rendered in; both are tried when absent. */
  dialect?: Dialect;
  /**
   * The agent's fast path: the ruleset text the caller verified in the anchor moments ago (its
   * last reconcile or apply). Reading the anchor, the hook check and the dry run before the load
   * are skipped: the load is itself one transaction, its syntax errors are mapped to manifest lines
   * like the dry run's, and the anchor is still read back and compared after it. As nothing was
   * read before the load, nothing is ever put back from this assumption: a load that may have
   * changed the anchor and did not verify goes on through the full path (see applyRuleset).
   * Ignored while a commit-confirmed change is pending.
   */
  assumeDeployed?: string;
  /**
   * With assumeDeployed: StateDir.mark() when the caller verified the anchor. Checked under the
   * lock: when the state directory changed since (another pfexpose process applied, rolled back
   * or reverted), the assumption is dropped and the full path runs.
   */
  assumeStateMark?: string;
}

export type ApplyOutcome =
  | {
      kind: 'unchanged';
      ruleset: string;
      warnings: string[];
      revertedExpired: boolean;
      /** StateDir.mark() once the result was recorded, read under the lock (for assumeStateMark). */
      stateMark?: string;
    }
  | {
      kind: 'applied';
      previous: string;
      attempts: number;
      killedLabels: string[];
      confirmDeadline?: string;
      /** rollback: when the ruleset now loaded had been applied first. */
      rolledBackTo?: string;
      /** rollback: the ruleset now loaded is what the anchor held before pfexpose first applied. */
      rolledBackToInitial?: boolean;
      warnings: string[];
      /** Normalized rule lines the load added and removed. */
      added: string[];
      removed: string[];
      revertedExpired: boolean;
      /** StateDir.mark() once the result was recorded, read under the lock (for assumeStateMark). */
      stateMark?: string;
    }
  /** The firewall was not touched (preflight, dry run, lock held, stale plan, pending confirm). */
  | { kind: 'refused'; reason: string; diagnostics: Diagnostic[]; linesToAdd?: string[] }
  /** A load or its verification failed; restored: the anchor holds the previous ruleset again. */
  | { kind: 'failed'; reason: string; restored: boolean };

export type PendingOutcome =
  | { kind: 'none' }
  | { kind: 'waiting'; deadline: string; anchor: string }
  | { kind: 'reverted'; anchor: string; ruleset: string }
  | { kind: 'failed'; reason: string; restored: boolean }
  | { kind: 'refused'; reason: string };

export type ConfirmOutcome =
  | { kind: 'confirmed'; anchor: string; deadline: string }
  /**
   * No window is open. lastRevert: the newest history entry is an unconfirmed apply put back at
   * its deadline (anchor, when), so the caller can say so; absent, nothing was reverted.
   */
  | { kind: 'none'; lastRevert?: { anchor: string; at: string } }
  /** A window is open, but for another anchor than the one named (confirm --anchor). */
  | { kind: 'other-anchor'; anchor: string; deadline: string }
  /** The window had passed: the change was reverted (or the revert failed). */
  | { kind: 'too-late'; revert: PendingOutcome }
  | { kind: 'refused'; reason: string };

export interface RollbackRequest {
  anchor: string;
  killStates?: boolean;
  lockWaitMs?: number;
}

/** How applyDesired records a load in the history. */
interface RecordAs {
  kind: HistoryKind;
  undone?: UndoneRuleset;
}

/**
 * What applyDesired may also end in on the fast path: the load failed in a way that may or may not
 * have changed the anchor (it timed out, or pfctl died), and since the anchor was not read before
 * it, there is nothing known to put back.
 */
type Attempt = ApplyOutcome | { kind: 'unsettled'; reason: string };

export async function applyRuleset(deps: ApplyDeps, request: ApplyRequest): Promise<ApplyOutcome> {
  return withLock(
    deps,
    request.lockWaitMs,
    refusal,
    async (notes) => {
      const outcome = await applyUnderLock(deps, request, notes);
      if (outcome.kind !== 'applied' && outcome.kind !== 'unchanged') return outcome;
      const stateMark = await deps.state.mark().catch(() => null);
      return stateMark === null ? outcome : { ...outcome, stateMark };
    },
    preflightFirst(deps, request.anchor, () => null),
  );
}

async function applyUnderLock(deps: ApplyDeps, request: ApplyRequest, notes: readonly string[]): Promise<ApplyOutcome> {
  const assumed = await assumedDeployed(deps, request);
  let unsettled: string | null = null;
  if (assumed !== null) {
    const fast = await applyDesired(deps, request, assumed, [...notes], { kind: 'apply' }, true);
    if (fast.kind !== 'unsettled') return fast;
    // What pf holds now is unknown, and what it held before was assumed, never read: read it now
    // and go on as the full path does, restoring (if it comes to that) only what this read finds.
    unsettled = fast.reason;
  }
  const checked = await preflightAndSettle(deps, request.anchor);
  const warnings =
    unsettled === null
      ? []
      : [
          `the first load did not complete (${unsettled}); the anchor was read and the ruleset applied through the full path`,
        ];
  if (checked.kind !== 'ready')
    return unsettled === null ? checked.outcome : afterUnsettled(unsettled, checked.outcome);
  const outcome = settled(
    await applyDesired(deps, request, checked.deployed, [...notes, ...warnings, ...checked.warnings]),
  );
  if (unsettled !== null && outcome.kind !== 'applied' && outcome.kind !== 'unchanged')
    return afterUnsettled(unsettled, outcome);
  return withReverted(outcome, checked.revertedExpired);
}

/** The full path after an unsettled fast load did not succeed either: pf was touched, so never "refused". */
function afterUnsettled(first: string, outcome: ApplyOutcome): ApplyOutcome {
  if (outcome.kind === 'refused') {
    return {
      kind: 'failed',
      reason: `${first}; then the anchor could not be applied through the full path: ${outcome.reason}`,
      restored: false,
    };
  }
  if (outcome.kind === 'failed')
    return { ...outcome, reason: `${first}; then, through the full path: ${outcome.reason}` };
  return outcome;
}

/**
 * Loads the ruleset applied before the current one: the newest history entry that differs from
 * what pf holds (so two rollbacks in a row swap back). An apply awaiting confirmation is undone
 * instead.
 */
export async function rollbackRuleset(deps: ApplyDeps, request: RollbackRequest): Promise<ApplyOutcome> {
  const noHistory = (): ApplyOutcome =>
    refusal(
      `nothing to roll back to: the state directory ${deps.state.path} does not exist, so no apply was recorded there (is --state-dir the one apply used?)`,
    );
  return withLock(
    deps,
    request.lockWaitMs,
    refusal,
    async (notes) => {
      const pre = await preflight(deps.pfctl, request.anchor);
      if (pre.kind === 'refused') return refusal(pre.reason, [], pre.linesToAdd);
      const pending = await deps.state.readPendingConfirm();
      if (pending.kind === 'corrupt') return refusal(pending.message);
      if (pending.kind === 'ok') {
        const before = await readDeployed(deps.pfctl, pending.value.anchor);
        const reverted = await revertPending(deps, pending.value, 'rollback');
        if (reverted.kind === 'failed') return reverted;
        if (reverted.kind === 'refused') return refusal(reverted.reason);
        if (reverted.kind !== 'reverted') return refusal('the pending confirmation could not be undone');
        return {
          kind: 'applied',
          previous: before.kind === 'ok' ? before.text : '',
          attempts: 1,
          killedLabels: [],
          warnings: [`undid the apply that awaited confirmation (pfexpose confirm) by loading the ruleset before it`],
          ...lineChanges(before.kind === 'ok' ? before.lines : [], normalizedLines(reverted.ruleset)),
          revertedExpired: false,
        };
      }
      const deployed = await readDeployed(deps.pfctl, request.anchor);
      if (deployed.kind !== 'ok') return refusal(deployed.message);
      const history = await deps.state.readHistory();
      const damaged =
        history.corrupt.length > 0
          ? ` (damaged history entries: ${history.corrupt.map((c) => c.path).join(', ')})`
          : '';
      // What pf holds must be what the history recorded last: otherwise its record is missing (a full
      // disk after the load, a hand edit), and "the ruleset before it" is not known. Never a guess.
      const newest = history.entries.find((entry) => entry.anchor === request.anchor);
      if (newest !== undefined && !sameLines(normalizedLines(newest.ruleset), deployed.lines)) {
        return refusal(
          `anchor "${request.anchor}" holds a ruleset the history in ${deps.state.path} does not record as its newest (its record is missing, e.g. the disk was full, or the anchor was changed by hand); nothing was loaded: run pfexpose apply to record the manifests' ruleset, then roll back${damaged}`,
        );
      }
      const target = history.entries.find(
        (entry) => entry.anchor === request.anchor && !sameLines(normalizedLines(entry.ruleset), deployed.lines),
      );
      if (target === undefined) {
        return refusal(
          `nothing to roll back to: the history in ${deps.state.path} holds no earlier ruleset for anchor "${request.anchor}"${damaged}`,
        );
      }
      const own = checkOwnRuleset(target.ruleset, request.anchor);
      if (!own.ok) {
        const file = `${deps.state.path}/history/${historyName(target.sequence)}`;
        const what =
          target.kind === 'initial'
            ? "what the anchor held before pfexpose first loaded it, and it is not pfexpose's own rules"
            : "not pfexpose's own rules";
        return refusal(
          `the history entry ${file} to roll back to is ${what} (${describeForeign(own.foreign)}); nothing was loaded: delete that file to roll back past it, or load those rules by hand (pfctl -a ${request.anchor} -f FILE)`,
        );
      }
      const undone = await undoneBy(deps.state, request.anchor, deployed);
      const rollbackRequest: ApplyRequest = {
        anchor: request.anchor,
        ruleset: target.ruleset,
        exposures: [],
        manifestDigest: target.manifestDigest,
        ...(request.killStates === undefined ? {} : { killStates: request.killStates }),
      };
      // What the rollback takes out: the agent must not put it back by itself (see watch-agent.ts).
      const outcome = settled(await applyDesired(deps, rollbackRequest, deployed, notes, { kind: 'rollback', undone }));
      if (outcome.kind !== 'applied') return outcome;
      return {
        ...outcome,
        rolledBackTo: target.appliedAt,
        ...(target.kind === 'initial' ? { rolledBackToInitial: true } : {}),
      };
    },
    preflightFirst(deps, request.anchor, noHistory),
  );
}

/** `pfexpose confirm`: keeps the change an `apply --confirm` made, if its window is still open. */
export async function confirmApply(
  deps: ApplyDeps,
  options: { lockWaitMs?: number; anchor?: string } = {},
): Promise<ConfirmOutcome> {
  const refuse = (reason: string): ConfirmOutcome => ({ kind: 'refused', reason });
  // No state directory: no window was ever opened there, and nothing is created to say so.
  const nothing: AbsentState<ConfirmOutcome> = {
    first: () => Promise.resolve({ kind: 'none' }),
    isRefusal: (outcome) => outcome.kind !== 'confirmed' && outcome.kind !== 'too-late',
  };
  return withLock(
    deps,
    options.lockWaitMs ?? 10_000,
    refuse,
    async () => {
      const pending = await deps.state.readPendingConfirm();
      if (pending.kind === 'absent') return { kind: 'none', ...(await lastRevert(deps.state)) };
      if (pending.kind === 'corrupt') return refuse(pending.message);
      if (options.anchor !== undefined && pending.value.anchor !== options.anchor) {
        return { kind: 'other-anchor', anchor: pending.value.anchor, deadline: pending.value.deadline };
      }
      if (windowClosed(deps, pending.value)) {
        return { kind: 'too-late', revert: await revertPending(deps, pending.value) };
      }
      try {
        await deps.state.clearPendingConfirm();
      } catch (error) {
        return refuse(`cannot remove the pending confirmation record: ${errorMessage(error)}`);
      }
      return { kind: 'confirmed', anchor: pending.value.anchor, deadline: pending.value.deadline };
    },
    nothing,
  );
}

/** The newest history entry when it is a commit-confirmed revert (see ConfirmOutcome 'none'). */
async function lastRevert(state: StateDir): Promise<{ lastRevert?: { anchor: string; at: string } }> {
  const history = await state.readHistory().catch(() => null);
  const newest = history?.entries[0];
  return newest?.kind === 'confirm-revert' ? { lastRevert: { anchor: newest.anchor, at: newest.appliedAt } } : {};
}

/**
 * Undoes an apply whose confirmation window has passed: what the watchdog runs at the deadline,
 * and what the agent may call on its reconcile. A window still open is left alone.
 */
/**
 * The anchor read shortly before a confirm window closes (readAheadForRevert), so that the revert
 * at the deadline starts with the load: used only while the state directory's mark is still the
 * one read before it (no pfexpose process loaded or recorded anything since) and the window is the same.
 */
export interface RevertReadAhead {
  createdAt: string;
  mark: string;
  deployed: DeployedAnchor;
}

/** Reads what revertExpiredConfirm would read first, ahead of the deadline (no lock: nothing is changed). */
export async function readAheadForRevert(deps: ApplyDeps, pending: PendingConfirm): Promise<RevertReadAhead | null> {
  // The mark first: a load recorded after it changes the mark, and the read is not used.
  const mark = await deps.state.mark().catch(() => null);
  if (mark === null) return null;
  const read = await readDeployed(deps.pfctl, pending.anchor);
  if (read.kind !== 'ok') return null;
  return {
    createdAt: pending.createdAt,
    mark,
    deployed: { lines: read.lines, text: read.text, tables: read.tables, exists: read.exists },
  };
}

export async function revertExpiredConfirm(
  deps: ApplyDeps,
  options: {
    lockWaitMs?: number;
    /** Only the window opened at this time (a watchdog's own). */
    createdAt?: string;
    /** The caller knows the system did not reboot since the window opened (see confirmWindowClosed). */
    sameBoot?: boolean;
    /** The anchor as read just before the deadline; re-read unless still valid (see RevertReadAhead). */
    readAhead?: RevertReadAhead | null;
  } = {},
): Promise<PendingOutcome> {
  const refuse = (reason: string): PendingOutcome => ({ kind: 'refused', reason });
  const nothing: AbsentState<PendingOutcome> = {
    first: () => Promise.resolve({ kind: 'none' }),
    isRefusal: (outcome) => outcome.kind === 'none' || outcome.kind === 'refused',
  };
  return withLock(
    deps,
    options.lockWaitMs ?? 30_000,
    refuse,
    async () => {
      const pending = await deps.state.readPendingConfirm();
      if (pending.kind === 'absent') return { kind: 'none' };
      if (pending.kind === 'corrupt') return refuse(pending.message);
      if (options.createdAt !== undefined && pending.value.createdAt !== options.createdAt) return { kind: 'none' };
      if (!windowClosed(deps, pending.value, options.sameBoot === true)) {
        return { kind: 'waiting', deadline: pending.value.deadline, anchor: pending.value.anchor };
      }
      const ahead = options.readAhead ?? null;
      const usable =
        ahead !== null &&
        ahead.createdAt === pending.value.createdAt &&
        (await deps.state.mark().catch(() => null)) === ahead.mark
          ? ahead.deployed
          : null;
      return revertPending(deps, pending.value, 'confirm-revert', usable);
    },
    nothing,
  );
}

// ---------------------------------------------------------------------------------------------

/**
 * The deployed state the caller vouches for, unless a pending confirmation needs the full path, the
 * state directory changed since the caller verified the anchor (someone else loaded it), or
 * nothing was recorded yet.
 */
async function assumedDeployed(deps: ApplyDeps, request: ApplyRequest): Promise<DeployedAnchor | null> {
  if (
    request.assumeDeployed === undefined ||
    request.confirmSeconds !== undefined ||
    request.expectedFingerprint !== undefined
  )
    return null;
  if (request.assumeStateMark !== undefined && (await deps.state.mark().catch(() => null)) !== request.assumeStateMark)
    return null;
  const pending = await deps.state.readPendingConfirm();
  if (pending.kind !== 'absent') return null;
  // The first load into the anchor records what it held before (for rollback): only from a read.
  if ((await deps.state.readNewest(request.anchor).catch(() => null)) === null) return null;
  return { lines: normalizedLines(request.assumeDeployed), text: request.assumeDeployed, tables: [], exists: true };
}

type Prepared =
  | { kind: 'ready'; deployed: DeployedAnchor; warnings: string[]; revertedExpired: boolean }
  | { kind: 'stop'; outcome: ApplyOutcome };

/**
 * Preflight (reading the anchor tells whether pf is enabled, one pfctl run fewer), then an expired
 * commit-confirmed change is undone first; one still open blocks.
 */
async function preflightAndSettle(deps: ApplyDeps, anchor: string): Promise<Prepared> {
  const stop = (outcome: ApplyOutcome): Prepared => ({ kind: 'stop', outcome });
  let deployed = await readDeployed(deps.pfctl, anchor);
  if (deployed.kind === 'pf-disabled') return stop(refusal(PF_DISABLED_REASON));
  if (deployed.kind !== 'ok') return stop(refusal(deployed.message));
  const hooks = await checkHooks(deps.pfctl, anchor);
  if (hooks.kind === 'refused') return stop(refusal(hooks.reason, [], hooks.linesToAdd));
  const warnings = [...hooks.warnings];
  let revertedExpired = false;
  const pending = await deps.state.readPendingConfirm();
  if (pending.kind === 'corrupt') return stop(refusal(pending.message));
  if (pending.kind === 'ok') {
    if (!windowClosed(deps, pending.value)) {
      return stop(
        refusal(
          `an apply made with --confirm awaits confirmation until ${pending.value.deadline}: run pfexpose confirm to keep it, or pfexpose rollback to undo it, then apply again`,
        ),
      );
    }
    const reverted = await revertPending(deps, pending.value);
    if (reverted.kind === 'failed') return stop(reverted);
    if (reverted.kind === 'refused') return stop(refusal(reverted.reason));
    if (reverted.kind === 'reverted') {
      revertedExpired = true;
      warnings.push(
        `an unconfirmed apply of anchor "${reverted.anchor}" had passed its deadline (${pending.value.deadline}) and was reverted first`,
      );
    }
    deployed = await readDeployed(deps.pfctl, anchor);
    if (deployed.kind !== 'ok') return stop(refusal(deployed.message));
  }
  return { kind: 'ready', deployed, warnings, revertedExpired };
}

/**
 * Everything after the preflight, shared by apply and rollback. Runs under the lock. fast: deployed
 * is the caller's assumption (assumeDeployed), not a read: no dry run, and nothing put back from it.
 */
async function applyDesired(
  deps: ApplyDeps,
  request: ApplyRequest,
  deployed: DeployedAnchor,
  warnings: string[],
  recordAs: RecordAs = { kind: 'apply' },
  fast = false,
): Promise<Attempt> {
  const { pfctl, state } = deps;
  const { anchor, ruleset } = request;
  const desiredLines = normalizedLines(ruleset);
  const currentRead = await state.readCurrent();
  const current = currentRead.kind === 'ok' && currentRead.value.anchor === anchor ? currentRead.value : null;
  if (currentRead.kind === 'corrupt') warnings.push(`${currentRead.message} (it will be rewritten)`);
  const tables = unmanagedTablesWarning(anchor, deployed.tables);
  if (tables !== null) warnings.push(tables);

  if (sameLines(desiredLines, deployed.lines)) {
    const recorded =
      current !== null &&
      current.manifestDigest === request.manifestDigest &&
      sameLines(normalizedLines(current.ruleset), desiredLines);
    if (!recorded) {
      const failure = await record(state, { anchor, ruleset, manifestDigest: request.manifestDigest });
      if (failure !== null) {
        return {
          kind: 'failed',
          reason: `pf already holds the ruleset, but ${failure}; free the space (or fix the directory) and apply again`,
          restored: true,
        };
      }
    }
    return { kind: 'unchanged', ruleset, warnings, revertedExpired: false };
  }

  if (request.expectedFingerprint !== undefined) {
    if (deps.fingerprint === undefined) throw new Error('applyRuleset: expectedFingerprint needs deps.fingerprint');
    const actual = deps.fingerprint(deployed);
    if (actual !== request.expectedFingerprint) {
      return refusal(
        `the deployed state of anchor "${anchor}" changed since the plan was made (fingerprint ${short(request.expectedFingerprint)}, now ${short(actual)}): make a new plan and review it`,
      );
    }
  }

  if (!fast) {
    const dry = await pfctl.dryRun(anchor, ruleset);
    if (dry.kind === 'rejected') {
      const diagnostics = mapPfctlErrors(dry.errors, ruleset, request.exposures, request.dialect);
      return refusal(`pfctl rejected the ruleset in its dry run, nothing was loaded: ${dry.message}`, diagnostics);
    }
    if (dry.kind !== 'ok')
      return refusal(`the dry run (pfctl -nf) did not complete, nothing was loaded: ${dry.message}`);
    warnings.push(...dry.warnings.map((w) => `pfctl: ${w}`));
  }

  const matchesCurrent = current !== null && sameLines(normalizedLines(current.ruleset), deployed.lines);
  // --kill-states: only rules pfexpose itself recorded loading into this anchor, and that pf still
  // held, name labels it may end (see killRemovedStates).
  const ownPrevious = matchesCurrent && checkOwnRuleset(current.ruleset, anchor).ok ? current.ruleset : null;
  const previous = {
    lines: deployed.lines,
    text: matchesCurrent ? current.ruleset : deployed.text,
    manifestDigest: matchesCurrent ? current.manifestDigest : '',
  };

  const interrupted = interruption(deps);
  if (interrupted !== null) return refusal(interrupted);

  // The first time pfexpose loads this anchor, what it held is kept in the history first, so that
  // `rollback` can go back to it. Written before the load: a crash after the commit keeps it too.
  if (recordAs.kind === 'apply' && (await deps.state.readNewest(anchor).catch(() => null)) === null) {
    // Without it, a later rollback would not know what came before: nothing is loaded then.
    const failure = await record(state, {
      anchor,
      ruleset: previous.text,
      manifestDigest: previous.manifestDigest,
      kind: 'initial',
    });
    if (failure !== null)
      return refusal(`nothing was loaded: ${failure} (what the anchor holds before pfexpose's first load)`);
  }

  let pending: PendingConfirm | null = null;
  if (request.confirmSeconds !== undefined) {
    // A revert loads only pfexpose's own rules: when the anchor holds anything else (a hand edit,
    // a truncated load), the window reverts to the empty anchor, which passes nothing.
    const own = checkOwnRuleset(previous.text, anchor);
    if (!own.ok) {
      warnings.push(
        `anchor "${anchor}" holds rules pfexpose did not write (${describeForeign(own.foreign)}): if this change is not confirmed, the anchor is emptied rather than given them back`,
      );
    }
    const started = await startConfirm(deps, request, own.ok ? previous : null);
    if (typeof started === 'string') return refusal(started);
    pending = started;
  }

  // The last moment to stop: from the load on, the transaction runs to its end.
  const late = interruption(deps);
  if (late !== null) {
    if (pending !== null) await state.clearPendingConfirm().catch(() => undefined);
    return refusal(late);
  }
  const loaded = await loadAndVerify(pfctl, anchor, ruleset, desiredLines, fast ? null : previous);
  if (loaded.kind === 'unsettled') return loaded;
  if (loaded.kind !== 'loaded') {
    // Nothing new stayed loaded: drop the window, which also ends its watchdog (it leaves as soon
    // as the record is gone), so that neither the next apply nor `confirm` believes in it. When
    // the previous ruleset could not be put back, the window stays: its watchdog tries again.
    const keepWindow = pending !== null && loaded.kind === 'failed' && !loaded.restored;
    let note = '';
    if (pending !== null && !keepWindow) {
      const cleared = await state.clearPendingConfirm().then(
        () => null,
        (error: unknown) => errorMessage(error),
      );
      if (cleared !== null)
        note = `; the confirmation record could not be removed (${cleared}): its watchdog will find pf as it was and only record that`;
    }
    if (keepWindow && pending !== null)
      note = `; the confirmation watchdog will try to load the previous ruleset again at ${pending.deadline}`;
    if (loaded.kind === 'rejected') {
      const diagnostics = mapPfctlErrors(loaded.errors, ruleset, request.exposures, request.dialect);
      return refusal(`pfctl rejected the ruleset, nothing was loaded: ${loaded.message}${note}`, diagnostics);
    }
    return { ...loaded, reason: `${loaded.reason}${note}` };
  }

  const killedLabels: string[] = [];
  if (request.killStates === true) {
    killedLabels.push(...(await killRemovedStates(pfctl, anchor, ownPrevious, ruleset, warnings)));
  }

  // A drift repair puts back what the history already says is current: no new entry (and a
  // rollback's entry stays the newest, which is what keeps the agent holding).
  const alreadyCurrent =
    recordAs.kind === 'apply' &&
    current !== null &&
    current.manifestDigest === request.manifestDigest &&
    sameLines(normalizedLines(current.ruleset), desiredLines);
  if (!alreadyCurrent) {
    const failure = await record(state, {
      anchor,
      ruleset,
      manifestDigest: request.manifestDigest,
      kind: recordAs.kind,
      ...(recordAs.undone === undefined ? {} : { undone: recordAs.undone }),
    });
    if (failure !== null) {
      // Not success: pf holds a ruleset no record knows, so rollback refuses until an apply records
      // it. A commit-confirmed window stays open and reverts as usual.
      const window = pending === null ? '' : `; unless you run pfexpose confirm, it is reverted at ${pending.deadline}`;
      return {
        kind: 'failed',
        reason: `pf holds the new ruleset, but ${failure}: the history does not know it, and pfexpose rollback refuses until it does; free the space (or fix the directory) and run the same apply again, which loads nothing and records it${window}`,
        restored: false,
      };
    }
  }
  let confirmDeadline: string | undefined;
  if (pending !== null && request.confirmSeconds !== undefined) {
    // The window counts from the moment the new rules are in place, not from the start of the load.
    const windowMs = request.confirmSeconds * 1000;
    const monotonic = monotonicNow(deps);
    const refreshed = {
      ...pending,
      deadline: new Date(now(deps).getTime() + windowMs).toISOString(),
      monotonicCreated: monotonic,
      monotonicDeadline: monotonic + windowMs,
    };
    try {
      await state.writePendingConfirm(refreshed);
      pending = refreshed;
    } catch (error) {
      warnings.push(`could not extend the confirmation window: ${errorMessage(error)}`);
    }
    confirmDeadline = pending.deadline;
  }
  return {
    kind: 'applied',
    previous: previous.text,
    attempts: loaded.attempts,
    killedLabels,
    ...(confirmDeadline === undefined ? {} : { confirmDeadline }),
    warnings,
    ...lineChanges(deployed.lines, desiredLines),
    revertedExpired: false,
  };
}

/**
 * --kill-states after a load: ends the open connections of the labels the load took out, and of
 * the labels whose sources it narrowed (same label, a source of before that no source of after
 * contains: all of the label's states end, the clients still admitted reconnect), but only
 * labels pfexpose wrote itself. They come from ownPrevious, the ruleset the state directory records
 * pfexpose loaded into this anchor, which pf still held and which is pfexpose's own rules (null:
 * none such, nothing is ended). As `pfctl -k label` is not scoped to an anchor, a label that also
 * appears in the main ruleset or any other anchor is left alone, with a warning. Returns the labels
 * ended; every label left open is said in warnings.
 */
async function killRemovedStates(
  pfctl: Pfctl,
  anchor: string,
  ownPrevious: string | null,
  ruleset: string,
  warnings: string[],
): Promise<string[]> {
  if (ownPrevious === null) {
    warnings.push(
      `--kill-states ended no connections: what anchor "${anchor}" held is not a ruleset the state directory records pfexpose loading there, so its labels may not be pfexpose's (end them by hand with pfctl -k label -k LABEL if they are)`,
    );
    return [];
  }
  const keep = new Set(rulesetLabels(ruleset));
  // Removed labels, and labels whose rules now admit fewer sources: pf keeps the states the wider
  // rule made, so a narrowed exposure would still serve the clients it now refuses.
  const removed = [
    ...rulesetLabels(ownPrevious).filter((label) => !keep.has(label)),
    ...narrowedLabels(ownPrevious, ruleset),
  ].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (removed.length === 0) return [];
  if (pfctl.labelsOutside === undefined) {
    warnings.push(
      `--kill-states ended no connections: this pfctl adapter cannot list the labels outside anchor "${anchor}"`,
    );
    return [];
  }
  const outside = await pfctl.labelsOutside(anchor);
  if (outside.kind !== 'ok') {
    warnings.push(
      `--kill-states ended no connections: the labels outside anchor "${anchor}" could not be read (${outside.message}), and pfctl -k label would end theirs too; labels left open: ${removed.join(', ')}`,
    );
    return [];
  }
  const shared = new Set(outside.labels);
  const killed: string[] = [];
  for (const label of removed) {
    if (shared.has(label)) {
      warnings.push(
        `--kill-states left the connections of label ${label} open: the main ruleset or another anchor uses that label too, and pfctl -k label is not scoped to anchor "${anchor}"`,
      );
      continue;
    }
    const result = await pfctl.killStates(label);
    if (result.kind === 'ok') killed.push(label);
    else warnings.push(`could not end the connections of label ${label}: ${result.message}`);
  }
  return killed;
}

/** Writes the pending record before the load, so a crash mid-load still ends in a revert. */
async function startConfirm(
  deps: ApplyDeps,
  request: ApplyRequest,
  /** null: revert to the empty ruleset. */
  previous: { text: string; manifestDigest: string } | null,
): Promise<PendingConfirm | string> {
  const seconds = request.confirmSeconds ?? 0;
  if (!(seconds > 0) || !Number.isFinite(seconds))
    return `the confirmation window must be a positive number of seconds, not ${seconds}`;
  if (deps.startConfirmWatchdog === undefined)
    return 'commit-confirmed needs a watchdog to revert the change, and none is configured';
  const at = now(deps);
  const monotonic = monotonicNow(deps);
  const pending: PendingConfirm = {
    anchor: request.anchor,
    deadline: new Date(at.getTime() + seconds * 1000).toISOString(),
    previous: previous === null ? null : { ruleset: previous.text, manifestDigest: previous.manifestDigest },
    appliedDigest: sha256(request.ruleset),
    pid: process.pid,
    createdAt: at.toISOString(),
    manifestDigest: request.manifestDigest,
    monotonicCreated: monotonic,
    monotonicDeadline: monotonic + seconds * 1000,
  };
  try {
    await deps.state.writePendingConfirm(pending);
  } catch (error) {
    return `cannot write the pending confirmation record in ${deps.state.path}: ${errorMessage(error)}`;
  }
  const failure = await deps.startConfirmWatchdog(pending);
  if (failure !== null) {
    await deps.state.clearPendingConfirm().catch(() => undefined);
    return `cannot start the watchdog that would revert an unconfirmed change, so nothing was loaded: ${failure}`;
  }
  return pending;
}

/** Puts back what the pending record saved, records it, and drops the record. Under the lock. */
async function revertPending(
  deps: ApplyDeps,
  pending: PendingConfirm,
  kind: 'confirm-revert' | 'rollback' = 'confirm-revert',
  readAhead: DeployedAnchor | null = null,
): Promise<PendingOutcome> {
  const deployed: DeployedRead =
    readAhead !== null ? { kind: 'ok', ...readAhead } : await readDeployed(deps.pfctl, pending.anchor);
  if (deployed.kind !== 'ok')
    return { kind: 'failed', reason: `cannot revert the unconfirmed apply: ${deployed.message}`, restored: false };
  const target = pending.previous?.ruleset ?? '';
  // StateDir.readPendingConfirm() already refused a record that would load anything else.
  const own = checkOwnRuleset(target, pending.anchor);
  if (!own.ok)
    return {
      kind: 'refused',
      reason: `the pending confirmation would load rules that are not pfexpose's own (${describeForeign(own.foreign)}); nothing was loaded`,
    };
  const targetLines = normalizedLines(target);
  if (!sameLines(deployed.lines, targetLines)) {
    const interrupted = interruption(deps);
    if (interrupted !== null) return { kind: 'refused', reason: interrupted };
    const loaded = await loadAndVerify(deps.pfctl, pending.anchor, target, targetLines, deployed);
    if (loaded.kind === 'failed' || loaded.kind === 'unsettled') {
      return { kind: 'failed', reason: `reverting the unconfirmed apply failed: ${loaded.reason}`, restored: false };
    }
    if (loaded.kind === 'rejected') {
      return {
        kind: 'failed',
        reason: `reverting the unconfirmed apply failed: pfctl rejected the previous ruleset: ${loaded.message}`,
        restored: false,
      };
    }
  }
  const failure = await record(deps.state, {
    anchor: pending.anchor,
    ruleset: target,
    manifestDigest: pending.previous?.manifestDigest ?? '',
    kind,
    undone: { manifestDigest: pending.manifestDigest ?? '', linesDigest: linesDigest(deployed.lines) },
  });
  if (failure !== null) {
    // The pending record stays: whoever looks next (the watchdog's next attempt, an apply, the
    // agent) finds pf already reverted and only records it.
    return { kind: 'failed', reason: `reverted the unconfirmed apply, but ${failure}`, restored: true };
  }
  try {
    await deps.state.clearPendingConfirm();
  } catch (error) {
    return {
      kind: 'failed',
      reason: `reverted, but cannot remove the pending record: ${errorMessage(error)}`,
      restored: true,
    };
  }
  return { kind: 'reverted', anchor: pending.anchor, ruleset: target };
}

type Loaded =
  | { kind: 'loaded'; attempts: number }
  | { kind: 'failed'; reason: string; restored: boolean }
  /** pfctl refused the text (syntax): its transaction was rolled back, nothing was loaded. */
  | { kind: 'rejected'; errors: { line: number; message: string }[]; message: string }
  /** Only without a previous read: the load may or may not have changed the anchor. */
  | { kind: 'unsettled'; reason: string };

/**
 * One load, then the anchor read back. A load pfctl rejected changed nothing (pf rolls the whole
 * transaction back), so nothing more is loaded. Anything else short of "loaded and reads back as
 * wanted" puts back what was read from the anchor before the load: a load that timed out or died
 * may or may not have committed. previous null: nothing was read before the load (the fast path),
 * so nothing is ever put back; the caller learns whether the load may have changed the anchor.
 */
async function loadAndVerify(
  pfctl: Pfctl,
  anchor: string,
  text: string,
  wantLines: readonly string[],
  previous: { lines: readonly string[]; text: string } | null,
): Promise<Loaded> {
  const load = await pfctl.load(anchor, text);
  if (load.kind === 'rejected') return { kind: 'rejected', errors: load.errors, message: load.message };
  if (load.kind === 'ok') {
    const back = await readDeployed(pfctl, anchor);
    if (back.kind === 'ok' && sameLines(back.lines, wantLines)) return { kind: 'loaded', attempts: load.attempts };
    const why =
      back.kind === 'ok'
        ? `the anchor read back after the load differs from the ruleset (${describeDifference(back.lines, wantLines)})`
        : `the anchor could not be read back after the load: ${back.message}`;
    if (previous === null) {
      return {
        kind: 'failed',
        reason: `${why}; nothing was put back, as the anchor was not read before this load: check pfctl -a ${anchor} -sr`,
        restored: false,
      };
    }
    return restore(pfctl, anchor, previous, why);
  }
  if (previous === null) {
    // EBUSY on every attempt, or no pfctl to run: nothing was loaded, pf holds what it held.
    if (
      load.kind === 'busy' ||
      load.kind === 'not-found' ||
      load.kind === 'invalid-name' ||
      load.kind === 'not-started'
    ) {
      return { kind: 'failed', reason: `${describeLoadFailure(load)}; nothing was loaded`, restored: true };
    }
    return { kind: 'unsettled', reason: describeLoadFailure(load) };
  }
  return restore(pfctl, anchor, previous, describeLoadFailure(load));
}

/** applyDesired's result where it cannot be unsettled (not the fast path). */
function settled(attempt: Attempt): ApplyOutcome {
  return attempt.kind === 'unsettled' ? { kind: 'failed', reason: attempt.reason, restored: false } : attempt;
}

async function restore(
  pfctl: Pfctl,
  anchor: string,
  previous: { lines: readonly string[]; text: string },
  why: string,
): Promise<Loaded> {
  const back = await readDeployed(pfctl, anchor);
  if (back.kind === 'ok' && sameLines(back.lines, previous.lines)) {
    return { kind: 'failed', reason: `${why}; pf still holds the previous ruleset`, restored: true };
  }
  // What is put back is what pf printed before the load: loaded again only when it is pfexpose's
  // own rules. Anything else (a hand edit, a truncated earlier load, a pfctl printing garbage) is
  // never loaded by pfexpose: the anchor is emptied instead, which passes nothing (fails closed).
  const own = checkOwnRuleset(previous.text, anchor);
  if (!own.ok) return emptyAnchor(pfctl, anchor, why, describeForeign(own.foreign));
  const again = await pfctl.load(anchor, previous.text);
  const after = await readDeployed(pfctl, anchor);
  if (after.kind === 'ok' && sameLines(after.lines, previous.lines)) {
    return { kind: 'failed', reason: `${why}; the previous ruleset was loaded again`, restored: true };
  }
  const how = again.kind === 'ok' ? 'it reads back differently' : again.message;
  return {
    kind: 'failed',
    reason: `${why}; putting the previous ruleset back failed too (${how}): check pfctl -a ${anchor} -sr and apply again`,
    restored: false,
  };
}

/** restore()'s answer when what the anchor held before is not pfexpose's own: the empty ruleset. */
async function emptyAnchor(pfctl: Pfctl, anchor: string, why: string, foreign: string): Promise<Loaded> {
  const notPutBack = `the anchor held rules pfexpose did not write before this load (${foreign}), which it does not load back`;
  const emptied = await pfctl.load(anchor, '');
  const after = await readDeployed(pfctl, anchor);
  if (after.kind === 'ok' && after.lines.length === 0) {
    return {
      kind: 'failed',
      reason: `${why}; ${notPutBack}: the anchor was emptied instead and passes nothing; apply again`,
      restored: false,
    };
  }
  const how = emptied.kind === 'ok' ? 'it does not read back empty' : emptied.message;
  return {
    kind: 'failed',
    reason: `${why}; ${notPutBack}, and emptying the anchor failed too (${how}): check pfctl -a ${anchor} -sr and empty it by hand (pfctl -a ${anchor} -F all)`,
    restored: false,
  };
}

function describeLoadFailure(load: Exclude<LoadResult, { kind: 'ok' }>): string {
  switch (load.kind) {
    case 'rejected':
      return `pfctl refused the load: ${load.message}`;
    case 'busy':
      return load.message;
    case 'timed-out':
      return `the load did not finish: ${load.message}`;
    default:
      return `the load failed: ${load.message}`;
  }
}

function describeDifference(actual: readonly string[], wanted: readonly string[]): string {
  const { added, removed } = lineChanges(actual, wanted);
  const first = removed[0] ?? added[0];
  return `${added.length} line(s) missing, ${removed.length} unexpected${first === undefined ? '' : `, e.g. ${JSON.stringify(first)}`}`;
}

/** Lines only the desired side has (added) and only the deployed side has (removed), in order. */
function lineChanges(deployed: readonly string[], desired: readonly string[]): { added: string[]; removed: string[] } {
  const have = new Set(deployed);
  const want = new Set(desired);
  return { added: desired.filter((line) => !have.has(line)), removed: deployed.filter((line) => !want.has(line)) };
}

/** What loading over `deployed` takes out of the anchor, as the history should remember it. */
async function undoneBy(state: StateDir, anchor: string, deployed: DeployedAnchor): Promise<UndoneRuleset> {
  const current = await state.readCurrent();
  const known =
    current.kind === 'ok' &&
    current.value.anchor === anchor &&
    sameLines(normalizedLines(current.value.ruleset), deployed.lines);
  return { manifestDigest: known ? current.value.manifestDigest : '', linesDigest: linesDigest(deployed.lines) };
}

/** Records a load: null when recorded, else what went wrong (for the caller's message). */
async function record(
  state: StateDir,
  input: { anchor: string; ruleset: string; manifestDigest: string; kind?: HistoryKind; undone?: UndoneRuleset },
): Promise<string | null> {
  try {
    await state.recordApplied(input);
    return null;
  } catch (error) {
    return `recording it in ${state.path} failed: ${errorMessage(error)}`;
  }
}

/**
 * How a transaction treats a state directory that does not exist yet. A refused command must leave
 * no trace (README, "The state directory"): the directory is created only for a transaction that
 * may write into it, and taken back when it ends refused having written nothing.
 */
interface AbsentState<T> {
  /**
   * Runs, without the lock, before the directory is created: read-only checks (pf enabled, the
   * anchor called) or the answer an empty state directory gives. A result ends the transaction
   * there; null goes on.
   */
  first: () => Promise<T | null>;
  /** The results that wrote nothing, after which a directory created for them is removed. */
  isRefusal: (result: T) => boolean;
}

async function withLock<T>(
  deps: ApplyDeps,
  waitMs: number | undefined,
  refuse: (reason: string) => T,
  body: (notes: string[]) => Promise<T>,
  absent?: AbsentState<T>,
): Promise<T> {
  let created: boolean;
  try {
    if (absent !== undefined && (await deps.state.checkDirectory()) === 'absent') {
      const early = await absent.first();
      if (early !== null) return early;
    }
    created = await deps.state.ensure();
  } catch (error) {
    if (error instanceof UnsafePathError) return refuse(error.message);
    return refuse(`cannot create the state directory ${deps.state.path}: ${errorMessage(error)}`);
  }
  const result = await underLock(deps, waitMs, refuse, body);
  if (created && absent?.isRefusal(result) === true) await deps.state.removeIfEmpty();
  return result;
}

async function underLock<T>(
  deps: ApplyDeps,
  waitMs: number | undefined,
  refuse: (reason: string) => T,
  body: (notes: string[]) => Promise<T>,
): Promise<T> {
  // The agent may hold the lock for its whole life: then it is not ours to give back.
  const heldBefore = deps.mutex.holder !== null;
  const taken = await acquireMutex(deps, waitMs ?? 0);
  if (taken.kind !== 'acquired') return refuse(interruption(deps) ?? taken.message);
  const notes: string[] = [];
  const gone = taken.tookOverFrom;
  if (gone !== null)
    notes.push(`took over the lock left by pid ${gone.pid} (${gone.command}, since ${gone.startedAt}), which is gone`);
  try {
    const interrupted = interruption(deps);
    if (interrupted !== null) return refuse(interrupted);
    return await body(notes);
  } finally {
    if (!heldBefore) await deps.mutex.release();
  }
}

/** An apply or rollback that finds no state directory: pf must pass the preflight before one is made. */
function preflightFirst(
  deps: ApplyDeps,
  anchor: string,
  otherwise: () => ApplyOutcome | null,
): AbsentState<ApplyOutcome> {
  return {
    first: async () => {
      const pre = await preflight(deps.pfctl, anchor);
      if (pre.kind === 'refused') return refusal(pre.reason, [], pre.linesToAdd);
      return otherwise();
    },
    isRefusal: (outcome) => outcome.kind === 'refused',
  };
}

/** The lock, waited for in short slices when an interrupt may come, so that it ends the wait. */
async function acquireMutex(deps: ApplyDeps, waitMs: number): Promise<MutexAcquireResult> {
  if (deps.interrupt === undefined || waitMs <= 0) return deps.mutex.acquire({ waitMs });
  const deadline = Date.now() + waitMs;
  for (;;) {
    const taken = await deps.mutex.acquire({ waitMs: Math.max(0, Math.min(250, deadline - Date.now())) });
    if (taken.kind !== 'held' || Date.now() >= deadline || deps.interrupt.aborted) return taken;
  }
}

/** Why no load may start now (the operator interrupted), or null. */
function interruption(deps: ApplyDeps): string | null {
  const signal = deps.interrupt;
  if (signal === undefined || !signal.aborted) return null;
  const name = typeof signal.reason === 'string' ? signal.reason : 'a signal';
  return `interrupted by ${name} before the load: nothing was loaded`;
}

function withReverted(outcome: ApplyOutcome, revertedExpired: boolean): ApplyOutcome {
  return outcome.kind === 'applied' || outcome.kind === 'unchanged' ? { ...outcome, revertedExpired } : outcome;
}

function refusal(reason: string, diagnostics: Diagnostic[] = [], linesToAdd?: string[]): ApplyOutcome {
  return {
    kind: 'refused',
    reason,
    diagnostics,
    ...(linesToAdd === undefined || linesToAdd.length === 0 ? {} : { linesToAdd }),
  };
}

function now(deps: ApplyDeps): Date {
  return (deps.now ?? (() => new Date()))();
}

function monotonicNow(deps: ApplyDeps): number {
  return (deps.monotonicNow ?? monotonicNowMs)();
}

/** See confirmWindowClosed: both clocks, or the monotonic one alone when sameBoot. */
function windowClosed(deps: ApplyDeps, pending: PendingConfirm, sameBoot = false): boolean {
  return confirmWindowClosed(pending, now(deps).getTime(), monotonicNow(deps), sameBoot);
}

/** `sha256:` and the first 12 hex digits (enough to tell two fingerprints apart by eye). */
function short(fingerprint: string): string {
  const match = /^([a-z0-9]+:)?([0-9a-f]+)$/i.exec(fingerprint);
  if (match === null) return fingerprint;
  return `${match[1] ?? ''}${(match[2] ?? '').slice(0, 12)}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * pfexpose writes no tables, so a table in its anchor was put there by hand. Its rules never use
 * it and a load may leave a persistent table in place: say so, and how to remove it, rather than
 * pretend the anchor is exactly what the manifests say. null when there is none.
 */
export function unmanagedTablesWarning(anchor: string, tables: readonly string[]): string | null {
  if (tables.length === 0) return null;
  const names = tables.map((t) => `<${t}>`).join(', ');
  const first = tables[0] ?? '';
  return `anchor "${anchor}" holds table(s) ${names} that pfexpose did not write; its rules do not use them: remove them with pfctl -a ${anchor} -t ${first} -T kill (one table at a time)`;
}
