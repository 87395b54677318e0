// Two ways tests run the CLI: in process through main() with captured output (fast, for most
// cases), and as the built program `node bin/pfexpose.js` the way a user or CI runs it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { CliContext, SignalSource } from '../../src/cli/context.js';
import type { PfctlOptions } from '../../src/host/pfctl.js';
import type { RouteOptions } from '../../src/host/route.js';
import type { RouteTable } from '../../src/model/default-route.js';
import type { Pfctl } from '../../src/pf/pfctl-api.js';
import type { Jls } from '../../src/apply/jls-api.js';
import { main } from '../../src/cli/main.js';

export interface RunOptions {
  tty?: boolean;
  cwd?: string;
  env?: Record<string, string>;
  /** In process only: the pf that apply, plan --live and watch reach (e.g. an in-memory pf). */
  pfctl?: (options: PfctlOptions) => Pfctl;
  /** In process only: how watch asks for the default route. */
  route?: (options: RouteOptions) => RouteTable;
  /** In process only: where watch hears its signals (an EventEmitter a test emits 'SIGHUP' on). */
  signals?: SignalSource;
  /** In process only: the jails apply, plan --live, status and watch see (e.g. test/helpers/memory-jls.ts). */
  jls?: Jls;
  /**
   * In process only: the operating system the CLI believes it runs on. Default 'test': not FreeBSD,
   * so no jls is asked unless the test names one (jls, PFEXPOSE_JLS, --jls), whatever the machine.
   */
  platform?: string;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function fakeContext(options: RunOptions = {}): { ctx: CliContext; out: { stdout: string; stderr: string } } {
  const out = { stdout: '', stderr: '' };
  const ctx: CliContext = {
    stdout: { write: (s) => void (out.stdout += s), isTTY: options.tty === true },
    stderr: { write: (s) => void (out.stderr += s), isTTY: false },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    exitCode: 0,
    ...(options.pfctl === undefined ? {} : { pfctl: options.pfctl }),
    ...(options.route === undefined ? {} : { route: options.route }),
    ...(options.signals === undefined ? {} : { signals: options.signals }),
    ...(options.jls === undefined ? {} : { jls: options.jls }),
    platform: options.platform ?? 'test',
  };
  return { ctx, out };
}

export async function runInProcess(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const { ctx, out } = fakeContext(options);
  const code = await main(argv, ctx);
  return { code, ...out };
}

/**
 * Runs the CLI in process without waiting, for a command that runs until told to stop (watch with
 * options.signals): what it has written so far, and its exit code once main() returns.
 */
export function startInProcess(
  argv: string[],
  options: RunOptions = {},
): { stdout(): string; stderr(): string; done: Promise<number> } {
  const { ctx, out } = fakeContext(options);
  const done = main(argv, ctx);
  return { stdout: () => out.stdout, stderr: () => out.stderr, done };
}

export const BIN = resolve('bin/pfexpose.js');

/** Runs the built CLI; test/global-setup.ts rebuilds dist/ first when src/ is newer. */
export function runBuilt(args: string[], options: RunOptions & { input?: string; timeoutMs?: number } = {}): RunResult {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? process.cwd(),
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30_000,
    // No jls unless the test names one: the machine's own (FreeBSD's jls) is never asked by default.
    env: { ...process.env, NO_COLOR: '1', PFEXPOSE_JLS: 'none', ...options.env },
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface SpawnedRun extends RunResult {
  /** The signal that ended the process, or null. */
  signal: NodeJS.Signals | null;
  /** Wall time from spawn to close. */
  ms: number;
}

export interface StartedRun {
  child: ChildProcess;
  done: Promise<SpawnedRun>;
  /** What the process has written so far. */
  stdout(): string;
  stderr(): string;
}

/**
 * Starts the built CLI without waiting, for tests that signal, kill or race it. env is the whole
 * environment of the process (not merged with this one's), so a test says everything it depends on.
 */
export function startBuilt(args: string[], options: { cwd: string; env: Record<string, string> }): StartedRun {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    // As runBuilt: no jls unless the test names one.
    env: { PFEXPOSE_JLS: 'none', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<SpawnedRun>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started })),
  );
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

/** What a stack trace or a crash of node looks like in output: never acceptable. */
export const STACK_TRACE = /\n\s+at .+[:(].*\d+:\d+|node:internal|RangeError|TypeError|ReferenceError/;
