// What pfexpose remembers between runs: the last applied ruleset and its manifest digest, a short
// history for `rollback` (each entry saying how it got there: apply, rollback, confirm revert, or
// the anchor as pfexpose first found it), and a pending commit-confirmed record. Every write is
// atomic; a damaged file is reported as such (the operator can delete it) and never crashes the caller.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';

export const DEFAULT_STATE_DIR = '/var/db/pfexpose';
export const HISTORY_LIMIT = 10;

const CURRENT_FILE = 'current.json';
const CURRENT_RULESET_FILE = 'current.pf';
const PENDING_FILE = 'pending-confirm.json';
const HISTORY_DIR = 'history';

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
}

export type StateRead<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'absent' }
  | { kind: 'corrupt'; path: string; message: string };

export interface HistoryRead {
  /** Newest first; at most HISTORY_LIMIT. */
  entries: (AppliedRecord & { sequence: number })[];
  corrupt: { path: string; message: string }[];
}

/** `--state-dir` wins, then PFEXPOSE_STATE_DIR, then /var/db/pfexpose. */
export function resolveStateDir(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  if (flag !== undefined && flag !== '') return flag;
  const fromEnv = env['PFEXPOSE_STATE_DIR'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_STATE_DIR;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * A digest of a ruleset's rules, not of its text: the compiled text (header comments and all) and
 * pfctl's printed form of the same rules agree. Takes normalizedLines() of the ruleset.
 */
export function linesDigest(lines: readonly string[]): string {
  return sha256(lines.join('\n'));
}

export class StateDir {
  readonly path: string;
  private readonly now: () => Date;
  private newestCache: { identity: string; record: (AppliedRecord & { sequence: number }) | null } | null = null;

  constructor(path: string, options: { now?: () => Date } = {}) {
    this.path = path;
    this.now = options.now ?? (() => new Date());
  }

  /** The lock file's place, for ExclusiveLock. */
  get lockPath(): string {
    return join(this.path, 'lock');
  }

  /** Creates the directory (and history/) when missing. */
  async ensure(): Promise<void> {
    await mkdir(join(this.path, HISTORY_DIR), { recursive: true, mode: 0o755 });
  }

  async readCurrent(): Promise<StateRead<AppliedRecord>> {
    return readRecord(join(this.path, CURRENT_FILE), toAppliedRecord);
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
    const next = (sequences[sequences.length - 1] ?? 0) + 1;
    await writeFileAtomic(join(this.path, HISTORY_DIR, historyName(next)), `${JSON.stringify(record, null, 2)}\n`);
    for (const old of sequences.slice(0, Math.max(0, sequences.length + 1 - HISTORY_LIMIT))) {
      await unlink(join(this.path, HISTORY_DIR, historyName(old))).catch(() => undefined);
    }
    await writeFileAtomic(join(this.path, CURRENT_FILE), `${JSON.stringify(record, null, 2)}\n`);
    await writeFileAtomic(join(this.path, CURRENT_RULESET_FILE), input.ruleset);
    return record;
  }

  async readHistory(): Promise<HistoryRead> {
    const sequences = await this.historySequences();
    const entries: HistoryRead['entries'] = [];
    const corrupt: HistoryRead['corrupt'] = [];
    for (const sequence of [...sequences].reverse()) {
      const path = join(this.path, HISTORY_DIR, historyName(sequence));
      const read = await readRecord(path, toAppliedRecord);
      if (read.kind === 'ok') entries.push({ ...read.value, sequence });
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
    for (const sequence of [...sequences].reverse()) {
      const path = join(this.path, HISTORY_DIR, historyName(sequence));
      // An entry is written once and never changed: a file that looks the same is the same.
      const info = await stat(path).catch(() => null);
      if (info === null) continue;
      const identity = `${path}:${info.size}:${info.mtimeMs}:${info.ino}`;
      const known = this.newestCache?.identity === identity ? this.newestCache.record : undefined;
      const record = known !== undefined ? known : await readRecord(path, toAppliedRecord).then((read) => (read.kind === 'ok' ? { ...read.value, sequence } : null));
      this.newestCache = { identity, record };
      if (record !== null && record.anchor === anchor) return record;
    }
    return null;
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
    const paths = [join(this.path, CURRENT_FILE), ...(newest === undefined ? [] : [join(this.path, HISTORY_DIR, historyName(newest))])];
    const parts = await Promise.all(
      paths.map(async (path) => {
        const info = await stat(path).catch(() => null);
        return info === null ? `${path}:absent` : `${path}:${info.ino}:${info.size}:${info.mtimeMs}`;
      }),
    );
    return newest === undefined ? [...parts, 'no history'].join('|') : parts.join('|');
  }

  async readPendingConfirm(): Promise<StateRead<PendingConfirm>> {
    return readRecord(join(this.path, PENDING_FILE), toPendingConfirm);
  }

  async writePendingConfirm(pending: PendingConfirm): Promise<void> {
    await this.ensure();
    await writeFileAtomic(join(this.path, PENDING_FILE), `${JSON.stringify(pending, null, 2)}\n`);
  }

  /** Removes the pending record (confirmed, or reverted); absent is fine. */
  async clearPendingConfirm(): Promise<void> {
    await unlink(join(this.path, PENDING_FILE)).catch((error: unknown) => {
      if (!isErrno(error, 'ENOENT')) throw error;
    });
  }

  private async historySequences(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(join(this.path, HISTORY_DIR));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw error;
    }
    return names
      .map((name) => /^(\d{10})\.json$/.exec(name)?.[1])
      .filter((digits): digits is string => digits !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }
}

function historyName(sequence: number): string {
  return `${String(sequence).padStart(10, '0')}.json`;
}

async function readRecord<T>(path: string, check: (value: unknown) => T | string): Promise<StateRead<T>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { kind: 'absent' };
    return { kind: 'corrupt', path, message: `${path} cannot be read: ${error instanceof Error ? error.message : String(error)}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'corrupt', path, message: `${path} is not valid JSON; remove it and apply again` };
  }
  const checked = check(value);
  if (typeof checked === 'string') return { kind: 'corrupt', path, message: `${path}: ${checked}; remove it and apply again` };
  return { kind: 'ok', value: checked };
}

const HISTORY_KINDS: readonly HistoryKind[] = ['apply', 'rollback', 'confirm-revert', 'initial'];

function toAppliedRecord(value: unknown): AppliedRecord | string {
  if (!isObject(value)) return 'not a JSON object';
  const { anchor, ruleset, rulesetDigest, manifestDigest, appliedAt, kind, undone } = value;
  if (typeof anchor !== 'string' || typeof ruleset !== 'string' || typeof rulesetDigest !== 'string') {
    return 'anchor, ruleset or rulesetDigest is missing';
  }
  if (typeof manifestDigest !== 'string' || typeof appliedAt !== 'string') return 'manifestDigest or appliedAt is missing';
  if (sha256(ruleset) !== rulesetDigest) return 'the ruleset does not match its digest (the file was damaged or edited)';
  if (kind !== undefined && !HISTORY_KINDS.includes(kind as HistoryKind)) return `kind must be one of ${HISTORY_KINDS.join(', ')}`;
  const record: AppliedRecord = { anchor, ruleset, rulesetDigest, manifestDigest, appliedAt, kind: (kind as HistoryKind | undefined) ?? 'apply' };
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
  const digest = manifestDigest === undefined ? {} : { manifestDigest };
  if (previous === null) return { anchor, deadline, previous: null, appliedDigest, pid, createdAt, ...digest };
  if (!isObject(previous) || typeof previous['ruleset'] !== 'string' || typeof previous['manifestDigest'] !== 'string') {
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

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}
