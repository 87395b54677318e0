import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  confirmWindowClosed,
  HISTORY_LIMIT,
  historyName,
  StateDir,
  type PendingConfirm,
} from '../../src/apply/state-dir.js';
import { UnsafePathError } from '../../src/diagnostics/file-errors.js';
import { linesDigest, sha256 } from '../../src/pf/rule-lines.js';

const execFileAsync = promisify(execFile);

const OWN_RULE = 'rdr inet proto tcp from any to (self) port = 8080 tag pfexpose -> 10.0.0.2 port 80\n';

let root: string;
let state: StateDir;
let clock: number;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pfexpose-state-'));
  clock = Date.UTC(2026, 0, 1);
  state = new StateDir(join(root, 'state'), { now: () => new Date((clock += 1000)) });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('StateDir', () => {
  it('starts empty', async () => {
    expect(await state.readCurrent()).toEqual({ kind: 'absent' });
    expect(await state.readHistory()).toEqual({ entries: [], corrupt: [] });
    expect(await state.readPendingConfirm()).toEqual({ kind: 'absent' });
  });

  it('records an apply: current, a plain copy of the ruleset, and history', async () => {
    const record = await state.recordApplied({ anchor: 'pfexpose', ruleset: 'pass in all\n', manifestDigest: 'm1' });
    expect(record).toEqual({
      anchor: 'pfexpose',
      ruleset: 'pass in all\n',
      rulesetDigest: sha256('pass in all\n'),
      manifestDigest: 'm1',
      appliedAt: '2026-01-01T00:00:01.000Z',
      kind: 'apply',
    });
    expect(await state.readCurrent()).toEqual({ kind: 'ok', value: record });
    expect(await readFile(join(state.path, 'current.pf'), 'utf8')).toBe('pass in all\n');
    expect((await state.readHistory()).entries).toEqual([{ ...record, sequence: 1 }]);
  });

  it(`keeps the last ${HISTORY_LIMIT} rulesets, newest first`, async () => {
    for (let i = 1; i <= 13; i += 1) {
      await state.recordApplied({ anchor: 'pfexpose', ruleset: `# ${i}\n`, manifestDigest: `m${i}` });
    }
    const history = await state.readHistory();
    expect(history.entries.map((entry) => entry.manifestDigest)).toEqual([
      'm13',
      'm12',
      'm11',
      'm10',
      'm9',
      'm8',
      'm7',
      'm6',
      'm5',
      'm4',
    ]);
    expect(history.entries[0]?.sequence).toBe(13);
    expect(await readdir(join(state.path, 'history'))).toHaveLength(HISTORY_LIMIT);
    expect(history.corrupt).toEqual([]);
  });

  it('records how an entry came to be, and reads entries written before kinds existed as applies', async () => {
    await state.recordApplied({ anchor: 'pfexpose', ruleset: '', manifestDigest: '', kind: 'initial' });
    await state.recordApplied({ anchor: 'pfexpose', ruleset: 'a\n', manifestDigest: 'm1' });
    const undone = { manifestDigest: 'm1', linesDigest: linesDigest(['a']) };
    await state.recordApplied({ anchor: 'pfexpose', ruleset: '', manifestDigest: '', kind: 'rollback', undone });
    const old = {
      anchor: 'pfexpose',
      ruleset: 'b\n',
      rulesetDigest: sha256('b\n'),
      manifestDigest: 'm0',
      appliedAt: '2025-01-01T00:00:00.000Z',
    };
    await writeFile(join(state.path, 'history', '0000000004.json'), JSON.stringify(old));
    const history = await state.readHistory();
    expect(history.entries.map((entry) => entry.kind)).toEqual(['apply', 'rollback', 'apply', 'initial']);
    expect(history.entries[1]?.undone).toEqual(undone);
    expect(history.entries[2]?.undone).toBeUndefined();
  });

  it('reads the newest entry of one anchor, skipping damaged entries and other anchors', async () => {
    expect(await state.readNewest('pfexpose')).toBeNull();
    await state.recordApplied({ anchor: 'pfexpose', ruleset: 'a\n', manifestDigest: 'm1' });
    await state.recordApplied({
      anchor: 'pfexpose',
      ruleset: 'b\n',
      manifestDigest: 'm2',
      kind: 'rollback',
      undone: { manifestDigest: 'm1', linesDigest: 'x' },
    });
    expect(await state.readNewest('pfexpose')).toMatchObject({ sequence: 2, kind: 'rollback', manifestDigest: 'm2' });
    await state.recordApplied({ anchor: 'other', ruleset: 'c\n', manifestDigest: 'm3' });
    await state.recordApplied({ anchor: 'pfexpose', ruleset: 'd\n', manifestDigest: 'm4' });
    await writeFile(join(state.path, 'history', '0000000004.json'), 'garbage');
    expect(await state.readNewest('pfexpose')).toMatchObject({ sequence: 2, manifestDigest: 'm2' });
    expect(await state.readNewest('other')).toMatchObject({ sequence: 3 });
    // Another writer (the CLI, while the agent asks) adds an entry: seen at once.
    await new StateDir(state.path).recordApplied({ anchor: 'pfexpose', ruleset: 'e\n', manifestDigest: 'm5' });
    expect(await state.readNewest('pfexpose')).toMatchObject({ sequence: 5, manifestDigest: 'm5' });
  });

  it('reports an entry with an unknown kind as corrupt', async () => {
    await state.ensure();
    const bad = {
      anchor: 'a',
      ruleset: 'x',
      rulesetDigest: sha256('x'),
      manifestDigest: 'm',
      appliedAt: 't',
      kind: 'teleport',
    };
    await writeFile(join(state.path, 'history', '0000000001.json'), JSON.stringify(bad));
    expect((await state.readHistory()).corrupt).toHaveLength(1);
  });

  it('leaves no temporary files behind', async () => {
    await state.recordApplied({ anchor: 'pfexpose', ruleset: 'x\n', manifestDigest: 'm' });
    const names = [...(await readdir(state.path)), ...(await readdir(join(state.path, 'history')))];
    expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it.each([
    ['not JSON', '{"anchor":'],
    ['wrong shape', '[1,2]'],
    [
      'a ruleset that does not match its digest',
      JSON.stringify({
        anchor: 'a',
        ruleset: 'edited',
        rulesetDigest: sha256('orig'),
        manifestDigest: 'm',
        appliedAt: 'x',
      }),
    ],
  ])('reports a corrupt current.json (%s) instead of throwing', async (_name, text) => {
    await state.ensure();
    await writeFile(join(state.path, 'current.json'), text);
    const read = await state.readCurrent();
    expect(read.kind).toBe('corrupt');
    expect(read.kind === 'corrupt' && read.path).toBe(join(state.path, 'current.json'));
  });

  it('reports a corrupt history entry and still returns the others', async () => {
    await state.recordApplied({ anchor: 'pfexpose', ruleset: 'a\n', manifestDigest: 'm1' });
    await state.recordApplied({ anchor: 'pfexpose', ruleset: 'b\n', manifestDigest: 'm2' });
    await writeFile(join(state.path, 'history', '0000000001.json'), 'garbage');
    const history = await state.readHistory();
    expect(history.entries.map((entry) => entry.manifestDigest)).toEqual(['m2']);
    expect(history.corrupt.map((entry) => entry.path)).toEqual([join(state.path, 'history', '0000000001.json')]);
  });

  it('writes, reads and clears a pending commit-confirmed record', async () => {
    const pending: PendingConfirm = {
      anchor: 'pfexpose',
      deadline: '2026-01-01T00:01:00.000Z',
      previous: { ruleset: OWN_RULE, manifestDigest: 'm0' },
      appliedDigest: sha256('new\n'),
      pid: 4242,
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    await state.writePendingConfirm(pending);
    expect(await state.readPendingConfirm()).toEqual({ kind: 'ok', value: pending });
    await state.writePendingConfirm({ ...pending, previous: null });
    expect(await state.readPendingConfirm()).toEqual({ kind: 'ok', value: { ...pending, previous: null } });
    await state.writePendingConfirm({ ...pending, manifestDigest: 'm1' });
    expect(await state.readPendingConfirm()).toEqual({ kind: 'ok', value: { ...pending, manifestDigest: 'm1' } });
    await state.clearPendingConfirm();
    await state.clearPendingConfirm();
    expect(await state.readPendingConfirm()).toEqual({ kind: 'absent' });
  });

  it('has a mark that every record changes, and nothing else', async () => {
    const empty = await state.mark();
    expect(await state.mark()).toBe(empty);
    await state.recordApplied({ anchor: 'pfexpose', ruleset: 'pass in all\n', manifestDigest: 'm1' });
    const first = await state.mark();
    expect(first).not.toBe(empty);
    // Reading and a pending record leave it alone.
    await state.readCurrent();
    await state.readNewest('pfexpose');
    await state.writePendingConfirm({
      anchor: 'pfexpose',
      deadline: '2026-01-01T00:01:00.000Z',
      previous: null,
      appliedDigest: '',
      pid: 1,
      createdAt: 'x',
    });
    expect(await state.mark()).toBe(first);
    // The same ruleset recorded again (another process's apply of the same rules) is a change too.
    await state.recordApplied({ anchor: 'pfexpose', ruleset: 'pass in all\n', manifestDigest: 'm1' });
    expect(await state.mark()).not.toBe(first);
  });

  it('reports a pending record with an invalid deadline as corrupt', async () => {
    await state.ensure();
    await writeFile(join(state.path, 'pending-confirm.json'), JSON.stringify({ anchor: 'a', deadline: 'soon' }));
    expect((await state.readPendingConfirm()).kind).toBe('corrupt');
  });
});

describe('the state directory is not trusted blindly (issue 9, M2)', () => {
  it('is created 0700 with history/ 0700 and every file 0600', async () => {
    await state.recordApplied({ anchor: 'pfexpose', ruleset: OWN_RULE, manifestDigest: 'm1' });
    await state.writePendingConfirm({
      anchor: 'pfexpose',
      deadline: '2030-01-01T00:00:00.000Z',
      previous: null,
      appliedDigest: 'x',
      pid: 1,
      createdAt: 'x',
    });
    const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;
    expect(await mode(state.path)).toBe(0o700);
    expect(await mode(join(state.path, 'history'))).toBe(0o700);
    for (const name of ['current.json', 'current.pf', 'pending-confirm.json', join('history', historyName(1))]) {
      expect([name, await mode(join(state.path, name))]).toEqual([name, 0o600]);
    }
  });

  it('creates no parent directories: a missing parent is refused', async () => {
    const nested = new StateDir(join(root, 'missing', 'state'));
    await expect(nested.ensure()).rejects.toThrow(/its parent .* does not exist/);
    await expect(stat(join(root, 'missing'))).rejects.toThrow(/ENOENT/);
  });

  it.each([0o777, 0o770, 0o702])('refuses a directory of mode %o, and reads nothing from it', async (bad) => {
    await state.recordApplied({ anchor: 'pfexpose', ruleset: OWN_RULE, manifestDigest: 'm1' });
    await chmod(state.path, bad);
    await expect(state.ensure()).rejects.toThrow(UnsafePathError);
    await expect(state.ensure()).rejects.toThrow(/writable by group or others/);
    expect((await state.readCurrent()).kind).toBe('corrupt');
    await expect(state.readHistory()).rejects.toThrow(UnsafePathError);
  });

  it("refuses a directory or a record owned by another user (as root or not: the uid is the test's)", async () => {
    await state.recordApplied({ anchor: 'pfexpose', ruleset: OWN_RULE, manifestDigest: 'm1' });
    const other = new StateDir(state.path, { uid: (process.geteuid?.() ?? 0) + 4242 });
    await expect(other.ensure()).rejects.toThrow(/is owned by uid/);
    const read = await other.readCurrent();
    expect(read.kind === 'corrupt' && read.message).toMatch(/is owned by uid/);
  });

  it('refuses a group-writable record', async () => {
    await state.recordApplied({ anchor: 'pfexpose', ruleset: OWN_RULE, manifestDigest: 'm1' });
    await chmod(join(state.path, 'current.json'), 0o666);
    const read = await state.readCurrent();
    expect(read.kind === 'corrupt' && read.message).toContain('writable by group or others');
  });

  it('refuses a state directory that is a symbolic link', async () => {
    const real = join(root, 'real');
    await mkdir(real, { mode: 0o700 });
    await symlink(real, state.path);
    await expect(state.ensure()).rejects.toThrow(/is a symbolic link/);
  });

  it('refuses history/ as a symbolic link and writes nothing through it', async () => {
    const elsewhere = join(root, 'elsewhere');
    await mkdir(elsewhere, { mode: 0o700 });
    await mkdir(state.path, { mode: 0o700 });
    await symlink(elsewhere, join(state.path, 'history'));
    await expect(state.ensure()).rejects.toThrow(/history is a symbolic link/);
    await expect(state.recordApplied({ anchor: 'pfexpose', ruleset: OWN_RULE, manifestDigest: 'm1' })).rejects.toThrow(
      UnsafePathError,
    );
    await expect(state.readHistory()).rejects.toThrow(UnsafePathError);
    expect(await state.readNewest('pfexpose').catch(() => 'refused')).toBe('refused');
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it('follows no link to a record, and reads no FIFO', async () => {
    await state.ensure();
    const outside = join(root, 'outside.json');
    const record = {
      anchor: 'pfexpose',
      ruleset: OWN_RULE,
      rulesetDigest: sha256(OWN_RULE),
      manifestDigest: 'm',
      appliedAt: 'x',
    };
    await writeFile(outside, JSON.stringify(record));
    await symlink(outside, join(state.path, 'current.json'));
    await symlink(outside, join(state.path, 'history', historyName(1)));
    const current = await state.readCurrent();
    expect(current.kind === 'corrupt' && current.message).toContain('is a symbolic link');
    expect((await state.readHistory()).corrupt).toHaveLength(1);
    await execFileAsync('mkfifo', [join(state.path, 'pending-confirm.json')]);
    const pending = await state.readPendingConfirm();
    expect(pending.kind === 'corrupt' && pending.message).toContain('is not a regular file');
    // Writing replaces the link itself; the file it pointed to is untouched.
    await state.recordApplied({ anchor: 'pfexpose', ruleset: OWN_RULE, manifestDigest: 'm2' });
    expect(JSON.parse(await readFile(outside, 'utf8'))).toEqual(record);
  });

  it("refuses a pending record whose previous ruleset is not pfexpose's own", async () => {
    await state.ensure();
    const pending = {
      anchor: 'pfexpose',
      deadline: '2030-01-01T00:00:00.000Z',
      previous: { ruleset: 'pass in quick all\n', manifestDigest: '' },
      appliedDigest: 'x',
      pid: 1,
      createdAt: 'x',
    };
    await writeFile(join(state.path, 'pending-confirm.json'), JSON.stringify(pending), { mode: 0o600 });
    const read = await state.readPendingConfirm();
    expect(read.kind).toBe('corrupt');
    expect(read.kind === 'corrupt' && read.message).toContain('line 1 "pass in quick all"');
    expect(read.kind === 'corrupt' && read.message).toContain('remove it');
  });
});

describe('history ids (issue 9)', () => {
  it('sort by number past 9999999999: the newest entry is never hidden', async () => {
    await state.ensure();
    const entry = (digest: string) => ({
      anchor: 'pfexpose',
      ruleset: OWN_RULE,
      rulesetDigest: sha256(OWN_RULE),
      manifestDigest: digest,
      appliedAt: 'x',
    });
    await writeFile(join(state.path, 'history', '9999999998.json'), JSON.stringify(entry('m-old')), { mode: 0o600 });
    await writeFile(join(state.path, 'history', '9999999999.json'), JSON.stringify(entry('m-last-ten-digit')), {
      mode: 0o600,
    });
    await state.recordApplied({ anchor: 'pfexpose', ruleset: OWN_RULE, manifestDigest: 'm-eleven' });
    await state.recordApplied({ anchor: 'pfexpose', ruleset: OWN_RULE, manifestDigest: 'm-eleven-2' });
    expect((await readdir(join(state.path, 'history'))).sort()).toEqual([
      '10000000000.json',
      '10000000001.json',
      '9999999998.json',
      '9999999999.json',
    ]);
    const history = await state.readHistory();
    expect(history.entries.map((e) => [e.sequence, e.manifestDigest])).toEqual([
      [10000000001, 'm-eleven-2'],
      [10000000000, 'm-eleven'],
      [9999999999, 'm-last-ten-digit'],
      [9999999998, 'm-old'],
    ]);
    expect(await state.readNewest('pfexpose')).toMatchObject({ manifestDigest: 'm-eleven-2' });
  });

  it('trims the oldest by number, not by name', async () => {
    await state.ensure();
    const entry = {
      anchor: 'pfexpose',
      ruleset: OWN_RULE,
      rulesetDigest: sha256(OWN_RULE),
      manifestDigest: 'm',
      appliedAt: 'x',
    };
    for (let i = 0; i < HISTORY_LIMIT; i += 1) {
      await writeFile(join(state.path, 'history', historyName(9999999995 + i)), JSON.stringify(entry), { mode: 0o600 });
    }
    await state.recordApplied({ anchor: 'pfexpose', ruleset: OWN_RULE, manifestDigest: 'newest' });
    const names = await readdir(join(state.path, 'history'));
    expect(names).toHaveLength(HISTORY_LIMIT);
    expect(names).not.toContain(historyName(9999999995));
    expect(names).toContain(historyName(9999999995 + HISTORY_LIMIT));
  });
});

describe('a record that cannot be written (a full disk)', () => {
  it('recordApplied rejects, and the current record is left as it was', async () => {
    await state.recordApplied({ anchor: 'pfexpose', ruleset: OWN_RULE, manifestDigest: 'm1' });
    const full = new StateDir(state.path, {
      writeFile: () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })),
    });
    await expect(full.recordApplied({ anchor: 'pfexpose', ruleset: OWN_RULE, manifestDigest: 'm2' })).rejects.toThrow(
      /ENOSPC/,
    );
    expect(await state.readCurrent()).toMatchObject({ kind: 'ok', value: { manifestDigest: 'm1' } });
  });
});

describe('confirmWindowClosed', () => {
  const pending: PendingConfirm = {
    anchor: 'pfexpose',
    deadline: '2030-01-01T00:01:00.000Z',
    previous: null,
    appliedDigest: 'x',
    pid: 1,
    createdAt: '2030-01-01T00:00:00.000Z',
    monotonicCreated: 1_000,
    monotonicDeadline: 61_000,
  };
  const wall = (iso: string): number => Date.parse(iso);
  it.each([
    ['both clocks before the deadline', wall('2030-01-01T00:00:30Z'), 31_000, false, false],
    ['both past', wall('2030-01-01T00:01:01Z'), 62_000, false, true],
    ['the wall clock stepped forward: not early', wall('2030-02-01T00:00:00Z'), 31_000, false, false],
    ['the wall clock stepped forward, same boot: not early', wall('2030-02-01T00:00:00Z'), 31_000, true, false],
    ['the wall clock stepped back, same boot: not late', wall('2029-12-01T00:00:00Z'), 62_000, true, true],
    ['the wall clock stepped back, boot unknown: waits for both', wall('2029-12-01T00:00:00Z'), 62_000, false, false],
    ['rebooted (monotonic behind the record): the wall clock decides', wall('2030-01-01T00:01:01Z'), 500, false, true],
  ])('%s', (_name, wallNow, monotonicNow, sameBoot, closed) => {
    expect(confirmWindowClosed(pending, wallNow, monotonicNow, sameBoot)).toBe(closed);
  });

  it('older records without the monotonic clock follow the wall clock', () => {
    const { monotonicCreated: _c, monotonicDeadline: _d, ...old } = pending;
    expect(confirmWindowClosed(old, wall('2030-01-01T00:01:01Z'), 0)).toBe(true);
    expect(confirmWindowClosed(old, wall('2030-01-01T00:00:59Z'), 10 ** 12)).toBe(false);
  });
});

describe('records the agent may load from', () => {
  it("return pfexpose's own rulesets, and nothing for a planted foreign one", async () => {
    await state.recordApplied({ anchor: 'pfexpose', ruleset: OWN_RULE, manifestDigest: 'm1' });
    expect(await state.readLoadableCurrent('pfexpose')).toMatchObject({ manifestDigest: 'm1' });
    expect(await state.readLoadableNewest('pfexpose')).toMatchObject({ manifestDigest: 'm1' });
    expect(await state.readLoadableCurrent('other')).toBeNull();
    const undone = { manifestDigest: 'm1', linesDigest: 'x' };
    await state.recordApplied({
      anchor: 'pfexpose',
      ruleset: 'pass in quick all\n',
      manifestDigest: 'm2',
      kind: 'rollback',
      undone,
    });
    expect(await state.readLoadableCurrent('pfexpose')).toBeNull();
    expect(await state.readLoadableNewest('pfexpose')).toBeNull();
    // The plain reads still see them (apply reports them; it never loads them).
    expect(await state.readNewest('pfexpose')).toMatchObject({ manifestDigest: 'm2' });
  });
});
