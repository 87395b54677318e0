// Drives the pfctl simulator from vitest: makes a fresh simulator directory, switches faults on,
// writes the main ruleset, and reads back anchors and the call log. See README.md beside it.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

// The node simulator's own code keeps the answers the shell script gives (see README.md).
const simulator = (await import(new URL('./pfctl-sim.mjs', import.meta.url).href)) as {
  prepareAnswers: (dir: string) => Promise<void>;
};
const { prepareAnswers } = simulator;

/** The operations the shell script answers: faults on them are for node alone (see controlTouchesReads). */
const SCRIPT_OPERATIONS = ['status', 'show', 'tables'];

/** Whether a fault changes what `-s info`, `-sn`, `-sr` or `-s Tables` print or how long they take. */
function controlTouchesReads(control: SimControl): boolean {
  const on = (ops: readonly string[] | undefined): boolean =>
    ops === undefined || ops.some((op) => SCRIPT_OPERATIONS.includes(op));
  return (
    control.fail !== undefined ||
    control.showError !== undefined ||
    (control.hangMs !== undefined && on(control.hangOn)) ||
    (control.holdOn !== undefined && control.holdOn.some((op) => SCRIPT_OPERATIONS.includes(op)))
  );
}

/** The simulator executables, to pass as `--pfctl` / `--route` or PFEXPOSE_PFCTL / PFEXPOSE_ROUTE. */
export const PFCTL_SIM = join(here, 'pfctl');
export const ROUTE_SIM = join(here, 'route');

export interface SimControl {
  fail?: string;
  busyLoads?: number;
  hangMs?: number | 'forever';
  hangOn?: ('status' | 'show' | 'tables' | 'labels' | 'dry-run' | 'load' | 'kill' | 'flush' | 'enable' | 'disable')[];
  /** Loads and dry runs read their input in chunks of readChunkBytes, pausing this long after each. */
  readDelayMs?: number;
  /** Default 4096. */
  readChunkBytes?: number;
  /** While the hold file exists (Sim.hold), these operations wait: see holdAt. */
  holdOn?: ('status' | 'show' | 'tables' | 'dry-run' | 'load' | 'kill' | 'flush' | 'enable' | 'disable')[];
  /** 'start' (default): before doing anything; 'mid-read': loads and dry runs, after their first chunk. */
  holdAt?: 'start' | 'mid-read';
  dieLoads?: number;
  dieWhen?: 'before-commit' | 'after-commit';
  showError?: string;
  killedStates?: number;
  /** What `-a NAME -s labels` prints per labelled filter rule (a list: the label's 1st, 2nd, ... rule). */
  labelCounters?: Record<string, SimCounters | SimCounters[]>;
}

/** One rule's counters in `pfctl -s labels` (each default 0). */
export interface SimCounters {
  evaluations?: number;
  packets?: number;
  bytes?: number;
  inPackets?: number;
  inBytes?: number;
  outPackets?: number;
  outBytes?: number;
  states?: number;
}

export interface SimCall {
  time: string;
  pid: number;
  argv: string[];
}

/** One line of holds.log: a run (pid) began to wait for the hold file to go. */
export interface SimHold {
  pid: number;
  op: string;
  at: 'start' | 'mid-read';
}

/** One line of reads.log: how far a load or dry run (pid) has read its input (file: `-` or a path). */
export interface SimRead {
  pid: number;
  file: string;
  bytes: number;
  eof?: true;
}

