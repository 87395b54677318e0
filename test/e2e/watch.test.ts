// `pfexpose watch` end to end. Most tests run the agent in process against the in-memory pf (under
// the real pfctl adapter) with a stand-in for route(8), and change manifests, flush the anchor,
// send signals (to CliContext.signals) and pull git checkouts while it runs. What needs a real
// process (the signals themselves and the exit code, ulimit -n, a file read that never returns,
// the apply --confirm watchdog) runs the built CLI as a child process against the pfctl simulator.
// Every wait polls for a condition with a generous deadline, so a loaded machine is slower, not red.
// Tests that do not test --settle use 200ms, not the default 2 s, so each change costs less waiting.
import { execFile, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { mkdir, mkdtemp, open, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { runInProcess, startInProcess, type RunResult } from '../helpers/cli.js';
import { createMemoryPf, memoryRouteTable, type MemoryPf } from '../helpers/memory-pf.js';
import { createSim, PFCTL_SIM, ROUTE_SIM } from '../pfctl-sim/sim-control.js';
import type { Sim } from '../pfctl-sim/sim-control.js';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(root, 'bin', 'pfexpose.js');
const WAIT_MS = 45_000;

interface LogLine {
  time: string;
  level: string;
  event: string;
  message: string;
  [key: string]: unknown;
}

interface Agent {
  /** The log so far, one parsed JSON line each. */
  readonly lines: LogLine[];
  stderr: () => string;
  /** A real signal to a spawned agent; to an agent in process, the same signal on its ctx.signals. */
  signal(name: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** What the waits read of pf: the simulator and the in-memory pf alike. */
interface Pf {
  readAnchor(name: string): Promise<string | undefined>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(): Promise<{ sim: Sim; pf: MemoryPf; dir: string; manifests: string; state: string }> {
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

function manifest(container: string, ip: string, ports: string[]): string {
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
function startAgent(sim: Sim, state: string, args: string[], cwd?: string, maxFiles?: number): Agent {
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
function startAgentInProcess(
  pf: MemoryPf,
  state: string,
  args: string[],
  options: { cwd?: string; env?: Readonly<Record<string, string | undefined>> } = {},
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
function watchInProcess(pf: MemoryPf, state: string, args: string[]): Promise<RunResult> {
  const argv = ['watch', ...args, '--state-dir', state];
  return runInProcess([...argv, '--log-format', 'json', '--log-level', 'debug'], {
    env: { NO_COLOR: '1' },
    pfctl: (options) => pf.pfctl(options),
    route: () => memoryRouteTable('em0'),
  });
}

async function waitFor<T>(
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

function eventAfter(agent: Agent, event: string, index: number): LogLine | undefined {
  return agent.lines.slice(index).find((line) => line.event === event);
}

async function anchorWith(sim: Pf, agent: Agent, text: string): Promise<string> {
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
async function appliedWith(sim: Pf, agent: Agent, text: string): Promise<string> {
  await waitFor('the applied event', () => agent.lines.find((l) => l.event === 'applied'), agent);
  return anchorWith(sim, agent, text);
}

describe('pfexpose watch', () => {
  it('follows manifests as they are created, modified, renamed and deleted', async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['8080:80']));
    const agent = startAgentInProcess(pf, state, [manifests, '--debounce', '200ms', '--settle', '200ms']);
    // No gateway in the manifests: the agent asks route(8), whose stand-in says em0.
    expect(await anchorWith(pf, agent, 'port = 8080')).toContain('on em0');

    let mark = agent.lines.length;
    await writeFile(join(manifests, 'db.yaml'), manifest('db', '10.13.37.11', ['em0:5432:5432']));
    await anchorWith(pf, agent, 'port = 5432');

    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['8081:80']));
    const anchor = await anchorWith(pf, agent, 'port = 8081');
    expect(anchor).not.toContain('port = 8080');
    const applied = await waitFor(
      'the applied event',
      () => [...agent.lines.slice(mark)].reverse().find((l) => l.event === 'applied'),
      agent,
    );
    expect(applied['exposures']).toBe(2);

    mark = agent.lines.length;
    await rename(join(manifests, 'db.yaml'), join(manifests, 'postgres.yaml'));
    const after = await waitFor(
      'a cycle after the rename',
      () => eventAfter(agent, 'unchanged', mark) ?? eventAfter(agent, 'applied', mark),
      agent,
    );
    expect(after['reread']).toBe(1);
    expect(await pf.readAnchor('pfexpose')).toContain('port = 5432');

    await unlink(join(manifests, 'postgres.yaml'));
    await waitFor('the db exposure to go', async () => !(await pf.readAnchor('pfexpose'))?.includes('5432'), agent);
    expect(await pf.readAnchor('pfexpose')).toContain('port = 8081');
  }, 120_000);

  it('turns 500 rapid writes into the final state with few loads', async () => {
    const { pf, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:9999:80']));
    const agent = startAgentInProcess(pf, state, [manifests, '--debounce', '300ms']);
    await anchorWith(pf, agent, 'port = 9999');
    const before = (await pf.loadCalls()).length;
    for (let i = 0; i < 500; i += 1) await writeFile(file, manifest('web', '10.13.37.10', [`em0:${10000 + i}:80`]));
    const anchor = await anchorWith(pf, agent, 'port = 10499');
    expect(anchor).not.toContain('port = 10498');
    // Let any cycle still queued run out before counting.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const loads = (await pf.loadCalls()).length - before;
    expect(loads).toBeGreaterThanOrEqual(1);
    expect(loads).toBeLessThanOrEqual(5);
  }, 120_000);

  it('never lets an invalid manifest reach pf', async () => {
    const { pf, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [manifests, '--debounce', '200ms', '--settle', '200ms']);
    await anchorWith(pf, agent, 'port = 8080');
    const loads = (await pf.loadCalls()).length;
    const mark = agent.lines.length;
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80', 'em0:70000:80']));
    const invalid = await waitFor('manifests-invalid', () => eventAfter(agent, 'manifests-invalid', mark), agent);
    expect(JSON.stringify(invalid['diagnostics'])).toContain('web.yaml:7:');
    expect((await pf.loadCalls()).length).toBe(loads);
    expect(await pf.readAnchor('pfexpose')).not.toContain('70000');
    // The next valid version goes through.
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80', 'em0:7000:80']));
    await anchorWith(pf, agent, 'port = 7000');
  }, 120_000);

  it('repairs a flushed anchor within one reconcile and reports it in /metrics', async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [manifests, '--interval', '2s', '--metrics', '127.0.0.1:0']);
    const started = await waitFor('started', () => agent.lines.find((l) => l.event === 'started'), agent);
    const metricsUrl = `http://${String(started['metrics'])}/metrics`;
    const applied = await appliedWith(pf, agent, 'port = 8080');
    const mark = agent.lines.length;
    await pf.runner('pfctl', ['-a', 'pfexpose', '-F', 'all']);
    expect(await pf.readAnchor('pfexpose')).toBe('');
    const repaired = await waitFor('drift-repaired', () => eventAfter(agent, 'drift-repaired', mark), agent);
    expect(await pf.readAnchor('pfexpose')).toBe(applied);
    // Within one reconcile: at most one that had read the anchor before the flush came between.
    const between = agent.lines.slice(mark, agent.lines.indexOf(repaired));
    expect(between.filter((l) => l.event === 'in-sync').length).toBeLessThanOrEqual(1);
    const text = await (await fetch(metricsUrl)).text();
    expect(text).toContain('pfexpose_drift_repairs_total 1');
    expect(text).toContain('pfexpose_exposures 1');
    expect(text).toContain('pfexpose_last_apply_success 1');
    expect(text).toMatch(/^pfexpose_applies_total\{result="applied"\} 2$/m);
    const health = await fetch(metricsUrl.replace('/metrics', '/healthz'));
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ healthy: true, status: 'ok' });
  }, 120_000);

  it('only reports drift with --drift warn, once while it lasts', async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [
      manifests,
      '--interval',
      '1s',
      '--drift',
      'warn',
      '--metrics',
      '127.0.0.1:0',
    ]);
    await appliedWith(pf, agent, 'port = 8080');
    const loads = (await pf.loadCalls()).length;
    const mark = agent.lines.length;
    await pf.writeAnchor('pfexpose', '');
    const drift = await waitFor('drift', () => eventAfter(agent, 'drift', mark), agent);
    expect(drift['level']).toBe('warn');
    // The exposure's rdr, pass out and pass in rules.
    expect(drift['missing']).toBe(3);
    // Later reconciles find the same drift: only a debug line each, and it is counted once.
    await waitFor(
      'two more reconciles',
      () => agent.lines.slice(mark).filter((l) => l.event === 'drift').length >= 3,
      agent,
    );
    expect(
      agent.lines
        .slice(mark)
        .filter((l) => l.event === 'drift')
        .map((l) => l.level)
        .slice(0, 3),
    ).toEqual(['warn', 'debug', 'debug']);
    const metrics = await (
      await fetch(`http://${String(agent.lines.find((l) => l.event === 'started')?.['metrics'])}/metrics`)
    ).text();
    expect(metrics).toContain('pfexpose_drift_detected_total 1');
    expect(await pf.readAnchor('pfexpose')).toBe('');
    expect((await pf.loadCalls()).length).toBe(loads);
  }, 120_000);

  it('reconciles on SIGHUP', async () => {
    const { sim, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgent(sim, state, [manifests, '--interval', '0']);
    const applied = await appliedWith(sim, agent, 'port = 8080');
    await sim.writeAnchor('pfexpose', '');
    const mark = agent.lines.length;
    agent.signal('SIGHUP');
    await waitFor('drift-repaired', () => eventAfter(agent, 'drift-repaired', mark), agent);
    expect(await sim.readAnchor('pfexpose')).toBe(applied);
    expect(agent.lines.slice(mark).map((l) => l.event)).toContain('reconcile-requested');
  }, 120_000);

  it('finishes the apply in progress on SIGTERM and exits 0', async () => {
    const { sim, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    await sim.setControl({ hangMs: 2500, hangOn: ['load'] });
    const agent = startAgent(sim, state, [manifests]);
    await waitFor('the load to start', async () => (await sim.loadCalls()).length > 0, agent);
    agent.signal('SIGTERM');
    const exit = await agent.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await sim.readAnchor('pfexpose')).toContain('port = 8080');
    const events = agent.lines.map((l) => l.event);
    expect(events).toContain('applied');
    expect(events.indexOf('stopping')).toBeLessThan(events.indexOf('applied'));
    expect(events.at(-1)).toBe('stopped');
  }, 120_000);

  it('applies what a pull brings, and leaves everything as it is when a pull fails', async () => {
    const { pf, dir, state } = await setup();
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.org',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.org',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: dir,
    };
    const git = (cwd: string, ...args: string[]) =>
      run('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env });
    const origin = join(dir, 'origin.git');
    const author = join(dir, 'author');
    const host = join(dir, 'host');
    await git(dir, 'init', '--bare', origin);
    await git(dir, 'clone', origin, author);
    await writeFile(join(author, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    await git(author, 'add', '.');
    await git(author, 'commit', '-m', 'web');
    await git(author, 'push', 'origin', 'HEAD:main');
    await git(dir, 'clone', '--branch', 'main', origin, host);

    const agent = startAgentInProcess(
      pf,
      state,
      [host, '--pull', '1s', '--frozen', '--settle', '200ms', '--metrics', '127.0.0.1:0'],
      { env },
    );
    await anchorWith(pf, agent, 'port = 8080');

    await writeFile(join(author, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8443:443']));
    await git(author, 'commit', '-am', 'tls');
    await git(author, 'push', 'origin', 'HEAD:main');
    await anchorWith(pf, agent, 'port = 8443');
    expect(agent.lines.map((l) => l.event)).toContain('pulled');

    const anchor = await pf.readAnchor('pfexpose');
    const head = (await git(host, 'rev-parse', 'HEAD')).stdout;
    await git(host, 'remote', 'set-url', 'origin', join(dir, 'gone.git'));
    const mark = agent.lines.length;
    const failed = await waitFor('pull-failed', () => eventAfter(agent, 'pull-failed', mark), agent);
    expect(failed['level']).toBe('error');
    expect((await git(host, 'rev-parse', 'HEAD')).stdout).toBe(head);
    expect(await pf.readAnchor('pfexpose')).toBe(anchor);
    const sick = await health(agent);
    expect(sick.status).toBe(503);
    expect(sick.body.status).toBe('pull-failed');
    const metrics = await (
      await fetch(`http://${String(agent.lines.find((l) => l.event === 'started')?.['metrics'])}/metrics`)
    ).text();
    expect(metrics).toMatch(/^pfexpose_pulls_total\{result="failed"\} [1-9]/m);
    // The agent goes on with the checkout it has: a flushed anchor is still repaired.
    await pf.runner('pfctl', ['-a', 'pfexpose', '-F', 'all']);
    agent.signal('SIGHUP');
    await waitFor('the repair', async () => (await pf.readAnchor('pfexpose')) === anchor, agent);

    // A history rewritten upstream, and the remote back: followed, and health recovers.
    await git(author, 'reset', '--hard', 'HEAD~1');
    await writeFile(join(author, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:9443:443']));
    await git(author, 'commit', '-am', 'rewritten');
    await git(author, 'push', '--force', 'origin', 'HEAD:main');
    await git(host, 'remote', 'set-url', 'origin', origin);
    await anchorWith(pf, agent, 'port = 9443');
    expect(agent.lines.map((l) => l.event)).toContain('pull-rewritten');
    await waitFor('healthy again', async () => (await health(agent)).body.status === 'ok', agent);
  }, 120_000);

  it('is not wedged by a committed symlink to /dev/console: pulls, reconciles and SIGTERM go on (issue 9, M4)', async () => {
    const { sim, dir, state } = await setup();
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.org',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.org',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: dir,
    };
    const git = (cwd: string, ...args: string[]) =>
      run('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env });
    const origin = join(dir, 'origin.git');
    const author = join(dir, 'author');
    const host = join(dir, 'host');
    await git(dir, 'init', '--bare', origin);
    await git(dir, 'clone', origin, author);
    await writeFile(join(author, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    await git(author, 'add', '.');
    await git(author, 'commit', '-m', 'web');
    await git(author, 'push', 'origin', 'HEAD:main');
    await git(dir, 'clone', '--branch', 'main', origin, host);
    const agent = startAgent({ ...sim, env: { ...sim.env, ...env, PFCTL_SIM_DIR: sim.dir } }, state, [
      host,
      '--pull',
      '1s',
      '--frozen',
      '--settle',
      '200ms',
      '--interval',
      '0',
      '--metrics',
      '127.0.0.1:0',
    ]);
    await appliedWith(sim, agent, 'port = 8080');

    await symlink('/dev/console', join(author, 'console.yaml'));
    await git(author, 'add', 'console.yaml');
    await git(author, 'commit', '-m', 'a link to the console');
    await git(author, 'push', 'origin', 'HEAD:main');
    let mark = agent.lines.length;
    const invalid = await waitFor('manifests-invalid', () => eventAfter(agent, 'manifests-invalid', mark), agent);
    expect(JSON.stringify(invalid['diagnostics'])).toContain('console.yaml');
    expect(await sim.readAnchor('pfexpose')).toContain('port = 8080');
    // The loop is not stuck: a reconcile completes, and later pulls still arrive.
    mark = agent.lines.length;
    agent.signal('SIGHUP');
    await waitFor('a reconcile to complete', () => eventAfter(agent, 'in-sync', mark), agent);
    await git(author, 'rm', '-q', 'console.yaml');
    await writeFile(join(author, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8443:443']));
    await git(author, 'commit', '-am', 'fixed');
    await git(author, 'push', 'origin', 'HEAD:main');
    await anchorWith(sim, agent, 'port = 8443');
    expect((await health(agent)).status).toBe(200);
    agent.signal('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('refuses --dialect openbsd as a usage error before touching pf', async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    const refused = await watchInProcess(pf, state, [manifests, '--dialect', 'openbsd']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--dialect openbsd: watch drives FreeBSD's pfctl");
    expect(refused.stderr).toContain('the openbsd dialect is for compile and plan only');
    expect(await pf.calls()).toEqual([]);
  });

  it('refuses a --settle outside 100ms..10m as a usage error', async () => {
    const { pf, manifests, state } = await setup();
    const refused = await watchInProcess(pf, state, [manifests, '--settle', '50ms']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--settle 50ms is out of range: use 100ms to 10m');
    expect(await pf.calls()).toEqual([]);
  });

  it('stops at once on SIGTERM while its cycle is stuck reading something that never answers (a FIFO lock file)', async () => {
    const { sim, dir, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    const fifo = join(dir, 'lock.fifo');
    await run('mkfifo', [fifo]);
    const agent = startAgent(sim, state, [manifests, '--lock', fifo, '--settle', '100ms', '--interval', '0']);
    await waitFor('started', () => agent.lines.find((l) => l.event === 'started'), agent);
    // Whether the read of the lock hangs or is refused, nothing may keep SIGTERM waiting.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const signalled = Date.now();
    agent.signal('SIGTERM');
    const exit = await agent.exited;
    expect(Date.now() - signalled).toBeLessThan(15_000);
    const events = agent.lines.map((l) => l.event);
    expect(events).toContain('stopped');
    // Exit 0; or, while a read that never returns holds one of node's threads (which exit()
    // would wait for), the end by SIGTERM's own default action, said in the log first.
    if (exit.signal === null) expect(exit.code).toBe(0);
    else {
      expect(exit.signal).toBe('SIGTERM');
      expect(events.at(-1)).toBe('stop-forced');
    }
    expect(await sim.loadCalls()).toEqual([]);
  }, 120_000);

  it('refuses a metrics address off loopback unless allowed', async () => {
    const { pf, manifests, state } = await setup();
    const refused = await watchInProcess(pf, state, [manifests, '--metrics', '0.0.0.0:9813']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--metrics-allow-remote');
  });
});

/** The CLI in process beside an agent in process, with the same in-memory pf and state directory. */
function cliInProcess(pf: MemoryPf, state: string, args: string[], cwd?: string): Promise<RunResult> {
  return runInProcess([...args, '--state-dir', state], {
    env: { NO_COLOR: '1' },
    pfctl: (options) => pf.pfctl(options),
    ...(cwd === undefined ? {} : { cwd }),
  });
}

/** The CLI beside a spawned agent, with the same simulator and state directory. */
async function cli(
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

async function health(
  agent: Agent,
): Promise<{ status: number; body: { healthy: boolean; status: string; reason: string | null } }> {
  const started = agent.lines.find((l) => l.event === 'started');
  const response = await fetch(`http://${String(started?.['metrics'])}/healthz`);
  return {
    status: response.status,
    body: (await response.json()) as { healthy: boolean; status: string; reason: string | null },
  };
}

describe('pfexpose watch: what apply would refuse, the agent does not load', () => {
  it('re-checks the anchor hooks on every reconcile; nothing loads while they are missing, and it goes on once they are back', async () => {
    const { pf, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [
      manifests,
      '--interval',
      '0',
      '--debounce',
      '200ms',
      '--settle',
      '200ms',
      '--metrics',
      '127.0.0.1:0',
    ]);
    await appliedWith(pf, agent, 'port = 8080');

    await pf.writeMain('pass all\n');
    let mark = agent.lines.length;
    agent.signal('SIGHUP');
    const failed = await waitFor('preflight-failed', () => eventAfter(agent, 'preflight-failed', mark), agent);
    expect(failed['level']).toBe('error');
    expect(failed.message).toContain('does not call anchor "pfexpose"');
    expect(eventAfter(agent, 'in-sync', mark)).toBeUndefined();
    const unhealthy = await health(agent);
    expect(unhealthy.status).toBe(503);
    expect(unhealthy.body).toMatchObject({ healthy: false, status: 'preflight-failed' });
    expect(unhealthy.body.reason).toContain('rdr-anchor "pfexpose"');
    const metrics = await (
      await fetch(`http://${String(agent.lines.find((l) => l.event === 'started')?.['metrics'])}/metrics`)
    ).text();
    expect(metrics).toContain('pfexpose_preflight_ok 0');

    // A manifest change meanwhile goes through apply's own preflight, and is refused: no load.
    const loads = (await pf.loadCalls()).length;
    mark = agent.lines.length;
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8081:80']));
    const refused = await waitFor('apply-refused', () => eventAfter(agent, 'apply-refused', mark), agent);
    expect(refused.message).toContain('does not call anchor');
    expect(await pf.loadCalls()).toHaveLength(loads);
    expect(await pf.readAnchor('pfexpose')).toContain('port = 8080');

    await pf.writeMain('rdr-anchor "pfexpose" all\nanchor "pfexpose" all\n');
    mark = agent.lines.length;
    agent.signal('SIGHUP');
    await waitFor('preflight-ok', () => eventAfter(agent, 'preflight-ok', mark), agent);
    await anchorWith(pf, agent, 'port = 8081');
    await waitFor('healthy again', async () => (await health(agent)).status === 200, agent);
  }, 120_000);

  it('after a reconcile found pf disabled, a manifest change takes the full path and loads nothing', async () => {
    const { pf, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [
      manifests,
      '--interval',
      '0',
      '--debounce',
      '200ms',
      '--settle',
      '200ms',
      '--metrics',
      '127.0.0.1:0',
    ]);
    await appliedWith(pf, agent, 'port = 8080');
    await pf.setEnabled(false);
    let mark = agent.lines.length;
    agent.signal('SIGHUP');
    const failed = await waitFor('preflight-failed', () => eventAfter(agent, 'preflight-failed', mark), agent);
    expect(failed.message).toContain('pf is disabled');
    expect((await health(agent)).body).toMatchObject({ healthy: false, status: 'preflight-failed' });

    const loads = (await pf.loadCalls()).length;
    mark = agent.lines.length;
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8081:80']));
    const refused = await waitFor('apply-refused', () => eventAfter(agent, 'apply-refused', mark), agent);
    expect(refused.message).toContain('pf is disabled');
    expect(await pf.loadCalls()).toHaveLength(loads);
    expect(eventAfter(agent, 'apply-failed', mark)).toBeUndefined();
  }, 120_000);
});

describe('pfexpose watch: holding a rollback', () => {
  it('keeps the ruleset rollback loaded, repairs drift towards it, and applies again when the manifests change', async () => {
    const { pf, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [
      manifests,
      '--interval',
      '0',
      '--debounce',
      '200ms',
      '--settle',
      '200ms',
      '--metrics',
      '127.0.0.1:0',
    ]);
    const first = await appliedWith(pf, agent, 'port = 8080');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8081:80']));
    await anchorWith(pf, agent, 'port = 8081');
    await waitFor('the agent to be idle', () => agent.lines.filter((l) => l.event === 'applied').length >= 2, agent);

    const back = await cliInProcess(pf, state, ['rollback']);
    expect(back.code, back.stderr).toBe(0);
    expect(await pf.readAnchor('pfexpose')).toBe(first);

    let mark = agent.lines.length;
    agent.signal('SIGHUP');
    const holding = await waitFor('holding', () => eventAfter(agent, 'holding', mark), agent);
    expect(holding.message).toContain('pfexpose rollback');
    expect(await pf.readAnchor('pfexpose')).toBe(first);
    const held = await health(agent);
    expect(held.status).toBe(200);
    expect(held.body.status).toBe('held');

    // Drift: the anchor flushed. The repair loads the rolled-back ruleset, not the manifests.
    await pf.runner('pfctl', ['-a', 'pfexpose', '-F', 'all']);
    mark = agent.lines.length;
    agent.signal('SIGHUP');
    await waitFor('drift-repaired', () => eventAfter(agent, 'drift-repaired', mark), agent);
    expect(await pf.readAnchor('pfexpose')).toContain('port = 8080');
    expect(await pf.readAnchor('pfexpose')).not.toContain('port = 8081');

    mark = agent.lines.length;
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8082:80']));
    await anchorWith(pf, agent, 'port = 8082');
    expect(eventAfter(agent, 'hold-released', mark)).toBeDefined();
    await waitFor('healthy and no longer held', async () => (await health(agent)).body.status === 'ok', agent);
  }, 120_000);

  it('holds an unconfirmed apply --confirm reverted while it was stopped, even when the manifests were read under another path', async () => {
    const { sim, dir, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const before = startAgent(sim, state, [manifests, '--interval', '0']);
    const first = await appliedWith(sim, before, 'port = 8080');
    before.signal('SIGTERM');
    expect(await before.exited).toEqual({ code: 0, signal: null });

    // The operator tries a change with a safety net, does not confirm it, and it is reverted.
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8081:80']));
    const trial = await cli(sim, state, ['apply', 'manifests', '--confirm', '1s'], dir);
    expect(trial.code, trial.stderr).toBe(0);
    await waitFor('the watchdog to revert', async () => (await sim.readAnchor('pfexpose')) === first);

    const agent = startAgent(sim, state, [manifests, '--interval', '0', '--metrics', '127.0.0.1:0']);
    await waitFor('holding', () => agent.lines.find((l) => l.event === 'holding'), agent);
    expect(agent.lines.find((l) => l.event === 'holding')?.message).toContain('not confirmed');
    expect(await sim.readAnchor('pfexpose')).toBe(first);
    expect((await health(agent)).body.status).toBe('held');
  }, 120_000);
});

describe('pfexpose watch: another pfexpose process loads the anchor between two reconciles', () => {
  it('after an apply by hand, a failed load of the agent puts back what pf held, not what the agent had loaded', async () => {
    const { pf, dir, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [
      manifests,
      '--interval',
      '0',
      '--debounce',
      '200ms',
      '--settle',
      '200ms',
    ]);
    await appliedWith(pf, agent, 'port = 8080');
    // A quick change first, so the agent's last word on the anchor is its own fast-path apply.
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80', 'em0:8443:443']));
    await anchorWith(pf, agent, 'port = 8443');
    await waitFor('the agent to be idle', () => agent.lines.filter((l) => l.event === 'applied').length >= 2, agent);

    // The operator applies other manifests by hand: pf and the state directory say so.
    const other = join(dir, 'other');
    await mkdir(other);
    await writeFile(join(other, 'api.yaml'), manifest('api', '10.13.37.20', ['em0:8090:90']));
    const byHand = await cliInProcess(pf, state, ['apply', other]);
    expect(byHand.code, byHand.stderr).toBe(0);
    const held = await pf.readAnchor('pfexpose');
    expect(held).toContain('port = 8090');

    // The agent's next load commits, then pfctl dies: pf must get back what it held (the apply by
    // hand), which only a read of the anchor before the load can know.
    await pf.setControl({ dieLoads: 1, dieWhen: 'after-commit' });
    const before = (await pf.calls()).length;
    const mark = agent.lines.length;
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8081:80']));
    const failed = await waitFor('apply-failed', () => eventAfter(agent, 'apply-failed', mark), agent);
    expect(failed['restored']).toBe(true);
    expect(failed.message).toContain('the previous ruleset was loaded again');
    expect(await pf.readAnchor('pfexpose')).toBe(held);
    // It read the anchor and made a dry run before that load: the full path.
    const calls = (await pf.calls()).slice(before).map((call) => call.argv.join(' '));
    const load = calls.findIndex((argv) => argv.includes(' -f ') && !argv.includes(' -n '));
    expect(calls.slice(0, load).some((argv) => argv.includes('-P -sn'))).toBe(true);
    expect(calls.slice(0, load).some((argv) => argv.includes(' -n -f '))).toBe(true);
  }, 120_000);
});

describe('pfexpose watch: started while the manifests are invalid', () => {
  it('still reconciles: repairs the ruleset last applied, and reports pf disabled beside the invalid manifests', async () => {
    const { pf, dir, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const applied = await cliInProcess(pf, state, ['apply', manifests]);
    expect(applied.code, applied.stderr).toBe(0);
    const recorded = await pf.readAnchor('pfexpose');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:70000:80']));
    await pf.runner('pfctl', ['-a', 'pfexpose', '-F', 'all']);

    const agent = startAgentInProcess(pf, state, [manifests, '--interval', '0', '--metrics', '127.0.0.1:0'], {
      cwd: dir,
    });
    await waitFor('drift-repaired', () => agent.lines.find((l) => l.event === 'drift-repaired'), agent);
    expect(await pf.readAnchor('pfexpose')).toBe(recorded);
    expect(agent.lines.find((l) => l.event === 'drift')?.message).toContain('recorded as last applied');
    const metricsUrl = `http://${String(agent.lines.find((l) => l.event === 'started')?.['metrics'])}/metrics`;
    let text = await (await fetch(metricsUrl)).text();
    expect(text).toContain('pfexpose_reconciles_total 1');
    expect(text).toContain('pfexpose_manifests_valid 0');
    const ok = await health(agent);
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('manifests-invalid');

    await pf.setEnabled(false);
    const mark = agent.lines.length;
    agent.signal('SIGHUP');
    await waitFor('preflight-failed', () => eventAfter(agent, 'preflight-failed', mark), agent);
    const sick = await health(agent);
    expect(sick.status).toBe(503);
    expect(sick.body.status).toBe('preflight-failed');
    expect(sick.body.reason).toContain('pf is disabled');
    expect(sick.body.reason).toContain('the manifests are invalid');
    text = await (await fetch(metricsUrl)).text();
    expect(text).toContain('pfexpose_preflight_ok 0');
  }, 120_000);
});

describe('pfexpose watch: a file written in two halves (issue 9, C2)', () => {
  const FIRST_HALF = [
    'version: 1',
    'containers:',
    '  db:',
    '    ip: 10.13.37.11',
    '    ports:',
    '      - kleene: em0:5432:5432',
    '',
  ].join('\n');
  const SECOND_HALF = '        from: [198.51.100.0/24]\n';

  /**
   * Writes db.yaml through one open descriptor: the first half (valid YAML on its own, publishing
   * 5432 from any source), a pause, then the rest. Meanwhile samples the anchor every 20 ms.
   */
  async function writeInHalves(sim: Pf, file: string, pauseMs: number): Promise<string[]> {
    const seen: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        seen.push((await sim.readAnchor('pfexpose')) ?? '');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const handle = await open(file, 'w');
    await handle.write(FIRST_HALF);
    await handle.sync();
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    await handle.write(SECOND_HALF);
    await handle.close();
    return new Promise((resolve) => {
      setTimeout(() => {
        sampling = false;
        void sampler.then(() => resolve(seen));
      }, 0);
    });
  }

  const firstHalfOnly = (anchor: string): boolean => /port = 5432/.test(anchor) && !anchor.includes('198.51.100.0/24');

  it('never loads the first half when the pause is longer than the debounce but shorter than --settle', async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    // The default --settle (2 s); the pause (800 ms) is four debounce periods long.
    const agent = startAgentInProcess(pf, state, [manifests, '--debounce', '200ms', '--interval', '0']);
    await appliedWith(pf, agent, 'port = 8080');
    const loads = (await pf.loadCalls()).length;
    const mark = agent.lines.length;

    const seen = await writeInHalves(pf, join(manifests, 'db.yaml'), 800);
    const anchor = await anchorWith(pf, agent, '198.51.100.0/24');
    expect(anchor).toContain('port = 5432');
    await waitFor('the applied event', () => eventAfter(agent, 'applied', mark), agent);
    // The agent did see the file before it was complete, and waited.
    const waited = agent.lines.slice(mark).filter((l) => l.event === 'unsettled');
    expect(waited.length).toBeGreaterThan(0);
    // One load since the write began, and it was the whole file: the first half never reached pf.
    expect((await pf.loadCalls()).length).toBe(loads + 1);
    expect(seen.some(firstHalfOnly)).toBe(false);
    expect(agent.lines.slice(mark).filter((l) => l.event === 'applied')).toHaveLength(1);
  }, 120_000);

  it('with --settle shorter than the pause, the first half is loaded: the documented limit (the test can see a partial load)', async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [
      manifests,
      '--debounce',
      '100ms',
      '--settle',
      '100ms',
      '--interval',
      '0',
    ]);
    await appliedWith(pf, agent, 'port = 8080');
    const mark = agent.lines.length;
    // A pause far longer than debounce + settle: the first half stays unchanged long enough to count.
    const seen = await writeInHalves(pf, join(manifests, 'db.yaml'), 4000);
    await anchorWith(pf, agent, '198.51.100.0/24');
    expect(seen.some(firstHalfOnly)).toBe(true);
    await waitFor(
      'two applies (the first half, then the whole)',
      () => agent.lines.slice(mark).filter((l) => l.event === 'applied').length >= 2,
      agent,
    );
  }, 120_000);
});

describe('pfexpose watch: idle connections to the metrics port (issue 9, M7)', () => {
  it('1,100 idle connections do not take the file descriptors the agent needs (run under ulimit -n 160)', async () => {
    const { sim, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgent(
      sim,
      state,
      [manifests, '--debounce', '100ms', '--settle', '200ms', '--interval', '0', '--metrics', '127.0.0.1:0'],
      undefined,
      160,
    );
    await appliedWith(sim, agent, 'port = 8080');
    const address = String(agent.lines.find((l) => l.event === 'started')?.['metrics']);
    const port = Number(address.split(':').at(-1));
    const sockets: Socket[] = [];
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
      return Promise.resolve();
    });
    for (let i = 0; i < 1100; i += 1) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      sockets.push(socket);
    }
    await Promise.all(
      sockets.map(
        (socket) =>
          new Promise((done) => {
            socket.once('connect', done);
            socket.once('close', done);
          }),
      ),
    );
    // While they are all open (as far as the clients know), a manifest change is read and applied.
    const mark = agent.lines.length;
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8081:80']));
    await anchorWith(sim, agent, 'port = 8081');
    await waitFor('the applied event', () => eventAfter(agent, 'applied', mark), agent);
    expect(agent.lines.slice(mark).filter((l) => /EMFILE|too many open files/i.test(JSON.stringify(l)))).toEqual([]);
    for (const socket of sockets) socket.destroy();
    await waitFor(
      '/healthz to answer',
      async () => {
        try {
          return (await fetch(`http://${address}/healthz`, { signal: AbortSignal.timeout(5000) })).status === 200;
        } catch {
          return false;
        }
      },
      agent,
    );
  }, 180_000);
});
