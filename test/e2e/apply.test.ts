// `pfexpose apply`, `rollback` and `confirm` as an operator runs them: the built CLI (npm run build)
// spawned against the pfctl simulator, checked by exit code, output and what pf ends up holding.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizedLines } from '../../src/host/read-deployed.js';
import { createSim, PFCTL_SIM, ROUTE_SIM, type Sim } from '../pfctl-sim/sim-control.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'bin', 'pfexpose.js');

const WEB = `version: 1
containers:
  web:
    ip: 10.0.0.2
    ports:
      - "em0:8080:80"
      - "em0:8443:443"
`;
const DB = `version: 1
containers:
  db:
    ip: 10.0.0.3
    ports:
      - "em0:5432:5432"
`;
// No interface: listens on the gateway, which nobody declares (route(8) is asked).
const GATEWAY = `version: 1
containers:
  gw:
    ip: 10.0.0.9
    ports:
      - "9000:90"
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let sim: Sim;
let work: string;
let env: Record<string, string>;

beforeEach(async () => {
  sim = await createSim({ routeIf: 'em0' });
  work = await mkdtemp(join(tmpdir(), 'pfexpose-apply-e2e-'));
  await mkdir(join(work, 'a'));
  await mkdir(join(work, 'b'));
  await writeFile(join(work, 'a', 'web.yaml'), WEB);
  await writeFile(join(work, 'b', 'web.yaml'), WEB);
  await writeFile(join(work, 'b', 'db.yaml'), DB);
  env = {
    ...sim.env,
    PFEXPOSE_PFCTL: PFCTL_SIM,
    PFEXPOSE_ROUTE: ROUTE_SIM,
    PFEXPOSE_STATE_DIR: join(work, 'state'),
    NO_COLOR: '1',
  };
});
afterEach(async () => {
  await sim.cleanup();
  await rm(work, { recursive: true, force: true });
});

function start(args: string[], extraEnv: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: work, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

function pfexpose(...args: string[]): Promise<Run> {
  return start(args).done;
}

async function anchorLines(): Promise<string[]> {
  return normalizedLines((await sim.readAnchor('pfexpose')) ?? '');
}

async function compiled(dir: string): Promise<string[]> {
  const run = await pfexpose('compile', dir, '--gateway', 'em0');
  expect(run.code, run.stderr).toBe(0);
  return normalizedLines(run.stdout);
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

describe('pfexpose apply (built CLI, simulated pfctl)', () => {
  it('applies, then has nothing to do; JSON says the same', async () => {
    expect(existsSync(CLI)).toBe(true);
    const first = await pfexpose('apply', 'a');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('2 to add');
    expect(first.stdout).toContain('applied anchor "pfexpose": ruleset +4 -0 lines, loaded and verified (1 attempt)');
    expect(await anchorLines()).toEqual(await compiled('a'));
    const second = await pfexpose('apply', 'a', '--format', 'json');
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ command: 'apply', anchor: 'pfexpose', result: 'unchanged' });
    expect(await sim.loadCalls()).toHaveLength(1);
    const current = JSON.parse(await readFile(join(work, 'state', 'current.json'), 'utf8')) as { anchor: string };
    expect(current.anchor).toBe('pfexpose');
  });

  it('refuses, exit 1, with the lines to add when pf.conf does not call the anchor', async () => {
    await sim.writeMain('pass all flags S/SA keep state\n');
    const run = await pfexpose('apply', 'a');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('apply refused, pf was not touched');
    expect(run.stderr).toContain('  rdr-anchor "pfexpose"\n  anchor "pfexpose"\n');
    expect(await sim.loadCalls()).toHaveLength(0);
  });

  it('asks route(8) for the gateway only when an entry needs it, and says so when there is none', async () => {
    const noRoute = { PFCTL_SIM_ROUTE_IF: '' };
    expect((await start(['apply', 'a'], noRoute).done).code).toBe(0);
    expect((await sim.calls()).filter((call) => call.argv[0] === 'route')).toHaveLength(0);
    await writeFile(join(work, 'a', 'gw.yaml'), GATEWAY);
    const none = await start(['apply', 'a'], noRoute).done;
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('gateway-missing');
    expect(none.stderr).toContain('cannot detect the gateway interface');
    const found = await pfexpose('apply', 'a');
    expect(found.code, found.stderr).toBe(0);
    expect(found.stderr).toContain('gateway interface em0');
    expect(await anchorLines()).toContain('rdr on em0 inet proto tcp from any to (em0) port = 9000 tag pfexpose -> 10.0.0.9 port 90');
  });

  it('recovers from kill -9 of pfexpose during a load: the restart takes the stale lock over', async () => {
    await sim.writeAnchor('pfexpose', '');
    await sim.setControl({ hangMs: 'forever', hangOn: ['load'] });
    const { child, done } = start(['apply', 'b']);
    expect(await waitFor(async () => (await sim.loadCalls()).length > 0, 15_000)).toBe(true);
    child.kill('SIGKILL');
    await done;
    // The pfctl it started runs in a group of its own and hangs on: end exactly those.
    for (const call of await sim.loadCalls()) {
      try {
        process.kill(call.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    expect(existsSync(join(work, 'state', 'lock'))).toBe(true);
    expect(await anchorLines()).toEqual([]);
    await sim.setControl({});

    const restart = await pfexpose('apply', 'b');
    expect(restart.code, restart.stderr).toBe(0);
    expect(restart.stderr).toContain('took over the lock left by pid');
    expect(await anchorLines()).toEqual(await compiled('b'));
    expect(existsSync(join(work, 'state', 'lock'))).toBe(false);
  });

  it('never interleaves two concurrent applies: the anchor ends in one full state', async () => {
    await sim.setControl({ hangMs: 800, hangOn: ['load'] });
    const [one, two] = await Promise.all([pfexpose('apply', 'a'), pfexpose('apply', 'b')]);
    const codes = [one.code, two.code].sort();
    expect(codes[0]).toBe(0);
    const refused = [one, two].filter((run) => run.code !== 0);
    for (const run of refused) expect(run.stderr).toMatch(/holds the lock .*: pid \d+ \(apply/);
    const lines = await anchorLines();
    expect([await compiled('a'), await compiled('b')]).toContainEqual(lines);
  });

  it('--confirm reverts by itself when nobody confirms; confirm keeps a change', async () => {
    expect((await pfexpose('apply', 'a')).code).toBe(0);
    const trial = await pfexpose('apply', 'b', '--confirm', '1s');
    expect(trial.code, trial.stderr).toBe(0);
    expect(trial.stdout).toContain('awaiting confirmation: run pfexpose confirm before');
    expect(await anchorLines()).toEqual(await compiled('b'));
    expect(await waitFor(() => Promise.resolve(!existsSync(join(work, 'state', 'pending-confirm.json'))), 10_000)).toBe(true);
    expect(await anchorLines()).toEqual(await compiled('a'));
    const late = await pfexpose('confirm');
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('nothing awaits confirmation');
    expect(await readFile(join(work, 'state', 'confirm-watchdog.log'), 'utf8')).toContain('was put back');

    const second = await pfexpose('apply', 'b', '--confirm', '2s', '--format', 'json');
    expect(second.code).toBe(0);
    const deadline = Date.parse((JSON.parse(second.stdout) as { confirmDeadline: string }).confirmDeadline);
    const kept = await pfexpose('confirm');
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toContain('confirmed: the ruleset applied to anchor "pfexpose" stays');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now()) + 400));
    expect(await anchorLines()).toEqual(await compiled('b'));
  });

  it('rollback loads the previous ruleset', async () => {
    expect((await pfexpose('apply', 'a')).code).toBe(0);
    expect((await pfexpose('apply', 'b')).code).toBe(0);
    const back = await pfexpose('rollback');
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain('rolled back anchor "pfexpose" to the ruleset applied at');
    expect(back.stdout).toContain('- rdr on em0 inet proto tcp from any to (em0) port = 5432 tag pfexpose -> 10.0.0.3 port 5432');
    expect(await anchorLines()).toEqual(await compiled('a'));
  });

  it('applies a saved plan only while the deployed state is the one it was made against', async () => {
    expect((await pfexpose('apply', 'a')).code).toBe(0);
    const plan = await pfexpose('plan', 'b', '--live', '-o', 'plan.json');
    expect([0, 2], plan.stderr).toContain(plan.code);
    await sim.writeAnchor('pfexpose', '');
    const stale = await pfexpose('apply', 'plan.json');
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('changed since the plan was made');
    expect(await anchorLines()).toEqual([]);
    expect((await pfexpose('apply', 'a')).code).toBe(0);
    const fresh = await pfexpose('apply', 'plan.json');
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(await anchorLines()).toEqual(await compiled('b'));
  });
});
