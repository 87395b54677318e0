// validate --format sarif and --format junit on a manifest with `70000:80`: SARIF 2.1.0 with the
// rule, level, file (from the repository root) and line 5; JUnit with the failing test case.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/cli.js';

const repo = mkdtempSync(join(tmpdir(), 'pfexpose-sarif-'));
afterAll(() => rmSync(repo, { recursive: true, force: true }));
mkdirSync(join(repo, '.git'));
mkdirSync(join(repo, 'deploy', 'hosts'), { recursive: true });
writeFileSync(
  join(repo, 'deploy', 'hosts', 'web.yaml'),
  'version: 1\ncontainers:\n  web:\n    ip: 10.13.37.10\n    ports: ["70000:80"]\n',
);
writeFileSync(join(repo, 'deploy', 'hosts', 'ok.yaml'), 'version: 1\ncontainers:\n  db:\n    ip: 10.13.37.11\n');

// Run from a subdirectory: the paths must still be the repository's.
const validate = (format: string, env: Record<string, string> = {}) =>
  runInProcess(['validate', 'hosts', '--format', format], { cwd: join(repo, 'deploy'), env });

interface Sarif {
  version: string;
  runs: {
    tool: { driver: { name: string; rules: { id: string; help: { text: string } }[] } };
    results: {
      ruleId: string;
      ruleIndex: number;
      level: string;
      message: { text: string };
      locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
    }[];
  }[];
}

describe('validate --format sarif / junit', () => {
  it('SARIF 2.1.0: the rule from the registry, level error, the file from the repository root, line 5', async () => {
    const result = await validate('sarif');
    expect(result.code).toBe(1);
    const log = JSON.parse(result.stdout) as Sarif;
    expect(log.version).toBe('2.1.0');
    const run = log.runs[0]!;
    expect(run.tool.driver.name).toBe('pfexpose');
    const [first] = run.results;
    expect(first?.level).toBe('error');
    expect(first?.locations[0]?.physicalLocation.artifactLocation.uri).toBe('deploy/hosts/web.yaml');
    expect(first?.locations[0]?.physicalLocation.region.startLine).toBe(5);
    const rule = run.tool.driver.rules[first?.ruleIndex ?? -1];
    expect(rule?.id).toBe(first?.ruleId);
    expect(rule?.help.text.length).toBeGreaterThan(20);
    expect(first?.message.text).toContain('70000');
  });

  it('GITHUB_WORKSPACE names the root when set', async () => {
    const log = JSON.parse((await validate('sarif', { GITHUB_WORKSPACE: join(repo, 'deploy') })).stdout) as Sarif;
    expect(log.runs[0]?.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri).toBe('hosts/web.yaml');
    const github = await validate('github');
    expect(github.stdout).toMatch(/^::error file=deploy\/hosts\/web\.yaml,line=5,/m);
  });

  it('JUnit: one test case per file, the one with the error failing', async () => {
    const result = await validate('junit');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '<testsuite name="pfexpose validate" tests="2" failures="1" errors="0" skipped="0">',
    );
    expect(result.stdout).toContain('<testcase name="deploy/hosts/ok.yaml" classname="pfexpose validate"/>');
    expect(result.stdout).toMatch(
      /<testcase name="deploy\/hosts\/web\.yaml" classname="pfexpose validate">\n {6}<failure message="deploy\/hosts\/web\.yaml:5:\d+: error port-[a-z-]+ [^"]*70000/,
    );
  });
});
