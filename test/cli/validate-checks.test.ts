// validate runs compile's checks for every host, without the host (issue 11): what compile refuses,
// validate refuses, with the same codes at the same places; and it never writes.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/cli.js';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'pfexpose-validate-'));
  temps.push(root);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

type Place = [code: string, file: string, line: number, column: number];

interface JsonDiagnostic {
  code: string;
  severity: string;
  file?: string;
  line?: number;
  column?: number;
}

async function validate(
  root: string,
  extra: string[] = [],
): Promise<{ code: number | null; errors: Place[]; warnings: Place[] }> {
  const result = await runInProcess(['validate', '--format', 'json', ...extra, '.'], { cwd: root });
  const { diagnostics } = JSON.parse(result.stdout) as { diagnostics: JsonDiagnostic[] };
  const place = (d: JsonDiagnostic): Place => [d.code, d.file ?? '', d.line ?? 0, d.column ?? 0];
  return {
    code: result.code,
    errors: diagnostics.filter((d) => d.severity === 'error').map(place),
    warnings: diagnostics.filter((d) => d.severity === 'warning').map(place),
  };
}

/** compile's errors as code/file/line/column, from its text output on stderr. */
async function compileErrors(root: string, args: string[]): Promise<{ code: number | null; errors: Place[] }> {
  const result = await runInProcess(['compile', '.', ...args], { cwd: root });
  const errors = [...result.stderr.matchAll(/^(.+?):(\d+):(\d+): error ([a-z0-9-]+) /gm)].map((m): Place => [
    m[4] ?? '',
    m[1] ?? '',
    Number(m[2]),
    Number(m[3]),
  ]);
  return { code: result.code, errors };
}

const HOSTS_DB = 'version: 1\nhosts:\n  db1:\n    gateway: em0\n  db2:\n    gateway: em0\n';

describe('validate refuses what compile refuses, with the same codes at the same places', () => {
  it.each<[string, Record<string, string>, string[][], Place[]]>([
    [
      'a port conflict in one file',
      {
        'a.yaml':
          'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: [em0:8080:80]\n  api:\n    ip: 10.0.0.3\n    ports: [em0:8080:81]\n',
      },
      [[]],
      [
        ['port-conflict', 'a.yaml', 5, 13],
        ['port-conflict', 'a.yaml', 8, 13],
      ],
    ],
    [
      'a port conflict across two files (on the declared gateway)',
      {
        'hosts.yaml': 'version: 1\nhosts:\n  www1:\n    gateway: em0\n',
        'a.yaml': 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: [8080:80]\n',
        'b.yaml': 'version: 1\ncontainers:\n  api:\n    ip: 10.0.0.3\n    ports:\n      - em0:8080:81\n',
      },
      [[]],
      [
        ['port-conflict', 'a.yaml', 5, 13],
        ['port-conflict', 'b.yaml', 6, 9],
      ],
    ],
    [
      'em2:80:80 on a host whose interfaces allow only em0',
      {
        'h.yaml':
          'version: 1\nhosts:\n  www1:\n    gateway: em0\n    interfaces: [em0]\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: [em2:80:80]\n',
      },
      [[]],
      [['interface-not-allowed', 'h.yaml', 9, 13]],
    ],
    [
      'host: db3 where only db1 and db2 are declared',
      {
        'hosts.yaml': HOSTS_DB,
        'apps.yaml':
          'version: 1\nhost: db1\ncontainers:\n  pg:\n    ip: 10.0.0.2\n    ports: [5432]\n  pg2:\n    host: db3\n    ip: 10.0.0.3\n    ports: [5433]\n',
      },
      [
        ['--host', 'db1'],
        ['--host', 'db2'],
      ],
      [['host-undeclared', 'apps.yaml', 8, 11]],
    ],
    [
      'a conflict on one host of two: found without --host',
      {
        'hosts.yaml': HOSTS_DB,
        'db1.yaml': 'version: 1\nhost: db1\ncontainers:\n  a:\n    ip: 10.0.0.2\n    ports: [5432]\n',
        'db2.yaml':
          'version: 1\nhost: db2\ncontainers:\n  b:\n    ip: 10.0.1.2\n    ports: [5432]\n  c:\n    ip: 10.0.1.3\n    ports: [5432]\n',
      },
      [
        ['--host', 'db1'],
        ['--host', 'db2'],
      ],
      [
        ['port-conflict', 'db2.yaml', 6, 13],
        ['port-conflict', 'db2.yaml', 9, 13],
      ],
    ],
    [
      'a container without a host in a multi-host repository: reported once, not once per host',
      {
        'hosts.yaml': HOSTS_DB,
        'db1.yaml': 'version: 1\nhost: db1\ncontainers:\n  a:\n    ip: 10.0.0.2\n',
        'stray.yaml': 'version: 1\ncontainers:\n  lost:\n    ip: 10.0.0.9\n    ports: [80]\n',
      },
      [
        ['--host', 'db1'],
        ['--host', 'db2'],
      ],
      [['container-without-host', 'stray.yaml', 3, 3]],
    ],
    [
      'a gateway allowed by no interfaces list',
      { 'h.yaml': 'version: 1\nhosts:\n  www1:\n    gateway: em1\n    interfaces: [em0]\n' },
      [[]],
      [['interface-not-allowed', 'h.yaml', 3, 3]],
    ],
    [
      'a fixed host port on a port the lock file allocated (the lock is held, as compile holds it)',
      {
        'a.yaml':
          'version: 1\nsyntax: docker\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: ["80"]\n  api:\n    ip: 10.0.0.3\n    ports: ["49000:81"]\n',
        'pfexpose.lock.json': `${JSON.stringify({ version: 1, entries: [{ host: null, container: 'web', protocol: 'tcp', interface: null, hostAddress: null, containerPort: { start: 80, end: 80 }, kind: 'ephemeral', hostPort: { start: 49000, end: 49000 } }] }, null, 2)}\n`,
      },
      [[]],
      [
        ['port-conflict', 'a.yaml', 6, 13],
        ['port-conflict', 'a.yaml', 9, 13],
      ],
    ],
  ])('%s', async (_name, files, compileArgs, want) => {
    const root = tree(files);
    const before = existsSync(join(root, 'pfexpose.lock.json'))
      ? readFileSync(join(root, 'pfexpose.lock.json'), 'utf8')
      : null;
    const result = await validate(root);
    expect(result.errors).toEqual(want);
    expect(result.code).toBe(1);
    // compile refuses too, and the union over the hosts it is run for is exactly validate's set.
    const union = new Map<string, Place>();
    const exits: (number | null)[] = [];
    for (const args of compileArgs) {
      const compiled = await compileErrors(root, args);
      exits.push(compiled.code);
      expect(compiled.code).toBe(compiled.errors.length > 0 ? 1 : 0);
      for (const p of compiled.errors) union.set(JSON.stringify(p), p);
    }
    expect(exits).toContain(1);
    expect([...union.values()].sort()).toEqual([...want].sort());
    // Nothing written: the lock file is as it was (absent stays absent).
    expect(
      existsSync(join(root, 'pfexpose.lock.json')) ? readFileSync(join(root, 'pfexpose.lock.json'), 'utf8') : null,
    ).toBe(before);
  });
});

