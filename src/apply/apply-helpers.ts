// Small pieces every part of the apply transaction shares: refusals, the two clocks, the confirm
// window's deadline, interruptions, short fingerprints.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { confirmWindowClosed, monotonicNowMs, type PendingConfirm } from './state-dir.js';
import type { ApplyDeps, ApplyOutcome } from './apply-types.js';

export function withReverted(outcome: ApplyOutcome, revertedExpired: boolean): ApplyOutcome {
  return outcome.kind === 'applied' || outcome.kind === 'unchanged' ? { ...outcome, revertedExpired } : outcome;
}

export function refusal(reason: string, diagnostics: Diagnostic[] = [], linesToAdd?: string[]): ApplyOutcome {
  return {
    kind: 'refused',
    reason,
    diagnostics,
    ...(linesToAdd === undefined || linesToAdd.length === 0 ? {} : { linesToAdd }),
  };
}

export function now(deps: ApplyDeps): Date {
  return (deps.now ?? (() => new Date()))();
}

export function monotonicNow(deps: ApplyDeps): number {
  return (deps.monotonicNow ?? monotonicNowMs)();
}

/** See confirmWindowClosed: both clocks, or the monotonic one alone when sameBoot. */
export function windowClosed(deps: ApplyDeps, pending: PendingConfirm, sameBoot = false): boolean {
  return confirmWindowClosed(pending, now(deps).getTime(), monotonicNow(deps), sameBoot);
}

/** `sha256:` and the first 12 hex digits (enough to tell two fingerprints apart by eye). */
export function short(fingerprint: string): string {
  const match = /^([a-z0-9]+:)?([0-9a-f]+)$/i.exec(fingerprint);
  if (match === null) return fingerprint;
  return `${match[1] ?? ''}${(match[2] ?? '').slice(0, 12)}`;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Why no load may start now (the operator interrupted), or null. */
export function interruption(deps: ApplyDeps): string | null {
  const signal = deps.interrupt;
  if (signal === undefined || !signal.aborted) return null;
  const name = typeof signal.reason === 'string' ? signal.reason : 'a signal';
  return `interrupted by ${name} before the load: nothing was loaded`;
}
