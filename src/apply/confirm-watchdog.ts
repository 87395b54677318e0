// The revert of `apply --confirm` must happen even when the apply process is gone (the operator's
// ssh session cut by the very change being tested): a detached process sleeps until the deadline
// and undoes the change unless `pfexpose confirm` removed the pending record first.
import { spawn } from 'node:child_process';
import { closeSync, constants, existsSync, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ApplyDeps, type PendingOutcome } from './apply-ruleset.js';
import { readAheadForRevert, revertExpiredConfirm, type RevertReadAhead } from './confirm-window.js';
import { currentUid, PRIVATE_FILE_MODE } from '../host/atomic-write.js';
import { isErrno, untrustedReason } from '../diagnostics/file-errors.js';
import { confirmWindowClosed, monotonicNowMs, type PendingConfirm } from './state-dir.js';

/**
 * The watchdog script as built. The same relative URL works from src/apply (tests run the sources)
 * and from dist/apply (installed), so the watchdog never depends on how the CLI is wired.
 */
export const WATCHDOG_ENTRY = fileURLToPath(new URL('../../dist/apply/confirm-watchdog-main.js', import.meta.url));

/** Where the watchdog writes what it did, inside the state directory. */
export const WATCHDOG_LOG = 'confirm-watchdog.log';

export interface WatchdogLaunch {
  stateDir: string;
  pfctlProgram: string;
  pfctlTimeoutMs?: number;
  env: Readonly<Record<string, string | undefined>>;
  /** The script run by node; default WATCHDOG_ENTRY. */
  entry?: string;
  /** Who must own the log; default the effective uid (null: not checked). */
  uid?: number | null;
}

/**
 * Opens the watchdog's log for appending without following a link or blocking on a FIFO, created
 * 0600: a link, anything but a regular file, or a file another user could have written is refused
 * (the message says what to remove).
 */
export function openWatchdogLog(path: string, uid: number | null): { fd: number } | string {
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      PRIVATE_FILE_MODE,
    );
  } catch (error) {
    if (isErrno(error, 'ELOOP') || isErrno(error, 'EMLINK'))
      return `${path} is a symbolic link; pfexpose follows no links in its state directory: remove it`;
    return `cannot open ${path}: ${error instanceof Error ? error.message : String(error)}`;
  }
  const info = fstatSync(fd);
  const why = info.isFile() ? untrustedReason(info, uid) : 'is not a regular file';
  if (why !== null) {
    closeSync(fd);
    return `${path} ${why}: remove it`;
  }
  return { fd };
}

/** For ApplyDeps.startConfirmWatchdog: spawns the watchdog script detached from this process. */
export function createConfirmWatchdogStarter(
  launch: WatchdogLaunch,
): (pending: PendingConfirm) => Promise<string | null> {
  return (pending) =>
    new Promise((resolve) => {
      const args = [
        launch.entry ?? WATCHDOG_ENTRY,
        '--state-dir',
        launch.stateDir,
        '--pfctl',
        launch.pfctlProgram,
        '--pfctl-timeout-ms',
        String(launch.pfctlTimeoutMs ?? 30_000),
        // Only for ps(1): the record in the state directory is what counts.
        '--deadline',
        pending.deadline,
        // Which window is this watchdog's: it leaves when that record is gone or replaced.
        '--created-at',
        pending.createdAt,
      ];
      if (!existsSync(args[0] ?? '')) {
        resolve(`the watchdog script ${args[0] ?? ''} is missing (run npm run build)`);
        return;
      }
      const opened = openWatchdogLog(
        join(launch.stateDir, WATCHDOG_LOG),
        launch.uid === undefined ? currentUid() : launch.uid,
      );
      if (typeof opened === 'string') {
        resolve(opened);
        return;
      }
      const log = opened.fd;
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(launch.env)) if (value !== undefined) env[key] = value;
      try {
        const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], env });
        child.once('error', (error) => {
          resolve(error.message);
        });
        child.once('spawn', () => {
          child.unref();
          resolve(null);
        });
      } catch (error) {
        resolve(error instanceof Error ? error.message : String(error));
      } finally {
        closeSync(log);
      }
    });
}

