// The apply core's vocabulary: what it needs (ApplyDeps), what it is asked (ApplyRequest,
// RollbackRequest) and what it answers (ApplyOutcome, PendingOutcome, ConfirmOutcome).
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Exposure } from '../model/exposure.js';
import type { Dialect } from '../pf/render-ruleset.js';
import type { StateDirMutex } from '../host/state-dir-mutex.js';
import type { Pfctl } from '../pf/pfctl-api.js';
import type { DeployedAnchor } from './read-deployed.js';
import type { HistoryKind, PendingConfirm, StateDir, UndoneRuleset } from './state-dir.js';

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
  /** `rollback --to ID`: load this history entry (its sequence number) rather than the one before the current. */
  to?: number;
}

/** How applyDesired records a load in the history. */
export interface RecordAs {
  kind: HistoryKind;
  undone?: UndoneRuleset;
}

/**
 * What applyDesired may also end in on the fast path: the load failed in a way that may or may not
 * have changed the anchor (it timed out, or pfctl died), and since the anchor was not read before
 * it, there is nothing known to put back.
 */
export type Attempt = ApplyOutcome | { kind: 'uncertain'; reason: string };
