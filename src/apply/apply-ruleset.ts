// Puts a ruleset into pf's anchor so that every failure leaves pf as it was and says why: under
// the state-dir mutex (under-mutex.ts), after a preflight and a dry run, in one load, verified by
// reading it back, restored on any doubt, recorded atomically (transaction.ts). Also the agent's
// fast path and rollback; commit-confirmed lives in confirm-window.ts. The stage's entry points.
import { mapPfctlErrors } from './map-pfctl-errors.js';
import type { Pfctl } from '../pf/pfctl-api.js';
import { checkHooks, PF_DISABLED_REASON, preflight } from './preflight.js';
import { type DeployedAnchor, readDeployed } from './read-deployed.js';
import { lineChanges, normalizedLines, rulesetLabels, sameLines } from '../pf/rule-lines.js';
import { checkOwnRuleset, describeForeign } from '../pf/check-own-ruleset.js';
import { historyName, type AppliedRecord, type HistoryRead, type PendingConfirm } from './state-dir.js';
import type { ApplyDeps, ApplyOutcome, ApplyRequest, Attempt, RecordAs, RollbackRequest } from './apply-types.js';
import { revertPending, startConfirm } from './confirm-window.js';
import { asOutcome, loadAndVerify, record, undoneBy } from './transaction.js';
import { narrowedLabels } from '../plan/narrowed-labels.js';
import { preflightFirst, withLock } from './under-mutex.js';
import {
  errorMessage,
  interruption,
  monotonicNow,
  now,
  refusal,
  short,
  windowClosed,
  withReverted,
} from './apply-helpers.js';

export type {
  ApplyDeps,
  ApplyOutcome,
  ApplyRequest,
  ConfirmOutcome,
  PendingOutcome,
  RollbackRequest,
} from './apply-types.js';

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
  let uncertain: string | null = null;
  if (assumed !== null) {
    const fast = await applyDesired(deps, request, assumed, [...notes], { kind: 'apply' }, true);
    if (fast.kind !== 'uncertain') return fast;
    // What pf holds now is unknown, and what it held before was assumed, never read: read it now
    // and go on as the full path does, restoring (if it comes to that) only what this read finds.
    uncertain = fast.reason;
  }
  const checked = await preflightAndSettle(deps, request.anchor);
  const warnings =
    uncertain === null
      ? []
      : [
          `the first load did not complete (${uncertain}); the anchor was read and the ruleset applied through the full path`,
        ];
  if (checked.kind !== 'ready')
    return uncertain === null ? checked.outcome : afterUncertain(uncertain, checked.outcome);
  const outcome = asOutcome(
    await applyDesired(deps, request, checked.deployed, [...notes, ...warnings, ...checked.warnings]),
  );
  if (uncertain !== null && outcome.kind !== 'applied' && outcome.kind !== 'unchanged')
    return afterUncertain(uncertain, outcome);
  return withReverted(outcome, checked.revertedExpired);
}

/** The full path after an uncertain fast load did not succeed either: pf was touched, so never "refused". */
function afterUncertain(first: string, outcome: ApplyOutcome): ApplyOutcome {
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
 * instead. request.to: the history entry of that number instead (refused while a confirmation is
 * pending; unchanged when pf already holds it).
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
      if (pending.kind === 'ok' && request.to !== undefined) {
        return refusal(
          `an apply made with --confirm awaits confirmation until ${pending.value.deadline}: run pfexpose confirm to keep it, or pfexpose rollback (without --to) to undo it, then roll back to entry ${request.to}`,
        );
      }
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
      const chosen =
        request.to === undefined ? null : chosenEntry(history, request.anchor, request.to, deps.state.path);
      if (typeof chosen === 'string') return refusal(`${chosen}${damaged}`);
      if (chosen !== null && sameLines(normalizedLines(chosen.ruleset), deployed.lines)) {
        return { kind: 'unchanged', ruleset: chosen.ruleset, warnings: [], revertedExpired: false };
      }
      // What pf holds must be what the history recorded last: otherwise its record is missing (a full
      // disk after the load, a hand edit), and "the ruleset before it" is not known. Never a guess.
      // `--to ID` names the entry itself, so nothing is guessed and this check does not apply.
      const newest = history.entries.find((entry) => entry.anchor === request.anchor);
      if (chosen === null && newest !== undefined && !sameLines(normalizedLines(newest.ruleset), deployed.lines)) {
        return refusal(
          `anchor "${request.anchor}" holds a ruleset the history in ${deps.state.path} does not record as its newest (its record is missing, e.g. the disk was full, or the anchor was changed by hand); nothing was loaded: run pfexpose apply to record the manifests' ruleset, then roll back${damaged}`,
        );
      }
      const target =
        chosen ??
        history.entries.find(
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
      const outcome = asOutcome(
        await applyDesired(deps, rollbackRequest, deployed, notes, { kind: 'rollback', undone }),
      );
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

/** `rollback --to ID`: that entry of the history, or why it cannot be rolled back to. */
function chosenEntry(
  history: HistoryRead,
  anchor: string,
  id: number,
  statePath: string,
): (AppliedRecord & { sequence: number }) | string {
  const entry = history.entries.find((candidate) => candidate.sequence === id);
  if (entry === undefined) {
    const ids = history.entries.map((candidate) => candidate.sequence).sort((a, b) => a - b);
    const known = ids.length === 0 ? 'it holds no entries' : `its entries are ${ids.join(', ')}`;
    return `the history in ${statePath} has no entry ${id} (${known}; pfexpose history lists them); nothing was loaded`;
  }
  if (entry.anchor !== anchor)
    return `history entry ${id} is a ruleset of anchor "${entry.anchor}", not "${anchor}" (give --anchor ${entry.anchor}); nothing was loaded`;
  return entry;
}

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
export async function applyDesired(
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
  if (loaded.kind === 'uncertain') return loaded;
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
