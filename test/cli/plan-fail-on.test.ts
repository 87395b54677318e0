// `plan --fail-on`: a change that opens a port to every source fails the open-to-all policy with
// its own exit code (3), naming the policy in every format; without --fail-on the plan exits 2 as
// before; a plan that breaks no policy keeps its own exit code.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/cli.js';
import { createRepo, gitEnv, type TempRepo } from '../plan/git-repo.js';

let repo: TempRepo;

const manifest = (from: string) =>
  `version: 1\nhosts:\n  h:\n    gateway: em0\nhost: h\ncontainers:\n  web:\n    ip: 10.13.37.10\n    ports:\n      - kleene: "em0:8443:443"${from}\n`;

beforeEach(() => {
  repo = createRepo();
  repo.write('m.yaml', manifest('\n        from: [192.0.2.0/24]'));
  repo.commit('narrow');
  repo.write('m.yaml', manifest(''));
  repo.commit('open to all');
});
afterEach(() => repo.cleanup());

const plan = (...args: string[]) =>
  runInProcess(['plan', '.', '--base', 'HEAD~1', ...args], {
    cwd: repo.dir,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: repo.dir, ...gitEnv, NO_COLOR: '1' },
  });

describe('plan --fail-on', () => {
  it('exits 3 and names the policy in text; without --fail-on, 2 as before', async () => {
    const gated = await plan('--fail-on', 'open-to-all');
    expect(gated.code).toBe(3);
    expect(gated.stdout).toContain('policy open-to-all violated by 1 change(s):\n  changed web tcp/inet em0:8443');
    expect((await plan()).code).toBe(2);
    // A policy the change does not break leaves the exit code of the plan.
    expect((await plan('--fail-on', 'privileged-port')).code).toBe(2);
    expect((await plan('--fail-on', 'privileged-port,any-change')).code).toBe(3);
  });

  it('names the violated policies in json, markdown and github', async () => {
    const json = JSON.parse((await plan('--fail-on', 'open-to-all,widened', '--format', 'json')).stdout) as {
      policy: { failOn: string[]; violated: { policy: string; count: number }[] };
    };
    expect(json.policy.failOn).toEqual(['open-to-all', 'widened']);
    expect(json.policy.violated.map((v) => [v.policy, v.count])).toEqual([
      ['open-to-all', 1],
      ['widened', 1],
    ]);
    expect((await plan('--fail-on', 'open-to-all', '--format', 'markdown')).stdout).toContain(
      ':no_entry: **policy open-to-all violated by 1 change(s):**',
    );
    expect((await plan('--fail-on', 'open-to-all', '--format', 'github')).stdout).toMatch(
      /^::error title=pfexpose: policy open-to-all violated::policy open-to-all violated by 1 change\(s\):%0A/m,
    );
  });

  it('refuses an unknown policy as a usage error (exit 1, like every plan error)', async () => {
    const bad = await plan('--fail-on', 'open-to-al');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      '--fail-on "open-to-al" is not a policy: use open-to-all, privileged-port, widened, any-change',
    );
  });

  it('sarif: the flag at the manifest line and the broken policy; junit: the flagged change fails', async () => {
    const sarif = JSON.parse((await plan('--fail-on', 'open-to-all', '--format', 'sarif')).stdout) as {
      version: string;
      runs: {
        tool: { driver: { rules: { id: string }[] } };
        results: {
          ruleId: string;
          ruleIndex: number;
          level: string;
          locations?: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
        }[];
      }[];
    };
    const run = sarif.runs[0]!;
    expect(sarif.version).toBe('2.1.0');
    const flag = run.results.find((r) => r.ruleId === 'plan/open-to-all');
    expect(flag?.level).toBe('warning');
    expect(flag?.locations?.[0]?.physicalLocation.artifactLocation.uri).toBe('m.yaml');
    expect(flag?.locations?.[0]?.physicalLocation.region.startLine).toBe(10);
    expect(run.tool.driver.rules[flag?.ruleIndex ?? -1]?.id).toBe('plan/open-to-all');
    expect(run.results.find((r) => r.ruleId === 'policy/open-to-all')?.level).toBe('error');
    const junit = await plan('--format', 'junit');
    expect(junit.code).toBe(2);
    expect(junit.stdout).toMatch(/<testcase name="changed web:tcp:em0:8443" classname="pfexpose plan">\n {6}<failure /);
    expect(junit.stdout).toContain('<testcase name="m.yaml" classname="pfexpose plan"/>');
  });
});
