// `pfexpose plan` as CI and operators run it, in a temporary git repository, against a git
// revision, a saved pfctl -v output and pf, checking stdout, stderr and exit codes. The CLI runs in
// process (main() with captured output, the in-memory pf for --live); two tests run the built CLI
// for what only a process shows: the exit status and the stdout/stderr split of a refused run, and
// --live against the pfctl simulator.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintDeployedText, readPlanFile } from '../../src/plan/plan-file.js';
import { runInProcess } from '../helpers/cli.js';
import { createMemoryPf, type MemoryPf } from '../helpers/memory-pf.js';
import { createSim, PFCTL_SIM, type Sim } from '../pfctl-sim/sim-control.js';
import { createRepo, gitEnv, type TempRepo } from '../plan/git-repo.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(root, 'bin', 'pfexpose.js');

const HOST = 'version: 1\nhosts:\n  www1:\n    gateway: em0\n';
const WEB = 'version: 1\ncontainers:\n  web:\n    ip: 10.13.37.10\n    ports:\n      - 8080:80\n';
const WEB_WITH_DNS = `${WEB}  dns:\n    ip: 10.13.37.11\n    ports:\n      - 53:53/udp\n`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

let repo: TempRepo;
let sim: Sim | undefined;

/** The CLI in process, with only the environment the test gives it. */
async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const got = await runInProcess(args, {
    cwd: repo.dir,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: repo.dir, ...gitEnv, ...env },
  });
  return { status: got.code, stdout: got.stdout, stderr: got.stderr };
}

/** The built CLI, as CI runs it. */
function built(args: string[], env: Record<string, string> = {}): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: repo.dir,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: repo.dir, ...gitEnv, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * plan --live in process against an in-memory pf (under the real pfctl adapter), with run()'s
 * environment; the first --live test runs the built CLI against the simulator.
 */
async function live(pf: MemoryPf, args: string[]): Promise<Run> {
  const got = await runInProcess(args, {
    cwd: repo.dir,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: repo.dir, ...gitEnv },
    pfctl: (options) => pf.pfctl(options),
  });
  return { status: got.code, stdout: got.stdout, stderr: got.stderr };
}

beforeEach(() => {
  repo = createRepo();
  repo.write('hosts/host.yaml', HOST);
  repo.write('hosts/web.yaml', WEB);
  repo.commit('first manifests');
});

afterEach(async () => {
  repo.cleanup();
  await sim?.cleanup();
  sim = undefined;
});