export interface Sim {
  dir: string;
  /** Environment for the program under test: PFCTL_SIM_DIR plus the route stand-in's answers. */
  env: Record<string, string>;
  setControl(control: SimControl): Promise<void>;
  /** The main ruleset in printed form (-sn and -sr lines mixed); default calls anchor "pfexpose". */
  writeMain(text: string): Promise<void>;
  setEnabled(enabled: boolean): Promise<void>;
  /** An anchor's rules as last loaded, or undefined when it was never loaded. */
  readAnchor(name: string): Promise<string | undefined>;
  writeAnchor(name: string, text: string): Promise<void>;
  calls(): Promise<SimCall[]>;
  /** Runs that tried to load (pfctl -f without -n), whatever their outcome. */
  loadCalls(): Promise<SimCall[]>;
  /** With readDelayMs (or a mid-read hold): the progress of every read so far, in order. */
  reads(): Promise<SimRead[]>;
  /** Creates (true) or removes (false) the hold file that control.holdOn waits on. */
  hold(on: boolean): Promise<void>;
  /** The holds begun so far, in order. */
  holds(): Promise<SimHold[]>;
  cleanup(): Promise<void>;
}

export async function createSim(options: { routeIf?: string; route6If?: string } = {}): Promise<Sim> {
  // The simulator reads rules with the project's parser as built into dist/: say so plainly.
  if (!existsSync(join(here, '..', '..', 'dist', 'pf', 'parse-pfctl.js'))) {
    throw new Error('the pfctl simulator needs the built parser (dist/pf/parse-pfctl.js): run npm run build first');
  }
  const dir = await mkdtemp(join(tmpdir(), 'pfctl-sim-'));
  await mkdir(join(dir, 'anchors'));
  await prepareAnswers(dir);
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    PFCTL_SIM_DIR: dir,
    PFCTL_SIM_ROUTE_IF: options.routeIf ?? '',
    PFCTL_SIM_ROUTE6_IF: options.route6If ?? '',
  };
  const anchorPath = (name: string): string => join(dir, 'anchors', `${name}.conf`);
  const jsonLines = async <T>(name: string): Promise<T[]> => {
    if (!existsSync(join(dir, name))) return [];
    const text = await readFile(join(dir, name), 'utf8');
    // A line being appended right now may be incomplete: only whole lines count.
    return text
      .split('\n')
      .slice(0, -1)
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as T);
  };
  const calls = (): Promise<SimCall[]> => jsonLines<SimCall>('calls.log');
  return {
    dir,
    env,
    async setControl(control) {
      // Renamed into place: a simulator running at this moment reads the old faults or the new.
      // control.plain tells the shell script that these faults leave its reads alone: it is taken
      // away before faults that touch them arrive, and put back only after those are gone.
      const plain = join(dir, 'control.plain');
      const touches = controlTouchesReads(control);
      if (touches) await unlink(plain).catch(() => undefined);
      await writeFile(join(dir, 'control.json.new'), `${JSON.stringify(control)}\n`);
      await rename(join(dir, 'control.json.new'), join(dir, 'control.json'));
      if (!touches) await writeFile(plain, '');
    },
    async writeMain(text) {
      await writeFile(join(dir, 'main.conf'), text);
      await prepareAnswers(dir);
    },
    async setEnabled(enabled) {
      if (enabled) await unlink(join(dir, 'disabled')).catch(() => undefined);
      else await writeFile(join(dir, 'disabled'), '');
    },
    async readAnchor(name) {
      return existsSync(anchorPath(name)) ? readFile(anchorPath(name), 'utf8') : undefined;
    },
    async writeAnchor(name, text) {
      await writeFile(anchorPath(name), text);
    },
    calls,
    async loadCalls() {
      return (await calls()).filter((call) => {
        const flags = call.argv.filter((arg) => arg.startsWith('-') && arg !== '-');
        return flags.some((flag) => flag.includes('f')) && !flags.some((flag) => flag.includes('n') && flag !== '-sn');
      });
    },
    reads() {
      return jsonLines<SimRead>('reads.log');
    },
    async hold(on) {
      if (on) await writeFile(join(dir, 'hold'), '');
      else await unlink(join(dir, 'hold')).catch(() => undefined);
    },
    holds() {
      return jsonLines<SimHold>('holds.log');
    },
    async cleanup() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
