// Issue 11, the host side: plan --live, apply, confirm and rollback agree (the same preflight, the
// same gateway), a refused command leaves no state directory behind, and the host flags are the
// same everywhere. The CLI in process against the in-memory pf (under the real pfctl adapter;
// route(8) is still the spawned stand-in); the one test that opens a confirmation window runs the
// built CLI against the pfctl simulator, since the window starts a real watchdog process.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPfctl, type PfctlOptions } from '../../src/host/pfctl.js';
import type { RunOptions, RunResult as CommandResult } from '../../src/host/run-command.js';
import { normalizedLines } from '../../src/pf/rule-lines.js';
import { runInProcess, startBuilt } from '../helpers/cli.js';
import { createMemoryPf, type MemoryPf } from '../helpers/memory-pf.js';
import { createSim, PFCTL_SIM, ROUTE_SIM, type Sim } from '../pfctl-sim/sim-control.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

const WEB = 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports:\n      - "em0:8080:80"\n';
// Listens on the gateway, which no manifest declares: route(8) is asked.
const GATEWAY = 'version: 1\ncontainers:\n  gw:\n    ip: 10.0.0.9\n    ports:\n      - "9000:90"\n';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The pf of the in-process runs. */
let pf: MemoryPf;
/** The simulator: the route stand-in's answers, and pf for the spawned runs. */
let sim: Sim;
let work: string;
let env: Record<string, string>;

beforeEach(async () => {
  pf = createMemoryPf();
  sim = await createSim({ routeIf: 'em0' });
  work = await mkdtemp(join(tmpdir(), 'pfexpose-host-agree-'));
  await mkdir(join(work, 'a'));
  await mkdir(join(work, 'g'));
  await writeFile(join(work, 'a', 'web.yaml'), WEB);
  await writeFile(join(work, 'g', 'gw.yaml'), GATEWAY);
  env = { ...sim.env, PFEXPOSE_STATE_DIR: join(work, 'state'), NO_COLOR: '1' };
});
afterEach(async () => {
  await sim.cleanup();
  await rm(work, { recursive: true, force: true });
});

/**
 * In process against pf. With --pfctl PROGRAM in args, the real adapter runs PROGRAM; otherwise
 * `reach` (default: the in-memory pf under the real adapter).
 */
async function pfexpose(
  args: string[],
  extraEnv: Record<string, string> = {},
  reach: (options: PfctlOptions) => ReturnType<typeof createPfctl> = (options) => pf.pfctl(options),
): Promise<Run> {
  const started = Date.now();
  const own = args.includes('--pfctl');
  const run = await runInProcess(args, {
    cwd: work,
    env: { ...env, ...extraEnv },
    ...(own ? {} : { pfctl: reach }),
  });
  return { ...run, ms: Date.now() - started };
}

/** The built CLI against the simulator, for what needs real processes. */
async function spawned(args: string[]): Promise<Run> {
  return startBuilt(args, { cwd: work, env: { ...env, PFEXPOSE_PFCTL: PFCTL_SIM } }).done;
}

async function anchorLines(): Promise<string[]> {
  return normalizedLines((await pf.readAnchor('pfexpose')) ?? '');
}