describe('pfexpose plan --base', () => {
  it('exits 0 when nothing changed since the revision', async () => {
    const got = await run(['plan', 'hosts', '--base', 'HEAD']);
    expect(got.stderr).toBe('');
    expect(got.stdout).toContain('No changes');
    expect(got.status).toBe(0);
  });

  it('exits 2 with the change and its manifest line when a commit adds an exposure', async () => {
    repo.write('hosts/web.yaml', WEB_WITH_DNS);
    repo.commit('add dns');
    const got = await run(['plan', 'hosts', '--base', 'HEAD~1']);
    expect(got.status).toBe(2);
    expect(got.stdout).toContain('1 to add, 0 to change, 0 to remove, 1 unchanged');
    expect(got.stdout).toContain('+ dns udp/inet em0:53 -> 10.13.37.11:53 from any');
    expect(got.stdout).toContain('at hosts/web.yaml:10:');
    expect(got.stdout).toContain('! privileged host port 53 (below 1024) newly exposed');
    expect(got.stdout).toContain(
      '+rdr on em0 inet proto udp from any to (em0) port = 53 tag pfexpose -> 10.13.37.11 port 53',
    );
    expect(got.stdout).not.toContain('\u001b[');
  });

  it('compares the working tree with the revision without touching either', async () => {
    repo.write('hosts/web.yaml', WEB_WITH_DNS);
    const status = repo.git('status', '--porcelain');
    expect((await run(['plan', 'hosts', '--base', 'HEAD'])).status).toBe(2);
    expect(repo.git('status', '--porcelain')).toBe(status);
    expect(readFileSync(join(repo.dir, 'hosts/web.yaml'), 'utf8')).toBe(WEB_WITH_DNS);
  });

  it('prints markdown and json', async () => {
    repo.write('hosts/web.yaml', WEB_WITH_DNS);
    repo.commit('add dns');
    const markdown = await run(['plan', 'hosts', '--base', 'HEAD~1', '--format', 'markdown']);
    expect(markdown.status).toBe(2);
    expect(markdown.stdout.split('\n')[0]).toBe('<!-- pfexpose-plan -->');
    expect(markdown.stdout).toContain('| added | `dns` | `em0:53` |');
    const json = await run(['plan', 'hosts', '--base', 'HEAD~1', '--format', 'json']);
    expect(json.status).toBe(2);
    const parsed = JSON.parse(json.stdout) as {
      formatVersion: number;
      summary: { added: number };
      deployed: { source: string; ref: string };
    };
    expect(Object.keys(parsed).slice(0, 4)).toEqual(['formatVersion', 'command', 'diagnostics', 'changes']);
    expect(parsed).toMatchObject({
      formatVersion: 1,
      command: 'plan',
      summary: { added: 1 },
      deployed: { source: 'base', ref: 'HEAD~1' },
    });
  });

  it('writes annotations and the job summary for GitHub Actions', async () => {
    repo.write('hosts/web.yaml', WEB_WITH_DNS);
    const summary = join(repo.dir, 'summary.md');
    const got = await run(['plan', 'hosts', '--base', 'HEAD', '--format', 'github'], { GITHUB_STEP_SUMMARY: summary });
    expect(got.status).toBe(2);
    expect(got.stdout).toMatch(
      /^::warning file=hosts\/web\.yaml,line=10,col=\d+,title=pfexpose%3A exposure added::dns udp/m,
    );
    expect(readFileSync(summary, 'utf8')).toMatch(/^<!-- pfexpose-plan -->\n/);
  });

  it('exits 1 when the manifests are invalid', () => {
    repo.write('hosts/web.yaml', `${WEB}      - 70000:80\n`);
    const got = built(['plan', 'hosts', '--base', 'HEAD']);
    expect(got.status).toBe(1);
    expect(got.stderr).toContain('hosts/web.yaml:7:');
    expect(got.stderr).toContain('the manifests are not valid');
    expect(got.stdout).toBe('');
  });

  it('exits 1 when the base revision does not compile, naming the revision and not the working tree', async () => {
    repo.write('hosts/web.yaml', `${WEB}      - 70000:80\n`);
    const base = repo.commit('a broken manifest').slice(0, 12);
    repo.write('hosts/web.yaml', WEB);
    for (const format of ['text', 'github']) {
      const got = await run(['plan', 'hosts', '--base', 'HEAD', '--format', format]);
      expect(got.status).toBe(1);
      expect(got.stderr).toContain(`the manifests at the base revision HEAD (${base}) do not compile:\n`);
      expect(got.stderr).toMatch(/^HEAD:hosts\/web\.yaml:7:\d+: error port-out-of-range /m);
      // Nothing points at the working tree's file, which is valid.
      expect(got.stderr).not.toMatch(/^hosts\/web\.yaml:/m);
      expect(got.stdout).not.toContain('hosts/web.yaml');
      expect(got.stderr).toContain(`the base revision HEAD (${base}) does not compile with these options`);
    }
  });

  it("counts compile warnings against GitHub's limit of 10 annotations per severity", async () => {
    const mismatches = Array.from({ length: 12 }, (_, i) => `      - "[::1]:${5000 + i}:80"\n`).join('');
    repo.write(
      'hosts/web.yaml',
      `${WEB_WITH_DNS}  legacy:\n    ip: 10.13.37.12\n    syntax: docker\n    ports:\n${mismatches}`,
    );
    const got = await run(['plan', 'hosts', '--base', 'HEAD', '--format', 'github']);
    expect(got.status).toBe(2);
    const warnings = got.stdout.split('\n').filter((line) => line.startsWith('::warning '));
    expect(warnings).toHaveLength(10);
    // The flagged change (dns on a privileged port, open to all) is annotated first.
    expect(warnings[0]).toContain('title=pfexpose%3A exposure added::dns udp');
    expect(warnings.filter((line) => line.includes('title=family-mismatch'))).toHaveLength(9);
    expect(got.stdout).toContain(
      'pfexpose plan: 3 more annotations left out (GitHub shows at most 10 per severity in a step)',
    );
    expect(got.stdout.match(/^hosts\/web\.yaml:\d+:\d+: warning family-mismatch /gm)).toHaveLength(3);
  });

  it('exits 1 for a revision that does not exist', async () => {
    const got = await run(['plan', 'hosts', '--base', 'origin/nowhere']);
    expect(got.status).toBe(1);
    expect(got.stderr).toContain('names no commit');
  });
});

describe('pfexpose plan usage errors exit 1, not 2 (which means changes)', () => {
  const cases: [string, string[], RegExp][] = [
    ['no deployed state', ['plan', 'hosts'], /--live, --deployed FILE or --base GITREF/],
    ['two deployed states', ['plan', 'hosts', '--live', '--base', 'HEAD'], /only one deployed state/],
    ['an unknown option', ['plan', 'hosts', '--base', 'HEAD', '--frobnicate'], /unknown option/],
    ['an unknown format', ['plan', 'hosts', '--base', 'HEAD', '--format', 'xml'], /--format/],
    ['a missing option argument', ['plan', 'hosts', '--base'], /argument missing/],
  ];
  it.each(cases)('%s', async (_name, args, want) => {
    const got = await run(args);
    expect(got.stderr).toMatch(want);
    expect(got.status).toBe(1);
  });

  it('says so in --help', async () => {
    const got = await run(['plan', '--help']);
    expect(got.status).toBe(0);
    expect(got.stdout).toContain('terraform plan -detailed-exitcode');
  });
});

