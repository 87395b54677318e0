// `pfexpose env CONTAINER`: the example printed exactly as Docker's daemon computes it, the
// other formats, and the refusals.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pfexpose-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

writeFileSync(
  join(dir, 'm.yaml'),
  `version: 1
syntax: docker
containers:
  server:
    ip: 172.0.17.2
    expose: ["6379-6381", "53/udp"]
  client:
    ip: 172.0.17.3
    links: ["server:db-docker"]
  third:
    ip: 172.0.17.4
`,
);

const env = (...args: string[]) => runInProcess(['env', ...args, '-m', dir], { cwd: dir });

describe('pfexpose env', () => {
  it("prints Docker's variables for the link, in Docker's order", async () => {
    const result = await env('client');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const ip = '172.0.17.2';
    const port = (n: number) => [
      `DB_DOCKER_PORT_${n}_TCP=tcp://${ip}:${n}`,
      `DB_DOCKER_PORT_${n}_TCP_ADDR=${ip}`,
      `DB_DOCKER_PORT_${n}_TCP_PORT=${n}`,
      `DB_DOCKER_PORT_${n}_TCP_PROTO=tcp`,
    ];
    expect(result.stdout).toBe(
      [
        `DB_DOCKER_PORT=tcp://${ip}:6379`,
        ...port(6379),
        ...port(6380),
        ...port(6381),
        `DB_DOCKER_PORT_53_UDP=udp://${ip}:53`,
        `DB_DOCKER_PORT_53_UDP_ADDR=${ip}`,
        'DB_DOCKER_PORT_53_UDP_PORT=53',
        'DB_DOCKER_PORT_53_UDP_PROTO=udp',
        `DB_DOCKER_PORT_6379_TCP_START=tcp://${ip}:6379`,
        'DB_DOCKER_PORT_6379_TCP_PORT_START=6379',
        `DB_DOCKER_PORT_6379_TCP_END=tcp://${ip}:6381`,
        'DB_DOCKER_PORT_6379_TCP_PORT_END=6381',
        'DB_DOCKER_NAME=/client/db-docker',
        '',
      ].join('\n'),
    );
  });

  it('prints sh, json and hosts forms of the same link', async () => {
    const sh = await env('client', '--format', 'sh');
    expect(sh.stdout).toContain("export DB_DOCKER_NAME='/client/db-docker'\n");
    const json = JSON.parse((await env('client', '--format', 'json')).stdout) as {
      command: string;
      container: string;
      links: { alias: string; server: string; address: string; variables: Record<string, string> }[];
    };
    expect(Object.keys(json)).toEqual(['formatVersion', 'command', 'diagnostics', 'container', 'links']);
    expect([json.command, json.container]).toEqual(['env', 'client']);
    expect(json.links.map((l) => [l.alias, l.server, l.address])).toEqual([['db-docker', 'server', '172.0.17.2']]);
    expect(json.links[0]?.variables['DB_DOCKER_PORT_53_UDP_PROTO']).toBe('udp');
    expect((await env('client', '--format', 'hosts')).stdout).toBe('172.0.17.2\tdb-docker server\n');
  });

  it('a container without links prints nothing and says so; an unknown one is refused with a suggestion', async () => {
    const none = await env('third');
    expect([none.code, none.stdout]).toEqual([0, '']);
    expect(none.stderr).toContain('has no links');
    const unknown = await env('clint');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('pfexpose: no container "clint" in the manifests; did you mean client?\n');
    const format = await env('client', '--format', 'yaml');
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('--format "yaml": use one of env, sh, json, hosts');
  });

  it('compile --format json carries the links as reaches; ls --links lists them', async () => {
    const compiled = await runInProcess(['compile', dir, '--format', 'json', '--gateway', 'em0'], { cwd: dir });
    expect(compiled.code).toBe(0);
    const json = JSON.parse(compiled.stdout) as { reaches: { label: string; client: string; port: string }[] };
    expect(json.reaches.map((r) => [r.label, r.client, r.port])).toEqual([
      ['link:client:db-docker:tcp:6379-6381', 'client', '6379-6381'],
      ['link:client:db-docker:udp:53', 'client', '53'],
    ]);
    const ls = await runInProcess(['ls', '--links', dir], { cwd: dir });
    expect(ls.code).toBe(0);
    expect(ls.stdout.split('\n')[1]).toMatch(
      /^client 172\.0\.17\.3 +-> +server 172\.0\.17\.2:6379-6381 +tcp\/4 +link as db-docker +link:client:db-docker:tcp:6379-6381 /,
    );
  });
});
