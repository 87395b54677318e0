// `pfexpose init` and `pfexpose import` as a user runs them (in process): what they write, what
// they refuse (and that a refusal creates no directory and writes no file), their exit codes.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RouteTable } from '../../src/model/default-route.js';
import { runInProcess } from '../helpers/cli.js';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pfexpose-import-cli-'));
  temps.push(dir);
  return dir;
}

const routeAnswering = (answer: Awaited<ReturnType<RouteTable['defaultRoute']>>) => (): RouteTable => ({
  defaultRoute: () => Promise.resolve(answer),
});

/** An `ifconfig` stand-in that prints `names` for `-l`. */
function fakeIfconfig(dir: string, names: string): string {
  const path = join(dir, 'ifconfig.sh');
  writeFileSync(path, `#!/bin/sh\n[ "$1" = "-l" ] || exit 1\necho '${names}'\n`);
  chmodSync(path, 0o755);
  return path;
}

const COMPOSE = `services:
  web:
    image: nginx
    ports:
      - "127.0.0.1:8081:80"
      - "8443:443"
      - target: 53
        published: 5353
        protocol: udp
`;

describe('pfexpose init', () => {
  it('--gateway em0 in an empty directory writes manifests that validate accepts', async () => {
    const dir = tempDir();
    const init = await runInProcess(['init', '--gateway', 'em0', '--host', 'www1'], {
      cwd: dir,
      env: { PFEXPOSE_IFCONFIG: join(dir, 'no-such-ifconfig') },
    });
    expect(init.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['example.yaml', 'host.yaml']);
    const host = readFileSync(join(dir, 'host.yaml'), 'utf8');
    expect(host).toMatch(/^# yaml-language-server: \$schema=\S+schema\/pfexpose\.schema\.json\n/);
    expect(host).toContain('  www1:\n    gateway: em0 ');
    const validate = await runInProcess(['validate', '.'], { cwd: dir });
    expect(validate.stdout).toBe('');
    expect(validate.code).toBe(0);
  });

  it('points the modeline at the schema of the running pfexpose', async () => {
    const dir = tempDir();
    await runInProcess(['init', 'repo', '--gateway', 'em0'], { cwd: dir, env: { PFEXPOSE_IFCONFIG: '/nonexistent' } });
    const ref = /\$schema=(\S+)/.exec(readFileSync(join(dir, 'repo', 'example.yaml'), 'utf8'))?.[1] ?? '';
    const schema = ref.startsWith('/') ? ref : join(dir, 'repo', ref);
    expect(JSON.parse(readFileSync(schema, 'utf8'))).toMatchObject({ $id: expect.stringContaining('pfexpose') });
  });

  it('asks route(8) for the gateway and ifconfig -l for the interfaces', async () => {
    const dir = tempDir();
    const ifconfig = fakeIfconfig(dir, 'em0 em1 lo0 pflog0 epair0a epair0b bridge0');
    const init = await runInProcess(['init', 'repo', '--host', 'www1'], {
      cwd: dir,
      env: { PFEXPOSE_IFCONFIG: ifconfig },
      route: routeAnswering({ kind: 'found', interface: 'em1', gateway: '192.0.2.1' }),
    });
    expect(init.stderr).toContain('gateway em1');
    expect(init.code).toBe(0);
    const host = readFileSync(join(dir, 'repo', 'host.yaml'), 'utf8');
    expect(host).toContain('    gateway: em1 ');
    expect(host).toContain('    interfaces: [bridge0, em0, em1] ');
    expect((await runInProcess(['validate', 'repo'], { cwd: dir })).code).toBe(0);
  });

  it('refuses without a default route and --gateway, creating nothing', async () => {
    const dir = tempDir();
    const init = await runInProcess(['init', 'repo'], {
      cwd: dir,
      route: routeAnswering({ kind: 'no-route', family: 'inet', message: 'this host has no IPv4 default route' }),
    });
    expect(init.code).toBe(1);
    expect(init.stderr).toContain('--gateway');
    expect(existsSync(join(dir, 'repo'))).toBe(false);
  });

  it('never overwrites: with example.yaml present nothing is written', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'example.yaml'), 'mine\n');
    const init = await runInProcess(['init', '--gateway', 'em0'], { cwd: dir });
    expect(init.code).toBe(1);
    expect(readdirSync(dir)).toEqual(['example.yaml']);
    expect(readFileSync(join(dir, 'example.yaml'), 'utf8')).toBe('mine\n');
  });

  it.each([
    [['--gateway', 'any']],
    [['--gateway', 'em0', '--host', 'bad host']],
    [['--gateway', 'em0', '--interfaces', 'em0,em-1']],
  ])('%j is a usage error', async (args) => {
    const dir = tempDir();
    const init = await runInProcess(['init', ...args], { cwd: dir });
    expect(init.code).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('pfexpose import', () => {
  it('compose with --ip web=10.0.0.2 -o out/ compiles to exactly those redirects', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'docker-compose.yml'), COMPOSE);
    const imported = await runInProcess(
      ['import', 'compose', 'docker-compose.yml', '--ip', 'web=10.0.0.2', '-o', 'out/'],
      {
        cwd: dir,
      },
    );
    expect(imported.stderr).toContain('wrote 1 manifest to out/ (web.yaml)');
    expect(imported.code).toBe(0);
    expect(readdirSync(join(dir, 'out'))).toEqual(['web.yaml']);
    const compiled = await runInProcess(['compile', 'out/', '--gateway', 'em0'], { cwd: dir });
    expect(compiled.code).toBe(0);
    expect(compiled.stdout.split('\n').filter((line) => line.startsWith('rdr'))).toEqual([
      'rdr inet proto tcp from any to (self) port = 8443 tag pfexpose -> 10.0.0.2 port 443',
      'rdr inet proto udp from any to (self) port = 5353 tag pfexpose -> 10.0.0.2 port 53',
      'rdr on lo0 inet proto tcp from any to 127.0.0.1 port = 8081 tag pfexpose -> 10.0.0.2 port 80',
    ]);
  });

  it('prints to stdout without -o, one document per container', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'run.sh'), 'docker run --name a -p 80:80 x\ndocker run --name b -p 81:81 x\n');
    const imported = await runInProcess(
      ['import', 'docker-run', 'run.sh', '--ip', 'a=10.0.0.2', '--ip', 'b=10.0.0.3'],
      {
        cwd: dir,
      },
    );
    expect(imported.code).toBe(0);
    expect(imported.stdout.split('---\n').map((doc) => /containers:\n {2}(\w+):/.exec(doc)?.[1])).toEqual(['a', 'b']);
    expect(readdirSync(dir)).toEqual(['run.sh']);
  });

  it('refuses on an error in the source: located, exit 1, no directory created', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'docker-compose.yml'),
      'services:\n  web:\n    ports:\n      - target: 80\n        mode: ingress\n',
    );
    const imported = await runInProcess(
      ['import', 'compose', 'docker-compose.yml', '--ip', 'web=10.0.0.2', '-o', 'out'],
      {
        cwd: dir,
      },
    );
    expect(imported.code).toBe(1);
    expect(imported.stderr).toMatch(/^docker-compose\.yml:5:15: error import-unsupported /);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('refuses an output directory that is not empty, writing nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'rdr.conf'), 'tcp 80 80\n');
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'out', 'keep.yaml'), 'x\n');
    const imported = await runInProcess(
      ['import', 'bastille', 'rdr.conf', '--ip', `${dir.split('/').pop() ?? ''}=10.0.0.2`, '-o', 'out'],
      {
        cwd: dir,
      },
    );
    expect(imported.code).toBe(1);
    expect(imported.stderr).toContain('out is not empty');
    expect(readdirSync(join(dir, 'out'))).toEqual(['keep.yaml']);
  });

  it.each([
    [['import', 'podman', 'x'], 'unknown format'],
    [['import', 'compose', 'docker-compose.yml', '--ip', 'web'], 'NAME=ADDR'],
    [['import', 'compose', 'docker-compose.yml', '--ip', 'web=10.0.0.2', '--ip', 'wbe=10.0.0.3'], 'wbe'],
  ])('%j is a usage error', async (argv, message) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'docker-compose.yml'), COMPOSE);
    const imported = await runInProcess(argv, { cwd: dir });
    expect(imported.code).toBe(2);
    expect(imported.stderr).toContain(message);
    expect(readdirSync(dir)).toEqual(['docker-compose.yml']);
  });

  it('cannot read a missing file: exit 1', async () => {
    const imported = await runInProcess(['import', 'pot', 'nope/pot.conf'], { cwd: tempDir() });
    expect(imported.code).toBe(1);
    expect(imported.stderr).toContain('cannot read nope/pot.conf');
  });
});
