import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HISTORY_LIMIT, linesDigest, sha256, StateDir, type PendingConfirm } from '../../src/host/state-dir.js';

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
    expect(history.entries.map((entry) => entry.manifestDigest)).toEqual(
      ['m13', 'm12', 'm11', 'm10', 'm9', 'm8', 'm7', 'm6', 'm5', 'm4'],
    );
    expect(history.entries[0]?.sequence).toBe(13);
    expect(await readdir(join(state.path, 'history'))).toHaveLength(HISTORY_LIMIT);
    expect(history.corrupt).toEqual([]);
  });

  it('records how an entry came to be, and reads entries written before kinds existed as applies', async () => {
    await state.recordApplied({ anchor: 'pfexpose', ruleset: '', manifestDigest: '', kind: 'initial' });
    await state.recordApplied({ anchor: 'pfexpose', ruleset: 'a\n', manifestDigest: 'm1' });
    const undone = { manifestDigest: 'm1', linesDigest: linesDigest(['a']) };
    await state.recordApplied({ anchor: 'pfexpose', ruleset: '', manifestDigest: '', kind: 'rollback', undone });
    const old = { anchor: 'pfexpose', ruleset: 'b\n', rulesetDigest: sha256('b\n'), manifestDigest: 'm0', appliedAt: '2025-01-01T00:00:00.000Z' };
    await writeFile(join(state.path, 'history', '0000000004.json'), JSON.stringify(old));
    const history = await state.readHistory();
    expect(history.entries.map((entry) => entry.kind)).toEqual(['apply', 'rollback', 'apply', 'initial']);
    expect(history.entries[1]?.undone).toEqual(undone);
    expect(history.entries[2]?.undone).toBeUndefined();
  });

  it('reads the newest entry of one anchor, skipping damaged entries and other anchors', async () => {
    expect(await state.readNewest('pfexpose')).toBeNull();
    await state.recordApplied({ anchor: 'pfexpose', ruleset: 'a\n', manifestDigest: 'm1' });
    await state.recordApplied({ anchor: 'pfexpose', ruleset: 'b\n', manifestDigest: 'm2', kind: 'rollback', undone: { manifestDigest: 'm1', linesDigest: 'x' } });
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
    const bad = { anchor: 'a', ruleset: 'x', rulesetDigest: sha256('x'), manifestDigest: 'm', appliedAt: 't', kind: 'teleport' };
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
    ['a ruleset that does not match its digest', JSON.stringify({ anchor: 'a', ruleset: 'edited', rulesetDigest: sha256('orig'), manifestDigest: 'm', appliedAt: 'x' })],
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
    await state.writePendingConfirm({ anchor: 'pfexpose', deadline: '2026-01-01T00:01:00.000Z', previous: null, appliedDigest: '', pid: 1, createdAt: 'x' });
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
