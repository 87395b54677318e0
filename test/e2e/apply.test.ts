// `pfexpose apply`, `rollback` and `confirm` as an operator runs them, checked by exit code, output
// and what pf ends up holding. Most run the CLI in process against the in-memory pf (under the real
// pfctl adapter); what needs real processes (the built CLI's exit codes and streams, kill -9, two
// applies at once, the confirm watchdog) spawns the built CLI against the pfctl simulator.
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { normalizedLines } from '../../src/pf/rule-lines.js';
import { runInProcess, startBuilt, type StartedRun } from '../helpers/cli.js';
import { createMemoryPf, type MemoryPf } from '../helpers/memory-pf.js';
import { createSim, PFCTL_SIM, ROUTE_SIM, type Sim } from '../pfctl-sim/sim-control.js';

// The spawned tests run pfexpose and the simulator several times: on a busy two-core machine that
// takes far longer than the default 30 s.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

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

/** The pf of the in-process runs. */
let pf: MemoryPf;
/** The simulator: pf for the spawned runs, and the route stand-in's answers and log for all. */
let sim: Sim;
/** True in the tests that need real processes and the simulator (the second describe). */
let spawned = false;
let work: string;
let env: Record<string, string>;

beforeEach(async () => {
  spawned = false;
  pf = createMemoryPf();
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

/** The built CLI against the simulator. */
function start(args: string[], extraEnv: Record<string, string> = {}): StartedRun {
  return startBuilt(args, { cwd: work, env: { ...env, ...extraEnv } });
}

/**
 * In process: against the in-memory pf, or, in the tests that need real processes, against the
 * simulator through the real adapter (what those tests kill or race is started with start()).
 */
function pfexposeWith(extraEnv: Record<string, string>, ...args: string[]): Promise<Run> {
  if (spawned) return runInProcess(args, { cwd: work, env: { ...env, ...extraEnv } });
  return runInProcess(args, { cwd: work, env: { ...env, ...extraEnv }, pfctl: (options) => pf.pfctl(options) });
}

function pfexpose(...args: string[]): Promise<Run> {
  return pfexposeWith({}, ...args);
}

/**
 * Set-up of a spawned test: apply dir in process against the in-memory pf, then hand what it
 * loaded to the simulator, as if the simulator had loaded it (the state directory is the same), so
 * only what the test is about runs against the simulator.
 */
async function appliedBefore(dir: string): Promise<void> {
  const run = await runInProcess(['apply', dir], { cwd: work, env, pfctl: (options) => pf.pfctl(options) });
  expect(run.code, run.stderr).toBe(0);
  await sim.writeAnchor('pfexpose', (await pf.readAnchor('pfexpose')) ?? '');
}

/** This test's pf: the in-memory one, or the simulator's. */
function pfState(): MemoryPf | Sim {
  return spawned ? sim : pf;
}

async function anchorLines(): Promise<string[]> {
  return normalizedLines((await pfState().readAnchor('pfexpose')) ?? '');
}

/** What the manifests in dir compile to: the expected anchor. compile touches no pf, so in process. */
async function compiled(dir: string): Promise<string[]> {
  const run = await runInProcess(['compile', dir, '--gateway', 'em0'], { cwd: work, env });
  expect(run.code, run.stderr).toBe(0);
  return normalizedLines(run.stdout);
}

/**
 * A pfctl that misbehaves in a way the simulator cannot: a shell script in the test's directory
 * that runs the simulator (or not) around `body`. $LOAD is "yes" for a real load (-f without -n).
 */
async function pfctlWrapper(name: string, body: string): Promise<string> {
  const path = join(work, name);
  const script = [
    '#!/bin/sh',
    'LOAD=no',
    'case " $* " in *" -f "*) case " $* " in *" -n "*) ;; *) LOAD=yes ;; esac ;; esac',
    `SIM='${PFCTL_SIM}'`,
    body,
    '',
  ].join('\n');
  await writeFile(path, script);
  await chmod(path, 0o755);
  return path;
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/**
 * A pfctl that commits the load, then stops before pfexpose hears back, once: it writes its pid to
 * $PAUSE_MARK and sleeps, so a test can kill pfexpose after the commit.
 */
function pauseAfterCommit(): Promise<string> {
  return pfctlWrapper(
    'pfctl-pause-after-commit',
    [
      '"$SIM" "$@"',
      'rc=$?',
      'if [ "$LOAD" = yes ] && [ $rc -eq 0 ] && [ ! -e "$PAUSE_MARK" ]; then echo $$ > "$PAUSE_MARK.tmp" && mv "$PAUSE_MARK.tmp" "$PAUSE_MARK"; exec sleep 600; fi',
      'exit $rc',
    ].join('\n'),
  );
}

describe('pfexpose apply (in process, in-memory pf)', () => {
  it('warns about a table someone put in the anchor, with the command that removes it', async () => {
    const first = await pfexpose('apply', 'a');
    expect(first.code, first.stderr).toBe(0);
    const anchor = (await pf.readAnchor('pfexpose')) ?? '';
    await pf.writeAnchor('pfexpose', `${anchor}table <blocked> persist { 192.0.2.1 }\n`);
    const second = await pfexpose('apply', 'a');
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('holds table(s) <blocked> that pfexpose did not write');
    expect(second.stderr).toContain('pfctl -a pfexpose -t blocked -T kill');
    expect(await pf.loadCalls()).toHaveLength(1);
  });

  it('refuses, exit 1, with the lines to add when pf.conf does not call the anchor', async () => {
    await pf.writeMain('pass all flags S/SA keep state\n');
    const run = await pfexpose('apply', 'a');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('apply refused, pf was not touched');
    expect(run.stderr).toContain('  rdr-anchor "pfexpose"\n  anchor "pfexpose"\n');
    expect(await pf.loadCalls()).toHaveLength(0);
  });

  it.each([
    ['apply', ['apply', 'a', '--dialect', 'openbsd']],
    ['apply', ['apply', 'a', '--dialect', 'openbsd', '--confirm', '60s']],
    ['rollback', ['rollback', '--dialect', 'openbsd']],
  ])('refuses --dialect openbsd (%s) as a usage error before touching pf', async (command, args) => {
    const run = await pfexpose(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`pfexpose: --dialect openbsd: ${command} drives FreeBSD's pfctl`);
    expect(run.stderr).toContain('the openbsd dialect is for compile and plan only');
    expect(await pf.calls()).toEqual([]);
    expect(existsSync(join(work, 'state'))).toBe(false);
  });

  it('refuses a saved plan made with --dialect openbsd as a usage error, loading nothing', async () => {
    const plan = await pfexpose('plan', 'a', '--live', '--dialect', 'openbsd', '-o', 'plan-openbsd.json');
    expect([0, 2], plan.stderr).toContain(plan.code);
    const run = await pfexpose('apply', 'plan-openbsd.json');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "plan-openbsd.json: the plan was made with --dialect openbsd: apply drives FreeBSD's pfctl",
    );
    expect(await pf.loadCalls()).toEqual([]);
  });

  it('writes the lock file only once the apply succeeded', async () => {
    await mkdir(join(work, 'm3'));
    await writeFile(
      join(work, 'm3', 'web.yaml'),
      'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    syntax: docker\n    ports:\n      - "80"\n',
    );
    const lock = join(work, 'm3', 'pfexpose.lock.json');
    await pf.setEnabled(false);
    const refused = await pfexpose('apply', 'm3');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('apply refused, pf was not touched');
    expect(refused.stderr).not.toContain('updated');
    expect(existsSync(lock)).toBe(false);
    await pf.setEnabled(true);
    const applied = await pfexpose('apply', 'm3');
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toContain(`updated ${join('m3', 'pfexpose.lock.json')}`);
    expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ version: 1 });
    expect(await anchorLines()).toContain(
      'rdr inet proto tcp from any to (self) port = 49000 tag pfexpose -> 10.0.0.2 port 80',
    );
  });

  it('asks route(8) for the gateway only when an entry needs it, and says so when there is none', async () => {
    const noRoute = { PFCTL_SIM_ROUTE_IF: '' };
    expect((await pfexposeWith(noRoute, 'apply', 'a')).code).toBe(0);
    expect((await sim.calls()).filter((call) => call.argv[0] === 'route')).toHaveLength(0);
    await writeFile(join(work, 'a', 'gw.yaml'), GATEWAY);
    const none = await pfexposeWith(noRoute, 'apply', 'a');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('gateway-missing');
    expect(none.stderr).toContain('cannot detect the gateway interface');
    const found = await pfexpose('apply', 'a');
    expect(found.code, found.stderr).toBe(0);
    expect(found.stderr).toContain('gateway interface em0');
    expect(await anchorLines()).toContain(
      'rdr on em0 inet proto tcp from any to (em0) port = 9000 tag pfexpose -> 10.0.0.9 port 90',
    );
  });

  it('rollback after the first apply puts back what the anchor held before it', async () => {
    expect((await pfexpose('apply', 'a')).code).toBe(0);
    const back = await pfexpose('rollback');
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain('to what it held before pfexpose first applied to it');
    expect(await anchorLines()).toEqual([]);
  });

  it('rollback loads the previous ruleset', async () => {
    expect((await pfexpose('apply', 'a')).code).toBe(0);
    expect((await pfexpose('apply', 'b')).code).toBe(0);
    const back = await pfexpose('rollback');
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain('rolled back anchor "pfexpose" to the ruleset applied at');
    expect(back.stdout).toContain(
      '- rdr on em0 inet proto tcp from any to (em0) port = 5432 tag pfexpose -> 10.0.0.3 port 5432',
    );
    expect(await anchorLines()).toEqual(await compiled('a'));
    // The agent holds a rollback only while it watches the manifests the rollback took out.
    expect(back.stdout).toContain(
      'until its manifests change, if they are the ones this rollback took out; watching other manifests, it applies them',
    );
    expect(back.stdout).not.toContain('pfexpose watch, if it runs, keeps this ruleset');
  });

  it('rollback with no earlier ruleset, and confirm with nothing to confirm, exit 1', async () => {
    const back = await pfexpose('rollback');
    expect(back.code).toBe(1);
    expect(back.stderr).toContain('nothing to roll back to');
    const confirm = await pfexpose('confirm');
    expect(confirm.code).toBe(1);
    expect(confirm.stderr).toContain('nothing awaits confirmation');
  });

  it('applies a saved plan only while the deployed state is the one it was made against', async () => {
    expect((await pfexpose('apply', 'a')).code).toBe(0);
    const plan = await pfexpose('plan', 'b', '--live', '-o', 'plan.json');
    expect([0, 2], plan.stderr).toContain(plan.code);
    await pf.writeAnchor('pfexpose', '');
    const stale = await pfexpose('apply', 'plan.json');
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('changed since the plan was made');
    expect(stale.stderr).toMatch(/\(fingerprint sha256:[0-9a-f]{12}, now sha256:[0-9a-f]{12}\)/);
    expect(await anchorLines()).toEqual([]);
    expect((await pfexpose('apply', 'a')).code).toBe(0);
    const fresh = await pfexpose('apply', 'plan.json');
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(await anchorLines()).toEqual(await compiled('b'));
  });
});