describe('pfexpose plan --deployed', () => {
  function verbose(ruleset: string): string {
    // What `pfctl -a pfexpose -v -sn` then `-v -sr` print, service names included (no -P).
    return ruleset
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map(
        (line, i) =>
          `@${i} ${line.replace('port = 8080 ->', 'port = http-alt ->')}\n  [ Evaluations: 42        Packets: 7         Bytes: 420         States: 1     ]\n  [ Inserted: uid 0 pid 1234 State Creations: 1     ]`,
      )
      .join('\n');
  }

  it('reads pfctl -v output and exits 0 when it matches', async () => {
    const compiled = await run(['compile', 'hosts']);
    expect(compiled.status).toBe(0);
    writeFileSync(join(repo.dir, 'deployed.txt'), `${verbose(compiled.stdout)}\n`);
    const got = await run(['plan', 'hosts', '--deployed', 'deployed.txt']);
    expect(got.stdout).toContain('No changes');
    expect(got.status).toBe(0);
  });

  it('shows unmanaged rules and exits 2', async () => {
    const compiled = await run(['compile', 'hosts']);
    writeFileSync(
      join(repo.dir, 'deployed.txt'),
      `${verbose(compiled.stdout)}\n@9 block drop in quick on em0 inet proto tcp from any to any port = 23\n`,
    );
    const got = await run(['plan', 'hosts', '--deployed', 'deployed.txt']);
    expect(got.status).toBe(2);
    expect(got.stdout).toContain('Unmanaged rules in the anchor');
    expect(got.stdout).toContain('block drop in quick on em0 inet proto tcp from any to any port = 23');
  });

  it('exits 1 when the file cannot be read or holds no rules', async () => {
    expect(await run(['plan', 'hosts', '--deployed', 'missing.txt'])).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('no such file'),
    });
    writeFileSync(join(repo.dir, 'junk.txt'), 'this is not pf\n');
    expect(await run(['plan', 'hosts', '--deployed', 'junk.txt'])).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('holds no pf rule'),
    });
  });
});

describe('pfexpose plan --live (pfctl simulator)', () => {
  it('exits 0 against the loaded anchor, 2 after a change, and saves a plan apply can check', async () => {
    sim = await createSim();
    const compiled = await run(['compile', 'hosts']);
    await sim.writeAnchor('pfexpose', compiled.stdout);
    const same = built(['plan', 'hosts', '--live', '--pfctl', PFCTL_SIM], sim.env);
    expect(same.stderr).toBe('');
    expect(same.status).toBe(0);

    repo.write('hosts/web.yaml', WEB_WITH_DNS);
    const changed = built(['plan', 'hosts', '--live', '-o', 'plan.json'], { ...sim.env, PFEXPOSE_PFCTL: PFCTL_SIM });
    expect(changed.status).toBe(2);
    expect(changed.stdout).toContain('against live anchor "pfexpose"');
    const saved = readPlanFile(readFileSync(join(repo.dir, 'plan.json'), 'utf8'));
    expect(saved.ok).toBe(true);
    if (saved.ok) {
      expect(saved.plan.deployed.fingerprint).toBe(fingerprintDeployedText(compiled.stdout));
      expect(saved.plan.desired.ruleset).toBe((await run(['compile', 'hosts'])).stdout);
    }
  });

  it('shows a table in the anchor as unmanaged and exits 2: pfexpose never writes tables', async () => {
    const pf = createMemoryPf();
    const compiled = await live(pf, ['compile', 'hosts']);
    await pf.writeAnchor('pfexpose', `${compiled.stdout}table <blocklist> persist { 192.0.2.1 }\n`);
    const got = await live(pf, ['plan', 'hosts', '--live']);
    expect(got.stderr).toBe('');
    expect(got.stdout).toContain('0 to add, 0 to change, 0 to remove, 1 unchanged; ruleset +0 -0 lines; 1 unmanaged');
    expect(got.stdout).toContain('Unmanaged tables in the anchor');
    expect(got.stdout).toContain('  table <blocklist>');
    expect(got.status).toBe(2);
    const json = await live(pf, ['plan', 'hosts', '--live', '--format', 'json']);
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({
      changes: true,
      unmanaged: [{ kind: 'table', rule: 'table <blocklist>' }],
    });
  });

  it('exits 1 when the anchor is missing, pf is disabled or pfctl prints an error', async () => {
    const pf = createMemoryPf();
    const missing = await live(pf, ['plan', 'hosts', '--live', '--anchor', 'other']);
    expect(missing.status).toBe(1);
    // An anchor pf.conf does not call: apply's preflight refuses it, and says what to add.
    expect(missing.stderr).toContain('the main pf ruleset does not call anchor "other"');
    expect(missing.stderr).toContain('  rdr-anchor "other"\n  anchor "other"\n');
    await pf.setControl({ showError: 'DIOCGETRULES: Operation not permitted' });
    const error = await live(pf, ['plan', 'hosts', '--live']);
    expect(error.status).toBe(1);
    expect(error.stderr).toContain('Operation not permitted');
    await pf.setControl({});
    await pf.setEnabled(false);
    const disabled = await live(pf, ['plan', 'hosts', '--live']);
    expect(disabled.status).toBe(1);
    expect(disabled.stderr).toContain('pf is disabled');
  });
});
