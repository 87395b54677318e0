// `pfexpose history` and `rollback --to ID`, in process against the in-memory pf: the records the
// state directory keeps, their ids, and loading one of them back through the apply transaction.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizedLines } from '../../src/pf/rule-lines.js';
import { runInProcess } from '../helpers/cli.js';
import { createMemoryPf, type MemoryPf } from '../helpers/memory-pf.js';
import { summarizeHistory } from '../../src/apply/history-summary.js';

const MANIFESTS: Record<string, string> = {
  a: 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports:\n      - "em0:8080:80"\n',
  b: 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports:\n      - "em0:8080:80"\n  db:\n    ip: 10.0.0.3\n    ports:\n      - "em0:5432:5432"\n',
  c: 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports:\n      - "em0:9090:80"\n',
};

let pf: MemoryPf;
let work: string;
let env: Record<string, string>;

beforeEach(async () => {
  pf = createMemoryPf();
  work = await mkdtemp(join(tmpdir(), 'pfexpose-history-'));
  for (const [dir, text] of Object.entries(MANIFESTS)) {
    await mkdir(join(work, dir));
    await writeFile(join(work, dir, 'web.yaml'), text);
  }
  env = { PFEXPOSE_STATE_DIR: join(work, 'state'), NO_COLOR: '1' };
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

function pfexpose(...args: string[]): ReturnType<typeof runInProcess> {
  return runInProcess(args, { cwd: work, env, pfctl: (options) => pf.pfctl(options) });
}

async function anchorLines(): Promise<string[]> {
  return normalizedLines((await pf.readAnchor('pfexpose')) ?? '');
}

async function compiled(dir: string): Promise<string[]> {
  const run = await runInProcess(['compile', dir], { cwd: work, env });
  expect(run.code, run.stderr).toBe(0);
  return normalizedLines(run.stdout);
}

interface JsonItem {
  id: number;
  action: string;
  anchor: string;
  time: string;
  exposures: number;
  changes: { added: string[]; removed: string[] } | null;
}

async function history(): Promise<JsonItem[]> {
  const run = await pfexpose('history', '--format', 'json');
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { entries: JsonItem[] }).entries;
}

describe('pfexpose history and rollback --to', () => {
  it('lists three applies with ids, and rollback --to the first loads its ruleset', async () => {
    for (const dir of ['a', 'b', 'c']) expect((await pfexpose('apply', dir)).code).toBe(0);
    const entries = await history();
    // Newest first: the three applies, then what the anchor held before the first (empty).
    expect(entries.map((e) => [e.id, e.action])).toEqual([
      [4, 'apply'],
      [3, 'apply'],
      [2, 'apply'],
      [1, 'initial'],
    ]);
    expect(entries.every((e) => e.anchor === 'pfexpose' && !Number.isNaN(Date.parse(e.time)))).toBe(true);
    expect(entries[2]?.changes).toEqual({ added: ['web:tcp:em0:8080'], removed: [] });
    expect(entries[1]?.changes).toEqual({ added: ['db:tcp:em0:5432'], removed: [] });
    expect(entries[0]?.changes).toEqual({
      added: ['web:tcp:em0:9090'],
      removed: ['db:tcp:em0:5432', 'web:tcp:em0:8080'],
    });

    const back = await pfexpose('rollback', '--to', '2');
    expect(back.code, back.stderr).toBe(0);
    expect(await anchorLines()).toEqual(await compiled('a'));
    const after = await history();
    expect(after[0]).toMatchObject({ id: 5, action: 'rollback', changes: { added: ['web:tcp:em0:8080'] } });

    // Asking for what pf already holds loads nothing.
    const loads = (await pf.loadCalls()).length;
    const again = await pfexpose('rollback', '--to', '2');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already holds');
    expect(await pf.loadCalls()).toHaveLength(loads);
  });

  it('the text form shows each entry with its id, action and exposure changes', async () => {
    expect((await pfexpose('apply', 'a')).code).toBe(0);
    expect((await pfexpose('apply', 'b')).code).toBe(0);
    const run = await pfexpose('history');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^3 {2}\S+ {2}apply {2}anchor "pfexpose" {2}2 exposures {2}manifests \S+$/);
    expect(lines[1]).toBe('    + db:tcp:em0:5432');
    expect(run.stdout).toMatch(/\n1 {2}\S+ {2}initial {2}anchor "pfexpose" {2}0 exposures/);
  });

  it.each([
    ['an id the history does not hold', ['rollback', '--to', '42'], 1, 'has no entry 42 (its entries are 1, 2'],
    ['an id that is not a number', ['rollback', '--to', 'first'], 2, '--to: "first" is not a history id'],
    ['id 0', ['rollback', '--to', '0'], 2, 'is not a history id'],
    [
      'an entry of another anchor',
      ['rollback', '--to', '2', '--anchor', 'other'],
      1,
      'ruleset of anchor "pfexpose", not "other"',
    ],
  ])('rollback --to refuses %s, pf unchanged', async (_name, args, code, message) => {
    expect((await pfexpose('apply', 'a')).code).toBe(0);
    expect((await pfexpose('apply', 'b')).code).toBe(0);
    const before = await anchorLines();
    await pf.writeMain(
      'rdr-anchor "pfexpose" all\nanchor "pfexpose" all\nrdr-anchor "other" all\nanchor "other" all\n',
    );
    const run = await pfexpose(...args);
    expect(run.code).toBe(code);
    expect(run.stderr).toContain(message);
    expect(await anchorLines()).toEqual(before);
  });

  it('history without a state directory lists nothing and creates none', async () => {
    const run = await pfexpose('history', '--format', 'json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ formatVersion: 1, command: 'history', diagnostics: [], entries: [] });
    expect(existsSync(join(work, 'state'))).toBe(false);
  });
});

describe('summarizeHistory', () => {
  const entry = (sequence: number, kind: 'apply' | 'initial', ruleset: string) => ({
    sequence,
    kind,
    anchor: 'pfexpose',
    ruleset,
    rulesetDigest: '',
    manifestDigest: '',
    appliedAt: '2026-01-01T00:00:00.000Z',
  });
  it('says the changes are unknown when the entry before is no longer kept', () => {
    const rule = (label: string) =>
      `pass in quick on em0 inet proto tcp from any to any port 80 flags S/SA keep state label "${label}" tagged pfexpose\n`;
    const items = summarizeHistory([entry(12, 'apply', rule('b')), entry(11, 'apply', rule('a'))]);
    expect(items.map((i) => [i.id, i.changes])).toEqual([
      [12, { added: ['b'], removed: ['a'] }],
      [11, null],
    ]);
  });
});
