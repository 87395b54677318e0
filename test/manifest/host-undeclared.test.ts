// `host:` values must name a declared host once any `hosts:` declares one (issue 11): a typo would
// otherwise make a host of its own and take the container out of the ruleset it was meant for.
import { describe, expect, it } from 'vitest';
import { compileSources } from '../../src/compile/compile.js';
import { loadManifestDocuments } from '../../src/manifest/load-manifests.js';
import { parseManifestText } from '../../src/compile/compile.js';

const HOSTS = ['version: 1', 'hosts:', '  db1:', '    gateway: em0', '  db2:', '    gateway: em0', ''].join('\n');

function load(files: Record<string, string>) {
  return loadManifestDocuments(Object.entries(files).map(([file, text]) => parseManifestText(text, file)));
}

type Found = [code: string, file: string, line: number, column: number, endColumn: number];

function found(files: Record<string, string>): Found[] {
  return load(files)
    .diagnostics.filter((d) => d.code === 'host-undeclared')
    .map((d) => [d.code, d.file, d.line, d.column, d.endColumn]);
}

describe('host-undeclared', () => {
  it.each<[string, Record<string, string>, Found[]]>([
    [
      "a container's own host: at its value",
      {
        'hosts.yaml': HOSTS,
        'apps.yaml': 'version: 1\ncontainers:\n  pg:\n    host: db3\n    ip: 10.0.0.2\n    ports: [5432]\n',
      },
      [['host-undeclared', 'apps.yaml', 4, 11, 14]],
    ],
    [
      "a document's host: once, at its value, not per container",
      {
        'hosts.yaml': HOSTS,
        'apps.yaml': 'version: 1\nhost: "db3"\ncontainers:\n  a:\n    ip: 10.0.0.2\n  b:\n    ip: 10.0.0.3\n',
      },
      [['host-undeclared', 'apps.yaml', 2, 7, 12]],
    ],
    [
      'a container overriding its document with a typo',
      {
        'hosts.yaml': HOSTS,
        'apps.yaml':
          'version: 1\nhost: db1\ncontainers:\n  a:\n    ip: 10.0.0.2\n  b:\n    host: db22\n    ip: 10.0.0.3\n',
      },
      [['host-undeclared', 'apps.yaml', 7, 11, 15]],
    ],
    [
      'declared in the same document',
      { 'one.yaml': 'version: 1\nhosts:\n  www1: {}\ncontainers:\n  a:\n    host: www2\n    ip: 10.0.0.2\n' },
      [['host-undeclared', 'one.yaml', 6, 11, 15]],
    ],
    [
      'every host named is declared',
      {
        'hosts.yaml': HOSTS,
        'apps.yaml': 'version: 1\nhost: db2\ncontainers:\n  a:\n    host: db1\n    ip: 10.0.0.2\n',
      },
      [],
    ],
    [
      'no hosts: anywhere: host names stay free',
      {
        'a.yaml':
          'version: 1\nhost: alpha\ncontainers:\n  a:\n    ip: 10.0.0.2\n  b:\n    host: beta\n    ip: 10.0.0.3\n',
      },
      [],
    ],
  ])('%s', (_name, files, want) => {
    expect(found(files)).toEqual(want);
  });

  it('suggests the closest declared host, and none when nothing is close', () => {
    const near = load({
      'hosts.yaml': HOSTS,
      'a.yaml': 'version: 1\ncontainers:\n  a:\n    host: db3\n    ip: 10.0.0.2\n',
    });
    const d = near.diagnostics.find((x) => x.code === 'host-undeclared');
    expect(d?.message).toContain('declare hosts db1, db2');
    expect(d?.message).toMatch(/did you mean db1\?$/);
    const far = load({
      'hosts.yaml': HOSTS,
      'a.yaml': 'version: 1\ncontainers:\n  a:\n    host: frontend\n    ip: 10.0.0.2\n',
    });
    expect(far.diagnostics.find((x) => x.code === 'host-undeclared')?.message).not.toContain('did you mean');
  });

  it('makes compile refuse every host, so the container cannot silently leave db1', () => {
    const sources = [
      { file: 'hosts.yaml', text: HOSTS },
      {
        file: 'apps.yaml',
        text: 'version: 1\nhost: db1\ncontainers:\n  pg:\n    ip: 10.0.0.2\n    ports: [5432]\n  pg2:\n    host: db3\n    ip: 10.0.0.3\n    ports: [5433]\n',
      },
    ];
    for (const host of ['db1', 'db2']) {
      const outcome = compileSources(sources, { host, dialect: 'freebsd', frozen: false, anchor: 'pfexpose' }, null);
      expect(outcome.ok).toBe(false);
      expect(outcome.diagnostics.map((d) => [d.code, d.file, d.line, d.column])).toEqual([
        ['host-undeclared', 'apps.yaml', 8, 11],
      ]);
    }
  });
});
