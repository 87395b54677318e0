// The state-dir mutex (not the port lock file, pfexpose.lock): one pfexpose process at a time
// touches pf, by an exclusive file named `lock` in the state directory holding the holder's pid and
// start time. A lock whose process is gone (kill -9, power loss) is stale and
// is taken over; a live holder is named in the error so the operator knows whom to wait for.
// The lock file is read without following a link or blocking: a FIFO, a device or a link in its
// place is refused at once, never read.
import { randomBytes } from 'node:crypto';
import { link, lstat, open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { currentUid, PRIVATE_FILE_MODE, readPrivateFile } from './atomic-write.js';
import { isErrno } from '../diagnostics/file-errors.js';
import { isProcessAlive } from './run-command.js';

export interface MutexHolder {
  pid: number;
  /** ISO 8601 time the holder took the lock. */
  startedAt: string;
  /** What the holder is doing, e.g. "apply" or "watch". */
  command: string;
  /** Tells this holder's lock from a later one with a reused pid. */
  token: string;
}

export type MutexAcquireResult =
  | { kind: 'acquired'; holder: MutexHolder; tookOverFrom: MutexHolder | null }
  /** Another live process holds it (holder null: the lock file is unreadable but recent). */
  | { kind: 'held'; holder: MutexHolder | null; message: string }
  | { kind: 'failed'; message: string };

export interface MutexOptions {
  /** Written into the lock for the error others see. Default "pfexpose". */
  command?: string;
  /** Tests replace the liveness probe. */
  isAlive?: (pid: number) => boolean;
  now?: () => Date;
  /** Who must own the lock file; default the effective uid (null: not checked). */
  uid?: number | null;
}

/** A lock file holds one short JSON line. */
const MAX_LOCK_BYTES = 64 * 1024;

// A lock file nobody can read (a damaged disk, a hand edit) is only taken over once it is this old,
// so that a holder that is still writing it is never robbed.
const UNREADABLE_GRACE_MS = 10_000;

export class StateDirMutex {
  readonly path: string;
  private readonly command: string;
  private readonly isAlive: (pid: number) => boolean;
  private readonly now: () => Date;
  private readonly uid: number | null;
  private held: MutexHolder | null = null;

  constructor(path: string, options: MutexOptions = {}) {
    this.path = path;
    this.command = options.command ?? 'pfexpose';
    this.isAlive = options.isAlive ?? isProcessAlive;
    this.now = options.now ?? (() => new Date());
    this.uid = options.uid === undefined ? currentUid() : options.uid;
  }

  get holder(): MutexHolder | null {
    return this.held;
  }

  /** Takes the lock, waiting up to waitMs (default 0: one try) while a live process holds it. */
  async acquire(options: { waitMs?: number; pollMs?: number } = {}): Promise<MutexAcquireResult> {
    if (this.held !== null) return { kind: 'acquired', holder: this.held, tookOverFrom: null };
    const deadline = Date.now() + (options.waitMs ?? 0);
    const pollMs = options.pollMs ?? 100;
    let tookOverFrom: MutexHolder | null = null;
    let contended = 0;
    for (;;) {
      let attempt: Attempt;
      try {
        attempt = await this.tryOnce();
      } catch (error) {
        return { kind: 'failed', message: `cannot take the lock ${this.path}: ${errorMessage(error)}` };
      }
      if (attempt.kind === 'acquired') {
        this.held = attempt.holder;
        return { kind: 'acquired', holder: attempt.holder, tookOverFrom };
      }
      if (attempt.kind === 'stale-removed') {
        tookOverFrom = attempt.previous;
        continue;
      }
      if (attempt.kind === 'contended' && contended < 100) {
        // Another process is removing the same stale lock right now: let it finish, then look again.
        contended += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      if (Date.now() >= deadline) {
        const who =
          attempt.holder === null
            ? 'a process that left it unreadable'
            : `pid ${attempt.holder.pid} (${attempt.holder.command}, since ${attempt.holder.startedAt})`;
        return {
          kind: 'held',
          holder: attempt.holder,
          message: `another pfexpose process holds the lock ${this.path}: ${who}; wait for it to finish, or stop it`,
        };
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, deadline - Date.now()))));
    }
  }

  /** Gives the lock up; a lock that is no longer ours (taken over) is left alone. */
  async release(): Promise<void> {
    const mine = this.held;
    if (mine === null) return;
    this.held = null;
    const current = await readHolder(this.path, this.uid).catch(() => null);
    if (current?.kind === 'ok' && current.holder.token === mine.token) {
      await unlink(this.path).catch(() => undefined);
    }
  }

  private async tryOnce(): Promise<Attempt> {
    const holder: MutexHolder = {
      pid: process.pid,
      startedAt: this.now().toISOString(),
      command: this.command,
      token: randomBytes(8).toString('hex'),
    };
    // Written whole to a private file first and linked into place: link() fails if the lock
    // exists, and nobody ever sees a half-written lock.
    const temp = join(dirname(this.path), `.${basename(this.path)}.${holder.token}.tmp`);
    const handle = await open(temp, 'wx', PRIVATE_FILE_MODE);
    try {
      await handle.writeFile(`${JSON.stringify(holder)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, this.path);
      return { kind: 'acquired', holder };
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    return this.inspectExisting();
  }

  private async inspectExisting(): Promise<Attempt> {
    const current = await readHolder(this.path, this.uid);
    if (current.kind === 'absent') return { kind: 'stale-removed', previous: null };
    if (current.kind === 'ok' && this.isAlive(current.holder.pid)) return { kind: 'held', holder: current.holder };
    if (current.kind === 'unreadable' && Date.now() - current.mtimeMs < UNREADABLE_GRACE_MS) {
      return { kind: 'held', holder: null };
    }
    const previous = current.kind === 'ok' ? current.holder : null;
    return (await this.removeStale(current.kind === 'ok' ? current.holder.token : null))
      ? { kind: 'stale-removed', previous }
      : { kind: 'contended', holder: previous };
  }

  /**
   * Two processes may find the same stale lock; a short guard file makes the check-and-remove
   * one step, so neither removes the fresh lock the other has just taken.
   */
  private async removeStale(token: string | null): Promise<boolean> {
    const guard = `${this.path}.takeover`;
    try {
      const handle = await open(guard, 'wx', PRIVATE_FILE_MODE);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
      const text = await readPrivateFile(guard, { uid: this.uid, maxBytes: MAX_LOCK_BYTES, fix: `remove it` });
      const pid = Number(text.trim());
      if (!Number.isInteger(pid) || pid <= 0 || !this.isAlive(pid)) await unlink(guard).catch(() => undefined);
      return false;
    }
    try {
      const again = await readHolder(this.path, this.uid);
      const stillStale =
        again.kind === 'absent' ||
        (again.kind === 'ok' && again.holder.token === token && !this.isAlive(again.holder.pid)) ||
        (again.kind === 'unreadable' && token === null);
      if (stillStale && again.kind !== 'absent') await unlink(this.path);
      return stillStale;
    } finally {
      await unlink(guard).catch(() => undefined);
    }
  }
}

type Attempt =
  | { kind: 'acquired'; holder: MutexHolder }
  | { kind: 'held'; holder: MutexHolder | null }
  | { kind: 'contended'; holder: MutexHolder | null }
  | { kind: 'stale-removed'; previous: MutexHolder | null };

type HolderRead = { kind: 'ok'; holder: MutexHolder } | { kind: 'absent' } | { kind: 'unreadable'; mtimeMs: number };

/** UnsafePathError when the lock is a link, not a regular file, too large or not ours. */
async function readHolder(path: string, uid: number | null): Promise<HolderRead> {
  let text: string;
  let mtimeMs: number;
  try {
    text = await readPrivateFile(path, {
      uid,
      maxBytes: MAX_LOCK_BYTES,
      fix: 'remove it (no pfexpose process can be holding it)',
    });
    mtimeMs = (await lstat(path)).mtimeMs;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { kind: 'absent' };
    throw error;
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null) {
      const { pid, startedAt, command, token } = value as Record<string, unknown>;
      if (typeof pid === 'number' && Number.isInteger(pid) && pid > 0 && typeof token === 'string') {
        return {
          kind: 'ok',
          holder: {
            pid,
            token,
            startedAt: typeof startedAt === 'string' ? startedAt : '?',
            command: typeof command === 'string' ? command : '?',
          },
        };
      }
    }
  } catch {
    /* unreadable below */
  }
  return { kind: 'unreadable', mtimeMs };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