describe('pfexpose apply (built CLI, simulated pfctl)', () => {
  beforeEach(() => {
    spawned = true;
  });

  it('applies, then has nothing to do; JSON says the same', async () => {
    // The built program itself, once: its exit code and its stdout/stderr.
    expect(existsSync(CLI)).toBe(true);
    const first = await start(['apply', 'a']).done;
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('2 to add');
    expect(first.stdout).toContain('applied anchor "pfexpose": ruleset +6 -0 lines, loaded and verified (1 attempt)');
    expect(await anchorLines()).toEqual(await compiled('a'));
    const second = await start(['apply', 'a', '--format', 'json']).done;
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual({
      formatVersion: 1,
      command: 'apply',
      diagnostics: [],
      anchor: 'pfexpose',
      result: 'unchanged',
    });
    expect(Object.keys(JSON.parse(second.stdout) as object)).toEqual([
      'formatVersion',
      'command',
      'diagnostics',
      'anchor',
      'result',
    ]);
    expect(await sim.loadCalls()).toHaveLength(1);
    const current = JSON.parse(await readFile(join(work, 'state', 'current.json'), 'utf8')) as { anchor: string };
    expect(current.anchor).toBe('pfexpose');
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

  it('never interleaves two concurrent applies: a second one is refused while a load runs, or waits for it', async () => {
    // Every load is logged when it starts and when it ends, and takes 4 s: two loads that
    // overlapped would show two starts in a row.
    const log = join(work, 'loads.log');
    const pfctl = await pfctlWrapper(
      'pfctl-logging',
      [
        '[ "$LOAD" = yes ] && echo "start $$" >> "$WRAP_LOG"',
        '"$SIM" "$@"',
        'rc=$?',
        '[ "$LOAD" = yes ] && echo "end $$" >> "$WRAP_LOG"',
        'exit $rc',
      ].join('\n'),
    );
    const wrapped = { PFEXPOSE_PFCTL: pfctl, WRAP_LOG: log };
    await sim.setControl({ hangMs: 4000, hangOn: ['load'] });
    const loading = async (): Promise<string[]> =>
      existsSync(log) ? (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '') : [];
    const first = start(['apply', 'a'], wrapped);
    expect(await waitFor(async () => (await loading()).length > 0, 15_000)).toBe(true);

    // Both start while the first load runs: one is refused at once, naming the holder; the
    // other waits for the lock and loads after the first load has ended.
    const waiting = start(['apply', 'b', '--wait', '60s'], wrapped);
    const refused = await start(['apply', 'b'], wrapped).done;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`holds the lock`);
    expect(refused.stderr).toContain(`pid ${first.child.pid ?? -1} (apply`);
    expect(await loading()).toEqual([expect.stringMatching(/^start /)]);

    const [one, two] = [await first.done, await waiting.done];
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    const events = (await loading()).map((line) => line.split(' ')[0]);
    expect(events).toEqual(['start', 'end', 'start', 'end']);
    expect(await anchorLines()).toEqual(await compiled('b'));
  });

  it('recovers from kill -9 of pfexpose after the load committed: the restart records what pf holds', async () => {
    await appliedBefore('a');
    // A pfctl that commits the load, then stops before pfexpose hears back (once: the mark stays).
    const mark = join(work, 'committed');
    const pfctl = await pauseAfterCommit();
    const { child, done } = start(['apply', 'b'], { PFEXPOSE_PFCTL: pfctl, PAUSE_MARK: mark });
    expect(await waitFor(() => Promise.resolve(existsSync(mark)), 15_000)).toBe(true);
    expect(await anchorLines()).toEqual(await compiled('b'));
    child.kill('SIGKILL');
    await done;
    process.kill(Number((await readFile(mark, 'utf8')).trim()), 'SIGKILL');
    // pf holds b; the state directory still says a, and the lock is stale.
    expect(existsSync(join(work, 'state', 'lock'))).toBe(true);
    const before = JSON.parse(await readFile(join(work, 'state', 'current.json'), 'utf8')) as { ruleset: string };
    expect(normalizedLines(before.ruleset)).toEqual(await compiled('a'));

    const loads = (await sim.loadCalls()).length;
    const restart = await pfexpose('apply', 'b');
    expect(restart.code, restart.stderr).toBe(0);
    expect(restart.stderr).toContain('took over the lock left by pid');
    expect(restart.stdout).toContain('already holds this ruleset');
    expect(await sim.loadCalls()).toHaveLength(loads);
    const after = JSON.parse(await readFile(join(work, 'state', 'current.json'), 'utf8')) as { ruleset: string };
    expect(normalizedLines(after.ruleset)).toEqual(await compiled('b'));
    expect(existsSync(join(work, 'state', 'lock'))).toBe(false);
    // The history is whole again: rollback goes back to a.
    expect((await pfexpose('rollback')).code).toBe(0);
    expect(await anchorLines()).toEqual(await compiled('a'));
  });

  it('reverts by itself after kill -9 of pfexpose --confirm after the load committed', async () => {
    await appliedBefore('a');
    const mark = join(work, 'committed');
    const pfctl = await pauseAfterCommit();
    const { child, done } = start(['apply', 'b', '--confirm', '2s'], { PFEXPOSE_PFCTL: pfctl, PAUSE_MARK: mark });
    expect(await waitFor(() => Promise.resolve(existsSync(mark)), 15_000)).toBe(true);
    expect(await anchorLines()).toEqual(await compiled('b'));
    child.kill('SIGKILL');
    await done;
    process.kill(Number((await readFile(mark, 'utf8')).trim()), 'SIGKILL');
    // The watchdog started before the load puts a back at the deadline.
    expect(await waitFor(() => Promise.resolve(!existsSync(join(work, 'state', 'pending-confirm.json'))), 20_000)).toBe(
      true,
    );
    expect(await anchorLines()).toEqual(await compiled('a'));
    const current = JSON.parse(await readFile(join(work, 'state', 'current.json'), 'utf8')) as { kind: string };
    expect(current.kind).toBe('confirm-revert');
    const late = await pfexpose('confirm');
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('nothing awaits confirmation');
  });

  it('--confirm: a load pfctl rejects leaves no window behind, so confirm has nothing to keep and the next apply goes through', async () => {
    await appliedBefore('a');
    // The dry run passes; the load itself is refused (a limit pfctl only meets when loading).
    const pfctl = await pfctlWrapper(
      'pfctl-rejecting-loads',
      [
        'if [ "$LOAD" = yes ]; then',
        // pfctl names the file it was given (the last argument) in its errors.
        '  for a; do FILE=$a; done',
        '  echo "$FILE:3: cannot define table pfexpose: Cannot allocate memory" >&2',
        '  echo "pfctl: Syntax error in config file: pf rules not loaded" >&2',
        '  exit 1',
        'fi',
        'exec "$SIM" "$@"',
      ].join('\n'),
    );
    const rejected = await start(['apply', 'b', '--confirm', '30s'], { PFEXPOSE_PFCTL: pfctl }).done;
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain('pfctl rejected the ruleset, nothing was loaded');
    expect(await anchorLines()).toEqual(await compiled('a'));
    expect(existsSync(join(work, 'state', 'pending-confirm.json'))).toBe(false);
    const confirm = await pfexpose('confirm');
    expect(confirm.code).toBe(1);
    expect(confirm.stderr).toContain('nothing awaits confirmation');
    const watchdogLog = join(work, 'state', 'confirm-watchdog.log');
    expect(
      await waitFor(
        async () => existsSync(watchdogLog) && (await readFile(watchdogLog, 'utf8')).includes('nothing to revert'),
        10_000,
      ),
    ).toBe(true);
    const next = await pfexpose('apply', 'b');
    expect(next.code, next.stderr).toBe(0);
    expect(await anchorLines()).toEqual(await compiled('b'));
  });

  it('--confirm reverts by itself when nobody confirms; confirm keeps a change', async () => {
    await appliedBefore('a');
    const trial = await pfexpose('apply', 'b', '--confirm', '1s');
    expect(trial.code, trial.stderr).toBe(0);
    expect(trial.stdout).toContain('awaiting confirmation: run pfexpose confirm before');
    expect(await anchorLines()).toEqual(await compiled('b'));
    expect(await waitFor(() => Promise.resolve(!existsSync(join(work, 'state', 'pending-confirm.json'))), 10_000)).toBe(
      true,
    );
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
});