export interface WatchOptions {
  /**
   * The createdAt of the window this watchdog was started for: a record of another window (the
   * first one cleared, a new `apply --confirm` since) is not its business, and it leaves.
   */
  createdAt?: string;
  /** How often the pending record is looked at while waiting (never past the deadline). Default 250 ms. */
  pollMs?: number;
  /**
   * How long before the deadline the anchor is read, so the revert starts with the load at the
   * deadline instead of reading first (several pfctl runs). Default 3 s.
   */
  readAheadMs?: number;
  /** Attempts when the revert is blocked (lock held) or fails. Default 20. */
  attempts?: number;
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
}

/**
 * Milliseconds until the window closes for the watchdog (confirmWindowClosed with sameBoot): on
 * the monotonic clock when the record has it, else on the wall clock; zero or less: closed.
 */
export function msUntilClosed(pending: PendingConfirm, wallNowMs: number, monotonicNow: number): number {
  const { monotonicCreated, monotonicDeadline } = pending;
  if (monotonicCreated === undefined || monotonicDeadline === undefined || monotonicNow < monotonicCreated) {
    return Date.parse(pending.deadline) - wallNowMs;
  }
  return monotonicDeadline - monotonicNow;
}

/**
 * The watchdog's life: wait while a pending record exists and its deadline is ahead, then revert.
 * Ends as soon as the record is gone (confirmed, reverted by someone else, or cleared by an apply
 * whose load did not happen) or belongs to another window. A process cannot outlive a reboot, so
 * the watchdog measures the window on the monotonic clock alone (sameBoot): a wall-clock step
 * neither reverts early nor late.
 */
export async function watchConfirmDeadline(deps: ApplyDeps, options: WatchOptions = {}): Promise<PendingOutcome> {
  const pollMs = options.pollMs ?? 250;
  const readAheadMs = options.readAheadMs ?? 3000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const log = options.log ?? (() => undefined);
  const now = deps.now ?? (() => new Date());
  const monotonic = deps.monotonicNow ?? monotonicNowMs;
  let attemptsLeft = options.attempts ?? 20;
  let readAhead = null as RevertReadAhead | null;
  let announced = false;
  for (;;) {
    const pending = await deps.state.readPendingConfirm();
    if (pending.kind === 'absent') return { kind: 'none' };
    if (pending.kind === 'corrupt') return { kind: 'refused', reason: pending.message };
    if (options.createdAt !== undefined && pending.value.createdAt !== options.createdAt) return { kind: 'none' };
    if (!confirmWindowClosed(pending.value, now().getTime(), monotonic(), true)) {
      const left = msUntilClosed(pending.value, now().getTime(), monotonic());
      if (left <= readAheadMs && readAhead?.createdAt !== pending.value.createdAt) {
        readAhead = await readAheadForRevert(deps, pending.value);
        // Keep to one read per window, even a failed one: the revert reads again anyway.
        readAhead ??= {
          createdAt: pending.value.createdAt,
          mark: '',
          deployed: { lines: [], text: '', tables: [], exists: false },
        };
        continue;
      }
      // Never sleep past the deadline: the poll interval only bounds how late a confirm is noticed.
      await sleep(Math.max(1, Math.min(pollMs, Math.ceil(left))));
      continue;
    }
    if (!announced) {
      announced = true;
      const late = -msUntilClosed(pending.value, now().getTime(), monotonic());
      log(`the deadline ${pending.value.deadline} has passed (${Math.round(late)} ms ago): reverting`);
    }
    const outcome = await revertExpiredConfirm(deps, {
      lockWaitMs: 5_000,
      sameBoot: true,
      readAhead: readAhead?.mark === '' ? null : readAhead,
      ...(options.createdAt === undefined ? {} : { createdAt: options.createdAt }),
    });
    // A second attempt reads the anchor itself.
    readAhead = null;
    if (outcome.kind === 'reverted' || outcome.kind === 'none') return outcome;
    if (outcome.kind === 'waiting') continue;
    attemptsLeft -= 1;
    log(`revert not done yet: ${outcome.reason}`);
    if (attemptsLeft <= 0) return outcome;
    await sleep(1000);
  }
}
