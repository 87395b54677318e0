// The harness of the `pfexpose watch` end-to-end tests (watch.test.ts, watch-more.test.ts), split
// in two files so that vitest runs them side by side: agents in process and spawned, the waits,
// the CLI beside an agent, /healthz. Each test file registers `afterEach(runCleanups)` itself: test
// files share this module when vitest runs without isolation, and a hook registered on import would
// belong to the first file only.
import { execFile, spawn } from 'node:child_process';
import type { Jls } from '../../src/apply/jls-api.js';
import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runInProcess, startInProcess, type RunResult } from '../helpers/cli.js';
import { createMemoryPf, memoryRouteTable, type MemoryPf } from '../helpers/memory-pf.js';
import { createSim, PFCTL_SIM, ROUTE_SIM } from '../pfctl-sim/sim-control.js';
import type { Sim } from '../pfctl-sim/sim-control.js';

export const run = promisify(execFile);
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(root, 'bin', 'pfexpose.js');
export const WAIT_MS = 45_000;

export interface LogLine {
  time: string;
  level: string;
  event: string;
  message: string;
  [key: string]: unknown;
}

export interface Agent {
  /** The log so far, one parsed JSON line each. */
  readonly lines: LogLine[];
  stderr: () => string;
  /** A real signal to a spawned agent; to an agent in process, the same signal on its ctx.signals. */
  signal(name: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** What the waits read of pf: the simulator and the in-memory pf alike. */
export interface Pf {
  readAnchor(name: string): Promise<string | undefined>;
}

export const cleanups: (() => Promise<void>)[] = [];

/** Ends what the test set up, newest first: agents stopped, simulators and directories removed. */
export async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

export async function setup(): Promise<{ sim: Sim; pf: MemoryPf; dir: string; manifests: string; state: string }> {
  const sim = await createSim({ routeIf: 'em0' });
  const pf = createMemoryPf();
  const dir = await mkdtemp(join(tmpdir(), 'pfexpose-watch-'));
  const manifests = join(dir, 'manifests');
  await mkdir(manifests);
  cleanups.push(async () => {
    // A killed agent's pfctl runs in a process group of its own and may still be appending to the
    // simulator's log while its directory is removed (ENOTEMPTY): try again for a moment.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await sim.cleanup();
        break;
      } catch (error) {
        if (attempt >= 10 || (error as NodeJS.ErrnoException).code !== 'ENOTEMPTY') throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    await rm(dir, { recursive: true, force: true });
  });
  return { sim, pf, dir, manifests, state: join(dir, 'state') };
}

export function manifest(container: string, ip: string, ports: string[]): string {
  return [
    'version: 1',
    'containers:',
    `  ${container}:`,
    `    ip: ${ip}`,
    '    ports:',
    ...ports.map((p) => `      - "${p}"`),
    '',
  ].join('\n');
}

/** maxFiles: run the agent under `ulimit -n maxFiles`. */
export function startAgent(sim: Sim, state: string, args: string[], cwd?: string, maxFiles?: number): Agent {
  const argv = [
    CLI,
    'watch',
    ...args,
    '--pfctl',
    PFCTL_SIM,
    '--route',
    ROUTE_SIM,
    '--state-dir',
    state,
    '--log-format',
    'json',
    '--log-level',
    'debug',
  ];
  const child = spawn(
    maxFiles === undefined ? process.execPath : '/bin/sh',
    maxFiles === undefined ? argv : ['-c', `ulimit -n ${maxFiles} && exec "$0" "$@"`, process.execPath, ...argv],
    { env: { ...sim.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd === undefined ? {} : { cwd }) },
  );
  const lines: LogLine[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const part of parts) if (part !== '') lines.push(JSON.parse(part) as LogLine);
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once('exit', (code, signal) => done({ code, signal }));
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { lines, stderr: () => stderr, signal: (name) => void child.kill(name), exited };
}

/**
 * The agent in process with startAgent's flags, against the in-memory pf and a route(8) that names
 * em0 (as the simulator's does here). Signals go to an emitter of its own; cleanup sends SIGTERM and
 * waits for watch to return.
 */
export function startAgentInProcess(
  pf: MemoryPf,
  state: string,
  args: string[],
  options: { cwd?: string; env?: Readonly<Record<string, string | undefined>>; jls?: Jls } = {},
): Agent {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[name] = value;
  env['NO_COLOR'] = '1';
  const signals = new EventEmitter();
  const argv = ['watch', ...args, '--state-dir', state, '--log-format', 'json', '--log-level', 'debug'];
  const started = startInProcess(argv, {
    env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    pfctl: (pfctlOptions) => pf.pfctl(pfctlOptions),
    route: () => memoryRouteTable('em0'),
    signals,
    ...(options.jls === undefined ? {} : { jls: options.jls }),
  });
  let finished = false;
  const exited = started.done.then((code) => {
    finished = true;
    return { code, signal: null };
  });
  const lines: LogLine[] = [];
  let parsedUpTo = 0;
  const agent: Agent = {
    get lines() {
      const text = started.stdout();
      const end = text.lastIndexOf('\n') + 1;
      if (end > parsedUpTo) {
        for (const part of text.slice(parsedUpTo, end).split('\n'))
          if (part !== '') lines.push(JSON.parse(part) as LogLine);
        parsedUpTo = end;
      }
      return lines;
    },
    stderr: () => started.stderr(),
    signal: (name) => void signals.emit(name, name),
    exited,
  };
  cleanups.push(async () => {
    if (!finished) {
      signals.emit('SIGTERM', 'SIGTERM');
      await exited;
    }
  });
  return agent;
}

/**
 * watch in process with startAgent's flags, for the usage errors it refuses before it starts: those
 * return, where an agent that started would not. pf is the in-memory one, through the real adapter.
 */
export function watchInProcess(pf: MemoryPf, state: string, args: string[]): Promise<RunResult> {
  const argv = ['watch', ...args, '--state-dir', state];
  return runInProcess([...argv, '--log-format', 'json', '--log-level', 'debug'], {
    env: { NO_COLOR: '1' },
    pfctl: (options) => pf.pfctl(options),
    route: () => memoryRouteTable('em0'),
  });
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  agent?: Agent,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const log =
        agent === undefined
          ? ''
          : `\nlog:\n${agent.lines.map((l) => `${l.event}: ${l.message}`).join('\n')}\nstderr: ${agent.stderr()}`;
      throw new Error(`timed out waiting for ${what}${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function eventAfter(agent: Agent, event: string, index: number): LogLine | undefined {
  return agent.lines.slice(index).find((line) => line.event === event);
}

export async function anchorWith(sim: Pf, agent: Agent, text: string): Promise<string> {
  return waitFor(
    `the anchor to contain ${text}`,
    async () => {
      const anchor = await sim.readAnchor('pfexpose');
      return anchor?.includes(text) === true ? anchor : undefined;
    },
    agent,
  );
}

/** The agent has finished applying (load verified, state recorded), and the anchor holds text. */
export async function appliedWith(sim: Pf, agent: Agent, text: string): Promise<string> {
  await waitFor('the applied event', () => agent.lines.find((l) => l.event === 'applied'), agent);
  return anchorWith(sim, agent, text);
}

/** The CLI in process beside an agent in process, with the same in-memory pf and state directory. */
export function cliInProcess(pf: MemoryPf, state: string, args: string[], cwd?: string): Promise<RunResult> {
  return runInProcess([...args, '--state-dir', state], {
    env: { NO_COLOR: '1' },
    pfctl: (options) => pf.pfctl(options),
    ...(cwd === undefined ? {} : { cwd }),
  });
}

/** The CLI beside a spawned agent, with the same simulator and state directory. */
export async function cli(
  sim: Sim,
  state: string,
  args: string[],
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const done = await run(process.execPath, [CLI, ...args, '--pfctl', PFCTL_SIM, '--state-dir', state], {
      env: { ...sim.env, NO_COLOR: '1' },
      ...(cwd === undefined ? {} : { cwd }),
    });
    return { code: 0, stdout: done.stdout, stderr: done.stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

export async function health(
  agent: Agent,
): Promise<{ status: number; body: { healthy: boolean; status: string; reason: string | null } }> {
  const started = agent.lines.find((l) => l.event === 'started');
  const response = await fetch(`http://${String(started?.['metrics'])}/healthz`);
  return {
    status: response.status,
    body: (await response.json()) as { healthy: boolean; status: string; reason: string | null },
  };
}