describe('plan --live and apply agree', () => {
  it('plan --live right after an apply: exit 0, no changes', async () => {
    const applied = await pfexpose(['apply', 'a']);
    expect(applied.code, applied.stderr).toBe(0);
    const plan = await pfexpose(['plan', 'a', '--live']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('No changes');
  });

  it('with the anchor hooks missing from pf.conf, plan --live exits 1 and shows the lines to add, as apply does', async () => {
    await pf.writeMain('pass all flags S/SA keep state\n');
    const plan = await pfexpose(['plan', 'a', '--live']);
    expect(plan.code).toBe(1);
    expect(plan.stdout).not.toContain('No changes');
    expect(plan.stderr).toContain('does not call anchor "pfexpose"');
    expect(plan.stderr).toContain('  rdr-anchor "pfexpose"\n  anchor "pfexpose"\n');
    const apply = await pfexpose(['apply', 'a']);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain('  rdr-anchor "pfexpose"\n  anchor "pfexpose"\n');
    expect(await pf.loadCalls()).toHaveLength(0);
  });

  it('finds the gateway with --route like apply; plan --live -o plan.json, then apply plan.json', async () => {
    const plain = await pfexpose(['plan', 'g', '--live']);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('cannot detect the gateway interface');
    const plan = await pfexpose(['plan', 'g', '--live', '--route', ROUTE_SIM, '-o', 'plan.json']);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stderr).toContain('gateway interface em0');
    const fromEnv = await pfexpose(['plan', 'g', '--live'], { PFEXPOSE_ROUTE: ROUTE_SIM });
    expect(fromEnv.code, fromEnv.stderr).toBe(2);
    const apply = await pfexpose(['apply', 'plan.json']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(await anchorLines()).toContain(
      'rdr on em0 inet proto tcp from any to (em0) port = 9000 tag pfexpose -> 10.0.0.9 port 90',
    );
    const after = await pfexpose(['plan', 'g', '--live', '--route', ROUTE_SIM]);
    expect(after.code, after.stderr).toBe(0);
  });

  it('plan --live gives up on a hung pfctl after --pfctl-timeout', async () => {
    await pf.setControl({ hangMs: 20_000, hangOn: ['status'] });
    const plan = await pfexpose(['plan', 'a', '--live', '--pfctl-timeout', '1s']);
    expect(plan.code).toBe(1);
    expect(plan.ms).toBeLessThan(15_000);
  });

  it.each([
    ['--pfctl', PFCTL_SIM],
    ['--route', ROUTE_SIM],
    ['--pfctl-timeout', '5s'],
  ])('plan %s without --live is a usage error (exit 1)', async (flag, value) => {
    const plan = await pfexpose(['plan', 'a', '--base', 'HEAD', flag, value]);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain(`${flag} only applies to --live`);
  });
});

describe('a refused command leaves no state directory', () => {
  const fresh = (): string => join(work, 'fresh-state');

  it.each([
    ['apply, pf disabled', ['apply', 'a'], 1],
    ['plan --live, pf disabled', ['plan', 'a', '--live'], 1],
    ['rollback, pf disabled', ['rollback'], 1],
    ['confirm, nothing pending', ['confirm'], 1],
  ])('%s', async (_name, args, code) => {
    await pf.setEnabled(false);
    const run = await pfexpose([...args, ...(args[0] === 'plan' ? [] : ['--state-dir', fresh()])], {
      PFEXPOSE_STATE_DIR: fresh(),
    });
    expect(run.code).toBe(code);
    expect(existsSync(fresh())).toBe(false);
  });

  it.each([
    ['no pfctl', ['apply', 'a', '--pfctl', '/nonexistent/pfctl'], 1],
    ['hooks missing', ['apply', 'a'], 1],
    ['bad manifests', ['apply', 'bad'], 1],
    ['--confirm 10000000000000s', ['apply', 'a', '--confirm', '10000000000000s'], 2],
    ['--confirm 90000h', ['apply', 'a', '--confirm', '90000h'], 2],
    ['a plan and a path', ['apply', 'plan.json', 'a'], 2],
    ['rollback with no history', ['rollback'], 1],
  ])('apply/rollback: %s', async (name, args, code) => {
    await mkdir(join(work, 'bad'));
    await writeFile(
      join(work, 'bad', 'x.yaml'),
      'version: 1\ncontainers:\n  x:\n    ip: 10.0.0.1\n    ports:\n      - "em0:99999:80"\n',
    );
    if (name === 'hooks missing') await pf.writeMain('pass all flags S/SA keep state\n');
    const run = await pfexpose([...args, '--state-dir', fresh()]);
    expect(run.code, run.stderr).toBe(code);
    expect(existsSync(fresh())).toBe(false);
    expect(await pf.loadCalls()).toHaveLength(0);
  });

  it('a dry run pfctl rejects: the directory made for the apply is taken back', async () => {
    // A pfctl that refuses every dry run (-n) with a line error, and is the in-memory pf otherwise.
    const rejecting = (program: string, argv: readonly string[], options?: RunOptions): Promise<CommandResult> =>
      argv.includes('-n')
        ? Promise.resolve({
            kind: 'completed',
            exitCode: 1,
            signal: null,
            stdout: '',
            stderr: 'stdin:1: syntax error\n',
            truncated: false,
            durationMs: 0,
          })
        : pf.runner(program, argv, options);
    const run = await pfexpose(['apply', 'a', '--state-dir', fresh()], {}, (options) =>
      createPfctl({ ...options, runner: rejecting }),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('dry run');
    expect(existsSync(fresh())).toBe(false);
  });

  it('apply PLAN.json PATH says a saved plan must be the only argument', async () => {
    const run = await pfexpose(['apply', 'plan.json', 'a']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('a saved plan must be the only argument');
    expect(run.stderr).not.toContain('unknown-key');
  });
});

describe('apply --confirm with nothing to apply, and confirm', () => {
  it('opens no window, and confirm says there is nothing to confirm, not that anything was reverted', async () => {
    expect((await pfexpose(['apply', 'a'])).code).toBe(0);
    const again = await pfexpose(['apply', 'a', '--confirm', '30s']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('no confirmation window was opened');
    expect(again.stdout).not.toContain('awaiting confirmation');
    expect(existsSync(join(work, 'state', 'pending-confirm.json'))).toBe(false);
    const json = await pfexpose(['apply', 'a', '--confirm', '30s', '--format', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ result: 'unchanged', confirmWindowOpened: false });
    const confirm = await pfexpose(['confirm']);
    expect(confirm.code).toBe(1);
    expect(confirm.stderr).toContain('nothing to confirm');
    expect(confirm.stderr).not.toMatch(/revert/);
  });

  it("confirm --anchor keeps only that anchor's window; --lock-wait and its old name --wait both work", async () => {
    await writeFile(join(work, 'a', 'web.yaml'), WEB.replace('8080', '8081'));
    const trial = await spawned(['apply', 'a', '--confirm', '60s', '--lock-wait', '5s']);
    expect(trial.code, trial.stderr).toBe(0);
    const other = await spawned(['confirm', '--anchor', 'other', '--wait', '5s']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('the open window is anchor "pfexpose"\'s');
    expect(existsSync(join(work, 'state', 'pending-confirm.json'))).toBe(true);
    const kept = await spawned(['confirm', '--anchor', 'pfexpose', '--lock-wait', '5s']);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toContain('confirmed');
  });
});

describe('a command-line problem in apply', () => {
  it('an unknown --host is said as pfexpose: error unknown-host, with did-you-mean, never at <command line>:1:1; no state directory', async () => {
    const hosts =
      'version: 1\nhosts:\n  db1: {}\n  db2: {}\ncontainers:\n  pg:\n    host: db1\n    ip: 10.0.0.5\n    ports:\n      - "em0:5432:5432"\n';
    await writeFile(join(work, 'h.yaml'), hosts);
    const run = await pfexpose(['apply', '--host', 'db3', 'h.yaml']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/^pfexpose: error unknown-host --host db3 .*did you mean db1\?$/m);
    expect(run.stderr).not.toContain('<command line>');
    expect(existsSync(join(work, 'state'))).toBe(false);
  });
});
