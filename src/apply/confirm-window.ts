// Commit-confirmed: opening the window before a load, confirming it, and reverting it at its
// deadline (the watchdog, the agent, or the next apply/rollback once it has passed).
import { type DeployedAnchor, type DeployedRead, readDeployed } from './read-deployed.js';
import { linesDigest, normalizedLines, sameLines, sha256 } from '../pf/rule-lines.js';
import { checkOwnRuleset, describeForeign } from '../pf/check-own-ruleset.js';
import type { PendingConfirm, StateDir } from './state-dir.js';
import type { ApplyDeps, ApplyRequest, ConfirmOutcome, PendingOutcome } from './apply-types.js';
import { loadAndVerify, record } from './transaction.js';
import { type AbsentState, withLock } from './under-mutex.js';
import { errorMessage, interruption, monotonicNow, now, windowClosed } from './apply-helpers.js';

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
export async function lastRevert(state: StateDir): Promise<{ lastRevert?: { anchor: string; at: string } }> {
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

/** Writes the pending record before the load, so a crash mid-load still ends in a revert. */
export async function startConfirm(
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
export async function revertPending(
  deps: ApplyDeps,
  pending: PendingConfirm,
  kind: 'confirm-revert' | 'rollback' = 'confirm-revert',
  readAhead: DeployedAnchor | null = null,
): Promise<PendingOutcome> {
  const target = pending.previous?.ruleset ?? '';
  const targetLines = normalizedLines(target);
  // A read-ahead that finds the target already loaded may predate the load this revert undoes: an
  // apply killed between its load and its record leaves the state's mark as it was. "Nothing to
  // put back" is concluded only from a read made now.
  const ahead = readAhead !== null && !sameLines(readAhead.lines, targetLines) ? readAhead : null;
  const deployed: DeployedRead =
    ahead !== null ? { kind: 'ok', ...ahead } : await readDeployed(deps.pfctl, pending.anchor);
  if (deployed.kind !== 'ok')
    return { kind: 'failed', reason: `cannot revert the unconfirmed apply: ${deployed.message}`, restored: false };
  // StateDir.readPendingConfirm() already refused a record that would load anything else.
  const own = checkOwnRuleset(target, pending.anchor);
  if (!own.ok)
    return {
      kind: 'refused',
      reason: `the pending confirmation would load rules that are not pfexpose's own (${describeForeign(own.foreign)}); nothing was loaded`,
    };
  if (!sameLines(deployed.lines, targetLines)) {
    const interrupted = interruption(deps);
    if (interrupted !== null) return { kind: 'refused', reason: interrupted };
    const loaded = await loadAndVerify(deps.pfctl, pending.anchor, target, targetLines, deployed);
    if (loaded.kind === 'failed' || loaded.kind === 'uncertain') {
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
