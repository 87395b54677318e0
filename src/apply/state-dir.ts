// What pfexpose remembers between runs: the last applied ruleset and its manifest digest, a short
// history for `rollback` (each entry saying how it got there: apply, rollback, confirm revert, or
// the anchor as pfexpose first found it), and a pending commit-confirmed record. Every write is
// atomic; a damaged file is reported as such (the operator can delete it) and never crashes the caller.
// The directory is created 0700 and its files 0600; a directory or file that another user could
// have written (group- or world-writable, or owned by someone else) or a symbolic link is refused,
// never followed (see docs/guide/operating.md, "The state directory").
import { mkdir, readdir, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkOwnRuleset, describeForeign } from '../pf/check-own-ruleset.js';
import { sha256 } from '../pf/rule-lines.js';
import {
  checkPrivateDirectory,
  currentUid,
  PRIVATE_FILE_MODE,
  readPrivateFile,
  writeFileAtomic,
  type FileWriter,
} from '../host/atomic-write.js';
import { isErrno, UnsafePathError } from '../diagnostics/file-errors.js';

export const DEFAULT_STATE_DIR = '/var/db/pfexpose';
export const HISTORY_LIMIT = 10;

const CURRENT_FILE = 'current.json';
const CURRENT_RULESET_FILE = 'current.pf';
const PENDING_FILE = 'pending-confirm.json';
const HISTORY_DIR = 'history';
/** A record holds one ruleset: tens of thousands of rules stay well below this. */
const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/**
 * How a history entry came to be: `apply` (the manifests, by hand or by the agent), `rollback`,
 * `confirm-revert` (an unconfirmed `apply --confirm` undone at its deadline) or `initial` (what the
 * anchor held before pfexpose first loaded it, so that the first apply can be rolled back too).
 */
export type HistoryKind = 'apply' | 'rollback' | 'confirm-revert' | 'initial';

/**
 * What a rollback or a confirm revert took out of pf: the agent must not put it back on its own
 * (see src/agent/watch-agent.ts, "hold").
 */
export interface UndoneRuleset {
  /** The manifest digest of the ruleset taken out; '' when pfexpose did not know it. */
  manifestDigest: string;
  /** linesDigest() of the ruleset taken out. */
  linesDigest: string;
}

/** One ruleset as it was applied. */
export interface AppliedRecord {
  anchor: string;
  ruleset: string;
  /** sha256 of the ruleset text, hex; checked on every read. */
  rulesetDigest: string;
  /** The digest of the manifests the ruleset was compiled from (computed by the caller). */
  manifestDigest: string;
  /** ISO 8601. */
  appliedAt: string;
  /** Records written before kinds existed read as 'apply'. */
  kind: HistoryKind;
  /** rollback and confirm-revert: what they undid. */
  undone?: UndoneRuleset;
}

export interface AppliedInput {
  anchor: string;
  ruleset: string;
  manifestDigest: string;
  /** Default: now. */
  appliedAt?: string;
  /** Default: apply. */
  kind?: HistoryKind;
  undone?: UndoneRuleset;
}

/** An `apply --confirm` waiting for `pfexpose confirm`. */
export interface PendingConfirm {
  anchor: string;
  /** ISO 8601: after this, the previous ruleset is put back. */
  deadline: string;
  /** What to restore; null when the anchor held nothing pfexpose knew of (restore = empty). */
  previous: { ruleset: string; manifestDigest: string } | null;
  /** sha256 of the ruleset that awaits confirmation. */
  appliedDigest: string;
  /** The process that applied it (the agent, or the apply command that waits). */
  pid: number;
  /** Also what tells one window's watchdog from another's. */
  createdAt: string;
  /** The manifest digest of the ruleset that awaits confirmation (absent in older records). */
  manifestDigest?: string;
  /**
   * The same window on the system's monotonic clock (process.hrtime, milliseconds since boot),
   * which no wall-clock step moves: when the record was made and when the window closes. Absent in
   * older records. See confirmWindowClosed().
   */
  monotonicCreated?: number;
  monotonicDeadline?: number;
}

/**
 * Whether a commit-confirmed window is over. The wall clock can be stepped (ntpdate, an operator's
 * date(1)); the monotonic clock cannot, but restarts at boot. sameBoot: the caller knows the
 * system did not reboot since the record was made (the watchdog, a process started with the
 * window): the monotonic clock alone decides, so a step neither reverts early nor late. Any other
 * reader (apply, confirm, the agent) cannot know that: the window is over only when both clocks
 * say so (never early; after a reboot, seen as the monotonic clock behind the record's, the wall
 * clock alone decides).
 */
