// Runs a step of the apply core under the state-dir mutex (StateDirMutex): waited for in slices so
// an interrupt ends the wait, taken over from a process that is gone, given back after.
import type { MutexAcquireResult } from '../host/state-dir-mutex.js';
import { preflight } from './preflight.js';
import { UnsafePathError } from '../diagnostics/file-errors.js';
import type { ApplyDeps, ApplyOutcome } from './apply-types.js';
import { errorMessage, interruption, refusal } from './apply-helpers.js';

/**
 * How a transaction treats a state directory that does not exist yet. A refused command must leave
 * no trace (docs/guide/operating.md, "The state directory"): the directory is created only for a transaction that
 * may write into it, and taken back when it ends refused having written nothing.
 */
export interface AbsentState<T> {
  /**
   * Runs, without the lock, before the directory is created: read-only checks (pf enabled, the
   * anchor called) or the answer an empty state directory gives. A result ends the transaction
   * there; null goes on.
   */
  first: () => Promise<T | null>;
  /** The results that wrote nothing, after which a directory created for them is removed. */
  isRefusal: (result: T) => boolean;
}

export async function withLock<T>(
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
export function preflightFirst(
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
