// The state directory as an operator meets it (issue 9): the CLI in process against the in-memory
// pf (under the real pfctl adapter); test/e2e/apply.test.ts runs the built CLI. A state directory others could write, a planted record that would load rules
// pfexpose never writes, and a window no timer can wait are refused with exit 1 or 2, pf unchanged.
import { chmod, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizedLines, sha256 } from '../../src/pf/rule-lines.js';
import { runInProcess } from '../helpers/cli.js';
import { createMemoryPf, type MemoryPf } from '../helpers/memory-pf.js';

const WEB = `version: 1
containers:
  web:
    ip: 10.0.0.2
    ports:
      - "em0:8080:80"
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let sim: MemoryPf;
let work: string;
let stateDir: string;
let env: Record<string, string>;

beforeEach(async () => {
  sim = createMemoryPf();
  work = await mkdtemp(join(tmpdir(), 'pfexpose-state-e2e-'));
  stateDir = join(work, 'state');
  await mkdir(join(work, 'm'));
  await writeFile(join(work, 'm', 'web.yaml'), WEB);
  env = {
    PFEXPOSE_STATE_DIR: stateDir,
    NO_COLOR: '1',
  };
});
afterEach(async () => {
  await sim.cleanup();
  await rm(work, { recursive: true, force: true });
});

function pfexpose(...args: string[]): Promise<Run> {
  return runInProcess(args, { cwd: work, env, pfctl: (options) => sim.pfctl(options) });
}

async function anchorLines(): Promise<string[]> {
  return normalizedLines((await sim.readAnchor('pfexpose')) ?? '');
}

describe('pfexpose and its state directory', { timeout: 120_000 }, () => {
  it('creates the state directory 0700 and its files 0600', async () => {
    const run = await pfexpose('apply', 'm', '--gateway', 'em0');
    expect(run.code, run.stderr).toBe(0);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(stateDir, 'history'))).mode & 0o777).toBe(0o700);
    for (const name of [
      'current.json',
      'current.pf',
      ...(await readdir(join(stateDir, 'history'))).map((n) => join('history', n)),
    ]) {
      expect([name, (await stat(join(stateDir, name))).mode & 0o777]).toEqual([name, 0o600]);
    }
  });

  it('refuses a 0777 state directory with exit 1, pf unchanged', async () => {
    await mkdir(stateDir);
    await chmod(stateDir, 0o777);
    const run = await pfexpose('apply', 'm', '--gateway', 'em0');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('writable by group or others (mode 0777)');
    expect(run.stderr).not.toMatch(/internal error|this is a bug/i);
    expect((await sim.loadCalls()).length).toBe(0);
    for (const command of [['rollback'], ['confirm']]) {
      const other = await pfexpose(...command);
      expect([command, other.code]).toEqual([command, 1]);
    }
  });

  it('refuses a symbolic link in place of confirm-watchdog.log: apply --confirm loads nothing', async () => {
    await mkdir(stateDir, { mode: 0o700 });
    const elsewhere = join(work, 'elsewhere.log');
    await symlink(elsewhere, join(stateDir, 'confirm-watchdog.log'));
    const run = await pfexpose('apply', 'm', '--gateway', 'em0', '--confirm', '60s');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('is a symbolic link');
    expect((await sim.loadCalls()).length).toBe(0);
    await expect(stat(elsewhere)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a planted pending-confirm.json that would load pass in quick all: confirm and apply exit 1, pf unchanged', async () => {
    const first = await pfexpose('apply', 'm', '--gateway', 'em0');
    expect(first.code, first.stderr).toBe(0);
    const before = await anchorLines();
    const loads = (await sim.loadCalls()).length;
    const pending = {
      anchor: 'pfexpose',
      deadline: '2020-01-01T00:00:00.000Z',
      previous: { ruleset: 'pass in quick all\n', manifestDigest: '' },
      appliedDigest: sha256('x'),
      pid: 2147483646,
      createdAt: '2020-01-01T00:00:00.000Z',
    };
    await writeFile(join(stateDir, 'pending-confirm.json'), JSON.stringify(pending), { mode: 0o600 });
    const confirm = await pfexpose('confirm');
    expect(confirm.code).toBe(1);
    expect(confirm.stderr).toContain('pending-confirm.json');
    expect(confirm.stderr).toContain("not pfexpose's own");
    const apply = await pfexpose('apply', 'm', '--gateway', 'em0');
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain("not pfexpose's own");
    const rollback = await pfexpose('rollback');
    expect(rollback.code).toBe(1);
    expect((await sim.loadCalls()).length).toBe(loads);
    expect(await anchorLines()).toEqual(before);
  });

  it.each(['9999999999h', '25h'])(
    'apply --confirm %s is a usage error (exit 2), not an internal error',
    async (duration) => {
      const run = await pfexpose('apply', 'm', '--gateway', 'em0', '--confirm', duration);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--confirm');
      expect(run.stderr).toContain('out of range: use 1s to 24h');
      expect(run.stderr).not.toMatch(/internal error|this is a bug/i);
      expect((await sim.loadCalls()).length).toBe(0);
    },
  );
});