describe('validate without the host', () => {
  it('checks every host of a multi-host repository without --host (compile needs one) and names how many', async () => {
    const root = tree({
      'hosts.yaml': HOSTS_DB,
      'db1.yaml': 'version: 1\nhost: db1\ncontainers:\n  a:\n    ip: 10.0.0.2\n    ports: [5432]\n',
      'db2.yaml': 'version: 1\nhost: db2\ncontainers:\n  a:\n    ip: 10.0.1.2\n    ports: [5432]\n',
    });
    expect((await compileErrors(root, [])).errors.map((p) => p[0])).toEqual(['host-required']);
    const result = await runInProcess(['validate', '.'], { cwd: root });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('3 files, 2 containers, 2 hosts: valid\n');
  });

  it('does not demand a gateway that only route(8) would find, but still checks entries on it against each other', async () => {
    const one = tree({ 'a.yaml': 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: [8080, 8443:443]\n' });
    expect((await compileErrors(one, [])).errors.map((p) => p[0])).toEqual(['gateway-missing', 'gateway-missing']);
    expect(await validate(one)).toEqual({ code: 0, errors: [], warnings: [] });

    const clash = tree({
      'a.yaml': 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: [8080]\n',
      'b.yaml': 'version: 1\ncontainers:\n  api:\n    ip: 10.0.0.3\n    ports: [8080:80]\n',
    });
    const result = await runInProcess(['validate', '.'], { cwd: clash });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'a.yaml:5:13: error port-conflict tcp host port 8080 on the gateway is also claimed by api at b.yaml:5:13',
    );
    // compile agrees once it knows the gateway, whichever interface route(8) names.
    expect((await compileErrors(clash, ['--gateway', 'em0'])).errors).toEqual([
      ['port-conflict', 'a.yaml', 5, 13],
      ['port-conflict', 'b.yaml', 5, 13],
    ]);
  });

  it('checks the lock file: unreadable or invalid is an error, a missing allocation is not, and nothing is written', async () => {
    const manifest = 'version: 1\nsyntax: docker\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: ["80"]\n';
    const fresh = tree({ 'a.yaml': manifest });
    expect(await validate(fresh)).toEqual({ code: 0, errors: [], warnings: [] });
    expect(existsSync(join(fresh, 'pfexpose.lock.json'))).toBe(false);

    const broken = tree({ 'a.yaml': manifest, 'pfexpose.lock.json': '{"version": 1, "entries": [\n' });
    const result = await validate(broken);
    expect(result.code).toBe(1);
    expect(result.errors.map((p) => [p[0], p[1]])).toEqual([['lock-syntax', 'pfexpose.lock.json']]);

    const schema = tree({ 'a.yaml': manifest, 'other.lock.json': '{"version": 2, "entries": []}\n' });
    expect((await validate(schema)).code).toBe(0);
    const viaFlag = await validate(schema, ['--lock', 'other.lock.json']);
    expect(viaFlag.code).toBe(1);
    expect(viaFlag.errors.map((p) => [p[0], p[1]])).toEqual([['lock-schema', 'other.lock.json']]);
    expect(readFileSync(join(schema, 'other.lock.json'), 'utf8')).toBe('{"version": 2, "entries": []}\n');
  });

  it('warns, as compile does, about a lock entry outside the pool, and leaves the lock as it is', async () => {
    const lock = `${JSON.stringify({ version: 1, entries: [{ host: 'www1', container: 'web', protocol: 'tcp', interface: null, hostAddress: null, containerPort: { start: 80, end: 80 }, kind: 'ephemeral', hostPort: { start: 30000, end: 30000 } }] }, null, 2)}\n`;
    const root = tree({
      'a.yaml':
        'version: 1\nhosts:\n  www1:\n    gateway: em0\n    pool: 40000-40010\nsyntax: docker\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: ["80"]\n',
      'pfexpose.lock.json': lock,
    });
    const result = await validate(root);
    expect(result.code).toBe(0);
    expect(result.warnings.map((p) => p[0])).toEqual(['lock-moved']);
    expect(readFileSync(join(root, 'pfexpose.lock.json'), 'utf8')).toBe(lock);
    expect((await runInProcess(['compile', '.', '--frozen'], { cwd: root })).code).toBe(1);
  });
});
