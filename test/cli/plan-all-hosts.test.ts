// `plan --all-hosts --base HEAD~1` on a two-host repository: both hosts' changes in one output,
// exit code the worst host's; the JSON has a plan per host; the markdown a section per host.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/cli.js';
import { createRepo, gitEnv, type TempRepo } from '../plan/git-repo.js';

let repo: TempRepo;

const host = (name: string, port: number) =>
  `version: 1\nhosts:\n  ${name}:\n    gateway: em0\nhost: ${name}\ncontainers:\n  web-${name}:\n    ip: 10.13.37.${port % 200}\n    ports: ["em0:${port}:80"]\n`;

beforeEach(() => {
  repo = createRepo();
  repo.write('a.yaml', host('alpha', 8080));
  repo.write('b.yaml', host('beta', 8081));
  repo.commit('two hosts');
  repo.write('a.yaml', host('alpha', 9080));
  repo.write('b.yaml', host('beta', 9081));
  repo.commit('both move');
});
afterEach(() => repo.cleanup());

const plan = (...args: string[]) =>
  runInProcess(['plan', '.', '--base', 'HEAD~1', '--all-hosts', ...args], {
    cwd: repo.dir,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: repo.dir, ...gitEnv, NO_COLOR: '1' },
  });

describe('plan --all-hosts', () => {
  it("shows both hosts' changes and exits 2", async () => {
    const result = await plan();
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/^== host alpha ==\npfexpose plan against /);
    expect(result.stdout).toContain('\n== host beta ==\n');
    expect(result.stdout).toContain('web-alpha tcp/inet em0:9080');
    expect(result.stdout).toContain('web-beta tcp/inet em0:9081');
  });

  it('the worst host decides the exit code (a policy broken on one host: 3)', async () => {
    repo.write('b.yaml', host('beta', 81));
    repo.commit('beta on a privileged port');
    const result = await runInProcess(
      ['plan', '.', '--base', 'HEAD~1', '--all-hosts', '--fail-on', 'privileged-port'],
      {
        cwd: repo.dir,
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: repo.dir, ...gitEnv, NO_COLOR: '1' },
      },
    );
    expect(result.code).toBe(3);
  });

  it('json: a plan per host; markdown: a section per host under one marker', async () => {
    const json = JSON.parse((await plan('--format', 'json')).stdout) as {
      formatVersion: number;
      hosts: { host: string; exitCode: number; plan: { command: string; summary: { changed: number } } }[];
    };
    expect(Object.keys(json)).toEqual(['formatVersion', 'command', 'diagnostics', 'hosts']);
    expect(json).toMatchObject({ formatVersion: 1, command: 'plan', diagnostics: [] });
    // Each host's plan is the envelope `plan --host NAME --format json` prints.
    expect(json.hosts.map((h) => [h.host, h.exitCode, h.plan.command, h.plan.summary.changed])).toEqual([
      ['alpha', 2, 'plan', 1],
      ['beta', 2, 'plan', 1],
    ]);
    const markdown = (await plan('--format', 'markdown')).stdout;
    expect(markdown.match(/<!-- pfexpose-plan -->/g)).toHaveLength(1);
    expect(markdown).toContain('### pfexpose plan: host alpha\n');
    expect(markdown).toContain('### pfexpose plan: host beta\n');
  });

  it('refuses --live, --host and -o with it', async () => {
    for (const extra of [
      ['--host', 'alpha'],
      ['-o', 'p.json'],
    ]) {
      const refused = await plan(...extra);
      expect(refused.code, extra.join(' ')).toBe(1);
    }
  });
});
