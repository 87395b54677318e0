// The steps of test/e2e/freebsd.sh (the real-host test, which needs FreeBSD, pf and root), in the
// same order: what the script proves with packets on a real host, this proves on the rules and on
// pfctl's command line, so a change that breaks the script's expectations shows here first. Each
// test names the step it mirrors; change both together. Steps 1 to 8 run the CLI in process against
// the in-memory pf under the real pfctl adapter (the same command lines, no process per call); step
// 9 runs the built CLI's watch against the pfctl simulator, since what it proves (a long-running
// process that SIGTERM ends with 0) only a process shows. The simulator starts from the anchor the
// earlier steps left, as the script's host does.
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runInProcess } from '../helpers/cli.js';
import { createMemoryPf, type MemoryPf } from '../helpers/memory-pf.js';
import { createSim, PFCTL_SIM, ROUTE_SIM, type Sim } from '../pfctl-sim/sim-control.js';

// Step 9 spawns the CLI and the simulator many times: generous on a busy two-core machine.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'bin', 'pfexpose.js');

// The script's addresses and ports.
const ANCHOR = 'pfexpose';
const WEB_IP = '10.13.37.10';
const WEB_PORT = 8080;
const UDP_PORT = 5353;
const PUBLISHED_PORT = 18080;
const PUBLISHED_UDP = 18053;
const MOVED_PORT = 18081;
const NARROW_SOURCE = '192.0.2.0/24';
const TCP_LABEL = `web:tcp:any:${PUBLISHED_PORT}`;
const UDP_LABEL = `web:udp:any:${PUBLISHED_UDP}`;

// The script's test pf.conf as pfctl prints it back (`set skip on lo0` is an option, not a rule):
// block all by default, the management interface passed, the anchor hooks.
const MAIN = `rdr-anchor "${ANCHOR}" all
block return all
pass quick on vtnet0 all flags any keep state
anchor "${ANCHOR}" all
`;

/** The script's write_manifest: tcp PORT -> web:8080 (optionally narrowed) and udp 18053 -> web:5353. */
function manifest(hostPort: number, from?: string): string {
  const tcp =
    from === undefined
      ? `      - "${hostPort}:${WEB_PORT}"\n`
      : `      - docker: "${hostPort}:${WEB_PORT}"\n        from: [${from}]\n`;
  return `version: 1\nsyntax: docker\ncontainers:\n  web:\n    ip: ${WEB_IP}\n    ports:\n${tcp}      - "${PUBLISHED_UDP}:${UDP_PORT}/udp"\n`;
}

/** pf of steps 1 to 8. */
let pf: MemoryPf;
/** pf of step 9 (and route(8)'s stand-in for every step). */
let sim: Sim;
let work: string;
let env: Record<string, string>;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI in process, reaching the in-memory pf through the real adapter. */
function pfexpose(args: string[]): Promise<Run> {
  return runInProcess(args, { cwd: work, env, pfctl: (options) => pf.pfctl(options) });
}

/** pfctl run the way the script runs it: the in-memory pf for steps 1 to 8. */
async function pfctl(args: string[]): Promise<string> {
  const result = await pf.runner('pfctl', args);
  expect(result.kind === 'completed' ? result.exitCode : result.kind, 'stderr' in result ? result.stderr : '').toBe(0);
  return 'stdout' in result ? result.stdout : '';
}

/** The simulator run the way the script runs pfctl: step 9. */
function simPfctl(args: string[]): string {
  const result = spawnSync(PFCTL_SIM, args, { env: { ...process.env, ...sim.env }, encoding: 'utf8', timeout: 60_000 });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

async function writeManifest(text: string): Promise<void> {
  // Renamed into place, as the script does (mv): a watching agent sees the old file or the new.
  await writeFile(join(work, 'manifests', 'web.yaml.tmp'), text);
  await rename(join(work, 'manifests', 'web.yaml.tmp'), join(work, 'manifests', 'web.yaml'));
}

async function kills(): Promise<string[]> {
  return (await pf.calls()).filter((call) => call.argv[0] === '-k').map((call) => call.argv.join(' '));
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  pf = createMemoryPf();
  await pf.writeMain(MAIN);
  sim = await createSim({ routeIf: 'vtnet0' });
  await sim.writeMain(MAIN);
  work = await mkdtemp(join(tmpdir(), 'pfexpose-freebsd-mirror-'));
  await mkdir(join(work, 'manifests'));
  await mkdir(join(work, 'examples'));
  env = {
    ...(process.env as Record<string, string>),
    ...sim.env,
    PFEXPOSE_PFCTL: PFCTL_SIM,
    PFEXPOSE_ROUTE: ROUTE_SIM,
    NO_COLOR: '1',
  };
});

