// Issue 11: validate exits 1 with compile's codes where compile refuses (main() in process), and
// an unknown --host is said as `pfexpose: ...`, never at `<command line>:1:1` (the built CLI: its
// exact stderr and exit status). Run `npm run build` first when running this file alone.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBuilt, runInProcess, STACK_TRACE } from '../helpers/cli.js';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'pfexpose-e2e-validate-'));
  roots.push(root);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

const HOSTS_DB = 'version: 1\nhosts:\n  db1:\n    gateway: em0\n  db2:\n    gateway: em0\n';

type Place = [code: string, file: string, line: number, column: number];

describe('validate agrees with compile (built CLI)', () => {
  it.each<[string, Record<string, string>, string[], Place[]]>([
    [
      'a conflict in one file',
      {
        'web.yaml':
          'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: [em0:8080:80]\n  api:\n    ip: 10.0.0.3\n    ports: [em0:8080:81]\n',
      },
      [],
      [
        ['port-conflict', 'web.yaml', 5, 13],
        ['port-conflict', 'web.yaml', 8, 13],
      ],
    ],
    [
      'a conflict across two files',
      {
        'a.yaml': 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: [em0:8080:80]\n',
        'b.yaml': 'version: 1\ncontainers:\n  api:\n    ip: 10.0.0.3\n    ports: [em0:8080:81]\n',
      },
      [],
      [
        ['port-conflict', 'a.yaml', 5, 13],
        ['port-conflict', 'b.yaml', 5, 13],
      ],
    ],
    [
      'em2:80:80 on a host that allows only em0',
      {
        'www1.yaml':
          'version: 1\nhosts:\n  www1:\n    gateway: em0\n    interfaces: [em0]\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: [em2:80:80]\n',
      },
      [],
      [['interface-not-allowed', 'www1.yaml', 9, 13]],
    ],
    [
      'host: db3 where only db1 and db2 are declared',
      {
        'hosts.yaml': HOSTS_DB,
        'apps.yaml':
          'version: 1\nhost: db1\ncontainers:\n  pg:\n    ip: 10.0.0.2\n    ports: [5432]\n  pg3:\n    host: db3\n    ip: 10.0.0.3\n    ports: [5433]\n',
      },
      ['--host', 'db1'],
      [['host-undeclared', 'apps.yaml', 8, 11]],
    ],
  ])(
    '%s: validate exits 1 with the codes compile refuses with',
    async (_name, files, compileArgs, want) => {
      const root = tree(files);
      const json = await runInProcess(['validate', '--format', 'json', '.'], { cwd: root });
      expect(json.code).toBe(1);
      const { diagnostics } = JSON.parse(json.stdout) as {
        diagnostics: { code: string; file: string; line: number; column: number }[];
      };
      expect(diagnostics.map((d): Place => [d.code, d.file, d.line, d.column])).toEqual(want);

      const text = await runInProcess(['validate', '.'], { cwd: root });
      expect(text.code).toBe(1);
      expect(
        text.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => l.replace(/ error ([a-z-]+) .*$/, ' $1')),
      ).toEqual(want.map(([code, file, line, column]) => `${file}:${line}:${column}: ${code}`));

      const compiled = await runInProcess(['compile', ...compileArgs, '.'], { cwd: root });
      expect(compiled.code).toBe(1);
      expect(compiled.stdout).toBe('');
      const refused = [...compiled.stderr.matchAll(/^(.+?):(\d+):(\d+): error ([a-z0-9-]+) /gm)].map((m): Place => [
        m[4] ?? '',
        m[1] ?? '',
        Number(m[2]),
        Number(m[3]),
      ]);
      expect(refused).toEqual(want);
      // Neither wrote anything: no lock file, no other file.
      expect(readdirSync(root).sort()).toEqual(
        Object.keys(files)
          .map((f) => f.split('/')[0])
          .sort(),
      );
    },
    60_000,
  );

  it('says an unknown --host as pfexpose: ..., with the closest host, and exits 1', () => {
    const root = tree({
      'hosts.yaml': HOSTS_DB,
      'apps.yaml': 'version: 1\nhost: db1\ncontainers:\n  pg:\n    ip: 10.0.0.2\n    ports: [5432]\n',
    });
    const result = runBuilt(['compile', '--host', 'db3', '.'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'pfexpose: error unknown-host --host db3 is not a host of these manifests; known hosts: db1 (apps.yaml:2:7), db2 (hosts.yaml:5:3); did you mean db1?\n',
    );
    expect(result.stderr).not.toContain('<command line>');
    expect(result.stderr).not.toMatch(STACK_TRACE);
  }, 30_000);
});