export function confirmWindowClosed(
  pending: PendingConfirm,
  wallNowMs: number,
  monotonicNowMs: number,
  sameBoot = false,
): boolean {
  const wallClosed = Date.parse(pending.deadline) <= wallNowMs;
  const { monotonicCreated, monotonicDeadline } = pending;
  if (monotonicCreated === undefined || monotonicDeadline === undefined || monotonicNowMs < monotonicCreated)
    return wallClosed;
  const monotonicClosed = monotonicDeadline <= monotonicNowMs;
  return sameBoot ? monotonicClosed : monotonicClosed && wallClosed;
}

/** Milliseconds on the system's monotonic clock (CLOCK_MONOTONIC: shared by all processes, steady since boot). */
export function monotonicNowMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

export type StateRead<T> =
  { kind: 'ok'; value: T } | { kind: 'absent' } | { kind: 'corrupt'; path: string; message: string };

export interface HistoryRead {
  /** Newest first; at most HISTORY_LIMIT. sequence: the entry's number (file names sort by it, not by text). */
  entries: (AppliedRecord & { sequence: number })[];
  corrupt: { path: string; message: string }[];
}

/** `--state-dir` wins, then PFEXPOSE_STATE_DIR, then /var/db/pfexpose. */
export function resolveStateDir(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  if (flag !== undefined && flag !== '') return flag;
  const fromEnv = env['PFEXPOSE_STATE_DIR'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_STATE_DIR;
}

export interface StateDirOptions {
  now?: () => Date;
  /** Who must own the directory and its files; default the effective uid (null: not checked). */
  uid?: number | null;
  /** Writes one record whole; tests pass one that fails like a full disk. */
  writeFile?: FileWriter;
}

export class StateDir {
  readonly path: string;
  private readonly now: () => Date;
  private readonly uid: number | null;
  private readonly write: FileWriter;
  private newestCache: { identity: string; record: (AppliedRecord & { sequence: number }) | null } | null = null;

  constructor(path: string, options: StateDirOptions = {}) {
    this.path = path;
    this.now = options.now ?? (() => new Date());
    this.uid = options.uid === undefined ? currentUid() : options.uid;
    this.write = options.writeFile ?? ((file, data) => writeFileAtomic(file, data, PRIVATE_FILE_MODE));
  }

  /** The lock file's place, for StateDirMutex (the state-dir mutex; the file is still named "lock"). */
  get mutexPath(): string {
    return join(this.path, 'lock');
  }

  /** The user that must own the directory and its files (null: not checked), for StateDirMutex. */
  get ownerUid(): number | null {
    return this.uid;
  }

  /**
   * Creates the directory (0700; its parent must exist) and history/ when missing, and checks both:
   * throws UnsafePathError (a symbolic link, not a directory, group- or world-writable, owned by
   * another user) with a message that says what to do. Returns true when this call created the
   * directory itself (see removeIfEmpty).
   */
  async ensure(): Promise<boolean> {
    let created = false;
    try {
      await mkdir(this.path, { mode: 0o700 });
      created = true;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) {
        throw new UnsafePathError(
          this.path,
          `cannot create the state directory ${this.path}: its parent ${dirname(this.path)} does not exist (create it, or point --state-dir elsewhere)`,
        );
      }
      if (!isErrno(error, 'EEXIST')) throw error;
    }
    await this.checkDirectory();
    try {
      await mkdir(join(this.path, HISTORY_DIR), { mode: 0o700 });
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
    }
    await this.checkHistoryDirectory();
    return created;
  }

  /**
   * Takes back a directory ensure() created for a command that then wrote nothing (it was
   * refused): history/ and the directory itself are removed only while empty (rmdir), so nothing
   * another process wrote meanwhile is ever lost. Best effort: whatever cannot be removed stays.
   */
  async removeIfEmpty(): Promise<void> {
    await rmdir(join(this.path, HISTORY_DIR)).catch(() => undefined);
    await rmdir(this.path).catch(() => undefined);
  }

  /** UnsafePathError unless the directory is safe to use; 'absent' when it does not exist yet. */
  async checkDirectory(): Promise<'absent' | 'ok'> {
    return checkPrivateDirectory(
      this.path,
      this.uid,
      `make it a directory of its own (chown it to the user running pfexpose, chmod 700 ${this.path}) or point --state-dir elsewhere`,
    );
  }

  private async checkHistoryDirectory(): Promise<'absent' | 'ok'> {
    const path = join(this.path, HISTORY_DIR);
    return checkPrivateDirectory(
      path,
      this.uid,
      `remove ${path} (pfexpose creates it again, empty) or make it a private directory`,
    );
  }

  async readCurrent(): Promise<StateRead<AppliedRecord>> {
    return this.readRecord(join(this.path, CURRENT_FILE), toAppliedRecord);
  }

  /**
   * Records a successful apply: a new history entry (trimmed to HISTORY_LIMIT), then current.json,
   * then current.pf, a plain copy the operator can feed to pfctl by hand.
   */
  async recordApplied(input: AppliedInput): Promise<AppliedRecord> {
    await this.ensure();
    const record: AppliedRecord = {
      anchor: input.anchor,
      ruleset: input.ruleset,
      rulesetDigest: sha256(input.ruleset),
      manifestDigest: input.manifestDigest,
      appliedAt: input.appliedAt ?? this.now().toISOString(),
      kind: input.kind ?? 'apply',
      ...(input.undone === undefined ? {} : { undone: input.undone }),
    };
    const sequences = await this.historySequences();
    const next = (sequences[sequences.length - 1]?.value ?? 0n) + 1n;
    await this.write(join(this.path, HISTORY_DIR, historyName(next)), `${JSON.stringify(record, null, 2)}\n`);
    for (const old of sequences.slice(0, Math.max(0, sequences.length + 1 - HISTORY_LIMIT))) {
      await unlink(join(this.path, HISTORY_DIR, old.name)).catch(() => undefined);
    }
    await this.write(join(this.path, CURRENT_FILE), `${JSON.stringify(record, null, 2)}\n`);
    await this.write(join(this.path, CURRENT_RULESET_FILE), input.ruleset);
    return record;
  }

  async readHistory(): Promise<HistoryRead> {
    const sequences = await this.historySequences();
    const entries: HistoryRead['entries'] = [];
    const corrupt: HistoryRead['corrupt'] = [];
    for (const { name, value } of [...sequences].reverse()) {
      const path = join(this.path, HISTORY_DIR, name);
      const read = await this.readRecord(path, toAppliedRecord);
      if (read.kind === 'ok') entries.push({ ...read.value, sequence: Number(value) });
      else if (read.kind === 'corrupt') corrupt.push({ path: read.path, message: read.message });
    }
    return { entries, corrupt };
  }

  /**
   * The newest readable history entry for the anchor (reads only as many entries as it must: the
   * agent asks on every cycle). Damaged entries are skipped.
   */
  async readNewest(anchor: string): Promise<(AppliedRecord & { sequence: number }) | null> {
    const sequences = await this.historySequences();
    for (const { name, value } of [...sequences].reverse()) {
      const path = join(this.path, HISTORY_DIR, name);
      const sequence = Number(value);
      // An entry is written once and never changed: a file that looks the same is the same.
      const info = await stat(path).catch(() => null);
      if (info === null) continue;
      const identity = `${path}:${info.size}:${info.mtimeMs}:${info.ino}`;
      const known = this.newestCache?.identity === identity ? this.newestCache.record : undefined;
      const record =
        known !== undefined
          ? known
          : await this.readRecord(path, toAppliedRecord).then((read) =>
              read.kind === 'ok' ? { ...read.value, sequence } : null,
            );
      this.newestCache = { identity, record };
      if (record !== null && record.anchor === anchor) return record;
    }
    return null;
  }

  /**
   * readCurrent() and readNewest() for whoever may load what they hold (the agent guards the
   * recorded ruleset, and holds a rollback's): the record only when its ruleset is pfexpose's own
   * for the anchor (see checkOwnRuleset), else null, as if there were none: a planted record is
   * never loaded, and the manifests stay in charge.
   */
  async readLoadableCurrent(anchor: string): Promise<AppliedRecord | null> {
    const read = await this.readCurrent();
    return read.kind === 'ok' && read.value.anchor === anchor && this.isOwn(read.value) ? read.value : null;
  }

  async readLoadableNewest(anchor: string): Promise<(AppliedRecord & { sequence: number }) | null> {
    const newest = await this.readNewest(anchor);
    return newest !== null && this.isOwn(newest) ? newest : null;
  }

  private ownChecked: { digest: string; ok: boolean } | null = null;

  private isOwn(record: AppliedRecord): boolean {
    const key = `${record.anchor}\u0000${record.rulesetDigest}`;
    if (this.ownChecked?.digest !== key)
      this.ownChecked = { digest: key, ok: checkOwnRuleset(record.ruleset, record.anchor).ok };
    return this.ownChecked.ok;
  }

  /**
   * Identifies the current record and the newest history entry as they are on disk (name, inode,
   * size, modification time). Every record is a new history entry and every write replaces a file
   * by rename, so any apply, rollback or revert by any pfexpose process changes it. Costs a
   * directory listing and two stats: the agent asks before each load whether someone else loaded
   * the anchor since it last read it.
   */
  async mark(): Promise<string> {
    const sequences = await this.historySequences();
    const newest = sequences[sequences.length - 1];
    const paths = [
      join(this.path, CURRENT_FILE),
      ...(newest === undefined ? [] : [join(this.path, HISTORY_DIR, newest.name)]),
    ];
    const parts = await Promise.all(
      paths.map(async (path) => {
        const info = await stat(path).catch(() => null);
        return info === null ? `${path}:absent` : `${path}:${info.ino}:${info.size}:${info.mtimeMs}`;
      }),
    );
    return newest === undefined ? [...parts, 'no history'].join('|') : parts.join('|');
  }

  async readPendingConfirm(): Promise<StateRead<PendingConfirm>> {
    return this.readRecord(join(this.path, PENDING_FILE), toPendingConfirm);
  }

  async writePendingConfirm(pending: PendingConfirm): Promise<void> {
    await this.ensure();
    await this.write(join(this.path, PENDING_FILE), `${JSON.stringify(pending, null, 2)}\n`);
  }

  /** Removes the pending record (confirmed, or reverted); absent is fine. */
  async clearPendingConfirm(): Promise<void> {
    await unlink(join(this.path, PENDING_FILE)).catch((error: unknown) => {
      if (!isErrno(error, 'ENOENT')) throw error;
    });
  }

  /**
   * The history's entries, oldest first, by number: names are ten digits, zero-padded, and longer
   * past 9999999999, so a numeric order (not the names' text order) keeps the newest last forever.
   * A symbolic link in place of history/ is refused (UnsafePathError), never listed.
   */
  private async historySequences(): Promise<{ name: string; value: bigint }[]> {
    if ((await this.checkDirectory()) === 'absent') return [];
    if ((await this.checkHistoryDirectory()) === 'absent') return [];
    const names = await readdir(join(this.path, HISTORY_DIR));
    return names
      .map((name) => ({ name, digits: /^(\d{10,})\.json$/.exec(name)?.[1] }))
      .filter((entry): entry is { name: string; digits: string } => entry.digits !== undefined)
      .map(({ name, digits }) => ({ name, value: BigInt(digits) }))
      .sort((a, b) =>
        a.value < b.value ? -1 : a.value > b.value ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
      );
  }

  /**
   * One record, checked: the directory, then the file (no link, a regular file of ours), then its
   * JSON and fields. Anything wrong is 'corrupt' with a message saying what to do.
   */
  private async readRecord<T>(path: string, check: (value: unknown) => T | string): Promise<StateRead<T>> {
    let text: string;
    try {
      if ((await this.checkDirectory()) === 'absent') return { kind: 'absent' };
      text = await readPrivateFile(path, {
        uid: this.uid,
        maxBytes: MAX_RECORD_BYTES,
        fix: `remove it and apply again`,
      });
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return { kind: 'absent' };
      if (error instanceof UnsafePathError) return { kind: 'corrupt', path, message: error.message };
      return {
        kind: 'corrupt',
        path,
        message: `${path} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    return parseRecord(path, text, check);
  }
}

/** A history entry's file name: at least ten digits. */
export function historyName(sequence: bigint | number): string {
  return `${String(sequence).padStart(10, '0')}.json`;
}

function parseRecord<T>(path: string, text: string, check: (value: unknown) => T | string): StateRead<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'corrupt', path, message: `${path} is not valid JSON; remove it and apply again` };
  }
  const checked = check(value);
  if (typeof checked === 'string')
    return { kind: 'corrupt', path, message: `${path}: ${checked}; remove it and apply again` };
  return { kind: 'ok', value: checked };
}

const HISTORY_KINDS: readonly HistoryKind[] = ['apply', 'rollback', 'confirm-revert', 'initial'];

function toAppliedRecord(value: unknown): AppliedRecord | string {
  if (!isObject(value)) return 'not a JSON object';
  const { anchor, ruleset, rulesetDigest, manifestDigest, appliedAt, kind, undone } = value;
  if (typeof anchor !== 'string' || typeof ruleset !== 'string' || typeof rulesetDigest !== 'string') {
    return 'anchor, ruleset or rulesetDigest is missing';
  }
  if (typeof manifestDigest !== 'string' || typeof appliedAt !== 'string')
    return 'manifestDigest or appliedAt is missing';
  if (sha256(ruleset) !== rulesetDigest)
    return 'the ruleset does not match its digest (the file was damaged or edited)';
  if (kind !== undefined && !HISTORY_KINDS.includes(kind as HistoryKind))
    return `kind must be one of ${HISTORY_KINDS.join(', ')}`;
  const record: AppliedRecord = {
    anchor,
    ruleset,
    rulesetDigest,
    manifestDigest,
    appliedAt,
    kind: (kind as HistoryKind | undefined) ?? 'apply',
  };
  if (undone === undefined) return record;
  if (!isObject(undone) || typeof undone['manifestDigest'] !== 'string' || typeof undone['linesDigest'] !== 'string') {
    return 'undone must hold manifestDigest and linesDigest';
  }
  return { ...record, undone: { manifestDigest: undone['manifestDigest'], linesDigest: undone['linesDigest'] } };
}

function toPendingConfirm(value: unknown): PendingConfirm | string {
  if (!isObject(value)) return 'not a JSON object';
  const { anchor, deadline, previous, appliedDigest, pid, createdAt, manifestDigest } = value;
  if (typeof anchor !== 'string' || typeof deadline !== 'string' || Number.isNaN(Date.parse(deadline))) {
    return 'anchor or deadline is missing or invalid';
  }
  if (typeof appliedDigest !== 'string' || typeof pid !== 'number' || typeof createdAt !== 'string') {
    return 'appliedDigest, pid or createdAt is missing';
  }
  if (manifestDigest !== undefined && typeof manifestDigest !== 'string') return 'manifestDigest must be a string';
  const { monotonicCreated, monotonicDeadline } = value;
  const monotonic =
    monotonicCreated === undefined && monotonicDeadline === undefined
      ? {}
      : Number.isFinite(monotonicCreated) &&
          Number.isFinite(monotonicDeadline) &&
          (monotonicCreated as number) <= (monotonicDeadline as number)
        ? { monotonicCreated: monotonicCreated as number, monotonicDeadline: monotonicDeadline as number }
        : null;
  if (monotonic === null)
    return 'monotonicCreated and monotonicDeadline must be numbers, the first not after the second';
  const digest = { ...(manifestDigest === undefined ? {} : { manifestDigest }), ...monotonic };
  // What a revert would load must be pfexpose's own rules for that anchor (an empty previous: the
  // empty ruleset), checked here so that no reader (apply, confirm, rollback, the agent, the
  // watchdog) ever acts on a record that would load anything else.
  const restore =
    previous === null ? '' : isObject(previous) && typeof previous['ruleset'] === 'string' ? previous['ruleset'] : null;
  if (restore !== null) {
    const own = checkOwnRuleset(restore, anchor);
    if (!own.ok)
      return `the ruleset it would put back is not pfexpose's own for anchor "${anchor}" (${describeForeign(own.foreign)}); nothing was loaded from it`;
  }
  if (previous === null) return { anchor, deadline, previous: null, appliedDigest, pid, createdAt, ...digest };
  if (
    !isObject(previous) ||
    typeof previous['ruleset'] !== 'string' ||
    typeof previous['manifestDigest'] !== 'string'
  ) {
    return 'previous must be null or hold ruleset and manifestDigest';
  }
  return {
    anchor,
    deadline,
    previous: { ruleset: previous['ruleset'], manifestDigest: previous['manifestDigest'] },
    appliedDigest,
    pid,
    createdAt,
    ...digest,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