afterAll(async () => {
  await sim.cleanup();
  await rm(work, { recursive: true, force: true });
});

describe('test/e2e/freebsd.sh, mirrored against the pfctl simulator', () => {
  it('step 1: examples/ load under the block-all main ruleset', async () => {
    for (const name of await readdir(join(ROOT, 'examples'))) {
      if (name.endsWith('.yaml')) await cp(join(ROOT, 'examples', name), join(work, 'examples', name));
    }
    const applied = await pfexpose(['apply', join(work, 'examples'), '--state-dir', join(work, 'state-examples')]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(await pfctl(['-a', ANCHOR, '-sn'])).toMatch(/^rdr /m);
    await pfctl(['-a', ANCHOR, '-F', 'all']);
    expect(await pfctl(['-a', ANCHOR, '-sr'])).toBe('');
  });

  it('step 2: the web manifest puts an rdr on every address and a pass in rule per exposure into the anchor', async () => {
    await writeManifest(manifest(PUBLISHED_PORT));
    const applied = await pfexpose(['apply', join(work, 'manifests'), '--state-dir', join(work, 'state')]);
    expect(applied.code, applied.stderr).toBe(0);
    const nat = await pfctl(['-a', ANCHOR, '-P', '-sn']);
    const filter = await pfctl(['-a', ANCHOR, '-P', '-sr']);
    // The script's `has` patterns, one for one.
    expect(nat).toMatch(
      new RegExp(
        `^rdr inet proto tcp from any to \\(self\\) port = ${PUBLISHED_PORT} tag pfexpose(_[0-9a-f]+)? -> ${WEB_IP} port ${WEB_PORT}$`,
        'm',
      ),
    );
    expect(nat).toMatch(
      new RegExp(
        `^rdr inet proto udp from any to \\(self\\) port = ${PUBLISHED_UDP} tag pfexpose(_[0-9a-f]+)? -> ${WEB_IP} port ${UDP_PORT}$`,
        'm',
      ),
    );
    expect(filter).toMatch(
      new RegExp(
        `^pass in quick inet proto tcp from any to ${WEB_IP} port = ${WEB_PORT} flags S/SA keep state label "${TCP_LABEL}" tagged pfexpose`,
        'm',
      ),
    );
    expect(filter).toMatch(
      new RegExp(
        `^pass in quick inet proto udp from any to ${WEB_IP} port = ${UDP_PORT} keep state label "${UDP_LABEL}" tagged pfexpose`,
        'm',
      ),
    );
  });

  it('step 2: ... and a pass out rule per exposure, for the forwarded leg under block all', async () => {
    const filter = await pfctl(['-a', ANCHOR, '-P', '-sr']);
    expect(filter).toMatch(
      new RegExp(
        `^pass out quick inet proto tcp from any to ${WEB_IP} port = ${WEB_PORT} flags S/SA keep state label "${TCP_LABEL}" tagged pfexpose`,
        'm',
      ),
    );
    expect(filter).toMatch(
      new RegExp(
        `^pass out quick inet proto udp from any to ${WEB_IP} port = ${UDP_PORT} keep state label "${UDP_LABEL}" tagged pfexpose`,
        'm',
      ),
    );
  });

  it('steps 3 and 5: every pass rule admits what an rdr rule of the same exposure tagged (tcp and udp)', async () => {
    const nat = (await pfctl(['-a', ANCHOR, '-P', '-sn'])).trim().split('\n');
    const filter = (await pfctl(['-a', ANCHOR, '-P', '-sr'])).trim().split('\n');
    for (const [protocol, port, containerPort] of [
      ['tcp', PUBLISHED_PORT, WEB_PORT],
      ['udp', PUBLISHED_UDP, UDP_PORT],
    ] as const) {
      const rdr = nat.find((line) => line.includes(`proto ${protocol} `) && line.includes(`port = ${port} `));
      const tag = / tag (\S+) /.exec(rdr ?? '')?.[1];
      expect(tag, `the ${protocol} rdr rule`).toBeDefined();
      const passes = filter.filter(
        (line) => line.includes(`proto ${protocol} `) && line.includes(`to ${WEB_IP} port = ${containerPort} `),
      );
      expect(passes.length).toBeGreaterThan(0);
      for (const pass of passes) expect(pass).toMatch(new RegExp(` tagged ${tag ?? '?'}$`));
    }
  });

  it('step 4: no pass rule admits a packet sent straight to the container (every one requires the tag)', async () => {
    const filter = (await pfctl(['-a', ANCHOR, '-P', '-sr'])).trim().split('\n');
    expect(filter.length).toBeGreaterThan(0);
    for (const line of filter) expect(line).toMatch(/ tagged pfexpose(_[0-9a-f]+)?$/);
  });

  it('step 6 (hairpin): the rdr of an every-address exposure names no interface and is to (self); no nat is written', async () => {
    const nat = (await pfctl(['-a', ANCHOR, '-P', '-sn'])).trim().split('\n');
    const rdrs = nat.filter((line) => line.startsWith('rdr '));
    expect(rdrs).toHaveLength(2);
    for (const line of rdrs) {
      expect(line).not.toMatch(/ on /);
      expect(line).toMatch(/ to \(self\) /);
    }
    expect(nat.filter((line) => /^(nat|binat|no nat)\b/.test(line))).toEqual([]);
  });

  it('step 7: narrowing from: with --kill-states ends the narrowed label, and only it', async () => {
    await writeManifest(manifest(PUBLISHED_PORT, NARROW_SOURCE));
    const applied = await pfexpose([
      'apply',
      join(work, 'manifests'),
      '--state-dir',
      join(work, 'state'),
      '--kill-states',
    ]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(new RegExp(`ended the open connections of: .*${TCP_LABEL}`));
    expect(await kills()).toEqual([`-k label -k ${TCP_LABEL}`]);
    // The narrowed rules: the rdr no longer matches a client outside the source, nor does a pass rule.
    const nat = await pfctl(['-a', ANCHOR, '-P', '-sn']);
    expect(nat).toMatch(
      new RegExp(
        `^rdr inet proto tcp from ${NARROW_SOURCE.split('.').join('\\.')} to \\(self\\) port = ${PUBLISHED_PORT} `,
        'm',
      ),
    );
    expect(nat).not.toMatch(new RegExp(`^rdr inet proto tcp from any to \\(self\\) port = ${PUBLISHED_PORT} `, 'm'));
    const tcpPasses = (await pfctl(['-a', ANCHOR, '-P', '-sr']))
      .split('\n')
      .filter((line) => line.includes(`label "${TCP_LABEL}"`));
    expect(tcpPasses.length).toBeGreaterThan(0);
    for (const line of tcpPasses) expect(line).toContain(`from ${NARROW_SOURCE} `);
  });

  it('step 8: validate refuses 8203:80/sctp (exit 1, port-sctp-translation) and accepts 8203:8203/sctp', async () => {
    await mkdir(join(work, 'sctp'), { recursive: true });
    const sctp = (spec: string): string =>
      `version: 1\nsyntax: docker\ncontainers:\n  s:\n    ip: ${WEB_IP}\n    ports:\n      - "${spec}"\n`;
    await writeFile(join(work, 'sctp', 's.yaml'), sctp('8203:80/sctp'));
    const refused = await pfexpose(['validate', join(work, 'sctp')]);
    expect(refused.code).toBe(1);
    expect(`${refused.stdout}${refused.stderr}`).toContain('port-sctp-translation');
    await writeFile(join(work, 'sctp', 's.yaml'), sctp('8203:8203/sctp'));
    const same = await pfexpose(['validate', join(work, 'sctp')]);
    expect(same.code, same.stderr).toBe(0);
  });

  it('step 9: pfexpose watch moves the port and repairs a flushed anchor; SIGTERM ends it with 0', async () => {
    // The host as the earlier steps left it: the simulator takes over the in-memory pf's anchor.
    await sim.writeAnchor(ANCHOR, (await pf.readAnchor(ANCHOR)) ?? '');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'watch',
        join(work, 'manifests'),
        '--state-dir',
        join(work, 'state'),
        '--debounce',
        '200ms',
        '--interval',
        '2s',
      ],
      {
        cwd: work,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let log = '';
    child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const moved = (): boolean => simPfctl(['-a', ANCHOR, '-P', '-sn']).includes(`port = ${MOVED_PORT} `);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await writeManifest(manifest(MOVED_PORT));
      await until(`the agent to apply port ${MOVED_PORT} (log: ${log})`, moved, 90_000);
      simPfctl(['-a', ANCHOR, '-F', 'all']);
      await until(`the agent to repair the flushed anchor (log: ${log})`, moved, 90_000);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, log).toBe(0);
  });
});
