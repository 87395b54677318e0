// Issue 9, C1: the built CLI killed or interrupted at chosen moments of an apply whose ruleset is
// larger than a pipe's buffer, against the simulator holding pfctl at that moment. Afterwards pf
// holds the old ruleset or the complete new one, never a prefix (fed on stdin, a prefix was loaded:
// see "-f -: a writer killed mid-ruleset" in test/pfctl-sim/pfctl-sim.test.ts). What needs no
// signal (compiling, usage errors, the apply after a kill) runs the CLI in process, still against
// the simulator; the apply that sets the scene for rollback runs against the in-memory pf, and the
// simulator takes over what it loaded.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPfctl } from '../../src/host/pfctl.js';
import { normalizedLines } from '../../src/pf/rule-lines.js';
import { runInProcess, startBuilt, type StartedRun } from '../helpers/cli.js';
import { createMemoryPf } from '../helpers/memory-pf.js';
import { createSim, PFCTL_SIM, type Sim, type SimControl } from '../pfctl-sim/sim-control.js';

// Each test runs pfexpose and the simulator several times: on a busy two-core machine that takes
// far longer than the default 30 s.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

const OLD = `version: 1
containers:
  web:
    ip: 10.0.0.2
    ports:
      - "em0:8080:80"
`;

/** 400 containers: a ruleset of about 90 KB, more than the 64 KiB a pipe holds. */
function bigManifest(): string {
  let text = 'version: 1\ncontainers:\n';
  for (let i = 0; i < 400; i += 1) {
    text += `  c${i}:\n    ip: 10.1.${Math.floor(i / 250)}.${(i % 250) + 1}\n    ports:\n      - "em0:${20000 + i}:80"\n`;
  }
  return text;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let sim: Sim;
let work: string;
let env: Record<string, string>;
let bigText: string;
let bigLines: string[];
let oldText: string;
let oldLines: string[];

/** The built CLI, to be signalled. */
function start(args: string[]): StartedRun {
  return startBuilt(args, { cwd: work, env });
}

/** The CLI in process, with this test's environment (pfctl: the simulator, through the real adapter). */
function inProcess(args: string[]): ReturnType<typeof runInProcess> {
  return runInProcess(args, { cwd: work, env });
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Dead, or a zombie nobody has reaped yet (PID 1 in a container may be slow to). */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function anchorLines(): Promise<string[]> {
  return normalizedLines((await sim.readAnchor('pfexpose')) ?? '');
}

async function recordedRuleset(): Promise<string> {
  return (JSON.parse(await readFile(join(work, 'state', 'current.json'), 'utf8')) as { ruleset: string }).ruleset;
}

beforeAll(async () => {
  // The compiled rulesets do not depend on the simulator: compile them once.
  work = await mkdtemp(join(tmpdir(), 'pfexpose-interrupt-e2e-'));
  try {
    await mkdir(join(work, 'old'));
    await mkdir(join(work, 'big'));
    await writeFile(join(work, 'old', 'web.yaml'), OLD);
    await writeFile(join(work, 'big', 'big.yaml'), bigManifest());
    env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', NO_COLOR: '1' };
    const compiled = async (dir: string): Promise<string> => {
      const run = await inProcess(['compile', dir, '--gateway', 'em0']);
      expect(run.code, run.stderr).toBe(0);
      return run.stdout;
    };
    bigText = await compiled('big');
    bigLines = normalizedLines(bigText);
    oldText = await compiled('old');
    oldLines = normalizedLines(oldText);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  expect(bigText.length).toBeGreaterThan(64 * 1024);
});

beforeEach(async () => {
  sim = await createSim({ routeIf: 'em0' });
  work = await mkdtemp(join(tmpdir(), 'pfexpose-interrupt-e2e-'));
  await mkdir(join(work, 'old'));
  await mkdir(join(work, 'big'));
  await mkdir(join(work, 'tmp'), { mode: 0o700 });
  await writeFile(join(work, 'old', 'web.yaml'), OLD);
  await writeFile(join(work, 'big', 'big.yaml'), bigManifest());
  env = {
    ...sim.env,
    PFEXPOSE_PFCTL: PFCTL_SIM,
    PFEXPOSE_STATE_DIR: join(work, 'state'),
    // Where pfexpose makes its load directories: this test's own, so what a kill leaves is seen here.
    TMPDIR: join(work, 'tmp'),
    NO_COLOR: '1',
  };
  // What pf holds before: as if applied earlier (written directly, to keep the test quick).
  await sim.writeAnchor('pfexpose', oldText);
});
afterEach(async () => {
  await sim.hold(false);
  await sim.cleanup();
  await rm(work, { recursive: true, force: true });
});

type Moment = 'the dry run' | 'the load, before pfctl reads' | 'the load, mid-read';

const HOLDS: Record<Moment, SimControl> = {
  'the dry run': { holdOn: ['dry-run'], holdAt: 'mid-read', readChunkBytes: 4096 },
  'the load, before pfctl reads': { holdOn: ['load'], holdAt: 'start' },
  'the load, mid-read': { holdOn: ['load'], holdAt: 'mid-read', readChunkBytes: 4096 },
};

/**
 * Starts `pfexpose ARGS` with the simulator holding pfctl at `moment`, sends `signals` once it is
 * held (waiting for pfexpose to say it received each handled one), then lets pfctl go on.
 * Returns the run and the pid of the pfctl run that was held.
 */
async function interrupt(
  args: string[],
  moment: Moment,
  signals: NodeJS.Signals[],
): Promise<{ run: Run; heldPid: number }> {
  await sim.setControl(HOLDS[moment]);
  await sim.hold(true);
  const apply = start(args);
  await waitUntil(`pfctl held at ${moment}`, async () => (await sim.holds()).length > 0);
  const held = (await sim.holds())[0]!;
  if (moment === 'the load, mid-read') {
    // It has read a part of the file only.
    const reads = (await sim.reads()).filter((r) => r.pid === held.pid);
    expect(reads.map((r) => r.bytes)).toEqual([4096]);
  }
  let count = 0;
  for (const signal of signals) {
    apply.child.kill(signal);
    if (signal === 'SIGKILL') {
      await apply.done;
      break;
    }
    count += 1;
    const said = count === 1 ? `${signal} received:` : `${signal} received again`;
    await waitUntil(`pfexpose to say "${said}"`, () => apply.stderr().includes(said));
  }
  await sim.hold(false);
  const run = await apply.done;
  // A pfctl that outlived a killed pfexpose finishes by itself: wait for it.
  await waitUntil('the held pfctl to end', () => isGone(held.pid));
  return { run, heldPid: held.pid };
}

/**
 * Each signal at a moment before the load (the dry run: abandoned) and at one during it (finished),
 * SIGKILL also while pfctl sleeps before reading; a handled signal is followed by a second one,
 * which must not cut the transaction short either.
 */
const CASES: [NodeJS.Signals, Moment, NodeJS.Signals[]][] = [
  ['SIGKILL', 'the dry run', ['SIGKILL']],
  ['SIGKILL', 'the load, before pfctl reads', ['SIGKILL']],
  ['SIGTERM', 'the dry run', ['SIGTERM']],
  ['SIGTERM', 'the load, mid-read', ['SIGTERM', 'SIGTERM']],
  ['SIGINT', 'the dry run', ['SIGINT', 'SIGINT']],
  ['SIGINT', 'the load, mid-read', ['SIGINT', 'SIGTERM']],
  ['SIGHUP', 'the dry run', ['SIGHUP']],
  ['SIGHUP', 'the load, before pfctl reads', ['SIGHUP', 'SIGINT']],
];

describe('apply interrupted while pfctl works on a ruleset larger than a pipe holds', () => {
  it.each(CASES)(
    '%s during %s: pf holds the old ruleset or the complete new one, never a prefix',
    async (signal, moment, signals) => {
      // 1h: the longest --pfctl-timeout there is, accepted.
      const { run } = await interrupt(['apply', 'big', '--pfctl-timeout', '1h'], moment, signals);
      const after = await anchorLines();
      // The property: one of the two complete rulesets.
      expect([oldLines, bigLines]).toContainEqual(after);
      if (moment === 'the dry run') {
        // Stopped before the load: no load ever started.
        expect(after).toEqual(oldLines);
        expect(await sim.loadCalls()).toEqual([]);
      } else {
        // pfctl had the whole file before it read a byte: the load went through whole.
        expect(after).toEqual(bigLines);
      }
      if (signal === 'SIGKILL') {
        expect(run.signal).toBe('SIGKILL');
        return;
      }
      if (moment === 'the dry run') {
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).toContain(`interrupted by ${signal} before the load: nothing was loaded`);
      } else {
        // The transaction ran to its end: read back, recorded, exit 0.
        expect(run.code, run.stderr).toBe(0);
        expect(run.stderr).toContain(
          `${signal} came when the transaction could no longer stop before its load: it ran to its end before exiting (exit 0)`,
        );
        expect(normalizedLines(await recordedRuleset())).toEqual(bigLines);
      }
    },
  );

  it('SIGKILL mid-read: pfctl still loads the whole file; the load directory left behind is removed by the next load, nothing else', async () => {
    const { heldPid } = await interrupt(['apply', 'big'], 'the load, mid-read', ['SIGKILL']);
    expect(await anchorLines()).toEqual(bigLines);
    const left = await readdir(join(work, 'tmp'));
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^pfexpose-load-\d+-\w{6}$/);
    // The killed run had written the file in full before pfctl started.
    expect(await readFile(join(work, 'tmp', left[0]!, 'ruleset.conf'), 'utf8')).toBe(bigText);
    expect(isGone(heldPid)).toBe(true);
    await writeFile(join(work, 'tmp', 'unrelated.txt'), "not pfexpose's\n");
    await sim.setControl({});
    // In process, against the simulator: the adapter makes its load directory where the built CLI's
    // TMPDIR would have it.
    const next = await runInProcess(['apply', 'old'], {
      cwd: work,
      env,
      pfctl: (options) => createPfctl({ ...options, loadDir: join(work, 'tmp') }),
    });
    expect(next.code, next.stderr).toBe(0);
    expect(await readdir(join(work, 'tmp'))).toEqual(['unrelated.txt']);
  });

  it('rollback: SIGTERM during its load lets it finish', async () => {
    // pf held the old ruleset, then an apply loaded big: in memory, then handed to the simulator.
    const pf = createMemoryPf();
    await pf.writeAnchor('pfexpose', oldText);
    const applied = await runInProcess(['apply', 'big'], { cwd: work, env, pfctl: (options) => pf.pfctl(options) });
    expect(applied.code, applied.stderr).toBe(0);
    await sim.writeAnchor('pfexpose', (await pf.readAnchor('pfexpose')) ?? '');
    const { run } = await interrupt(['rollback'], 'the load, before pfctl reads', ['SIGTERM']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('rolled back anchor "pfexpose"');
    expect(await anchorLines()).toEqual(oldLines);
  });
});

describe('--pfctl-timeout', () => {
  it.each([['apply', 'big'], ['rollback'], ['confirm']])(
    '%s: 2147483648 ms is a usage error (Node would fire its timer at once), before pfctl runs',
    async (...command) => {
      for (const value of ['2147483648', '2147483648ms', '2h']) {
        const run = await inProcess([...command, '--pfctl-timeout', value]);
        expect(run.code).toBe(2);
        expect(run.stderr).toContain(`--pfctl-timeout ${value} is out of range: use 1ms to 1h`);
      }
      expect(await sim.calls()).toEqual([]);
      expect(await anchorLines()).toEqual(oldLines);
    },
  );
});
