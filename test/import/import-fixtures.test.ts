// Real-looking files of each format, imported: the manifests are golden files, and each one
// validates and compiles (links included: a source's links become the importer's `links:`).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AddressOptions } from '../../src/import/import-containers.js';
import { importContainers } from '../../src/import/import-containers.js';
import type { ImportFormat } from '../../src/import/imported-container.js';
import { runInProcess } from '../helpers/cli.js';

const FIXTURES = 'test/fixtures/import';
const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Case {
  format: ImportFormat;
  files: string[];
  addresses?: [string, { ip?: string; ip6?: string }][];
  /** The diagnostics (code line:column), warnings included. */
  diagnostics: string[];
  /** The containers imported. */
  containers: string[];
}

const cases: [string, Case][] = [
  [
    'compose',
    {
      format: 'compose',
      files: ['compose/docker-compose.yml'],
      addresses: [
        ['web', { ip: '10.13.37.10', ip6: 'fd00:13:37::10' }],
        ['api', { ip: '10.13.37.11' }],
        ['db', { ip: '10.13.37.12' }],
      ],
      diagnostics: ['import-skipped 32:3'],
      containers: ['api', 'db', 'web'],
    },
  ],
  [
    'docker-run',
    {
      format: 'docker-run',
      files: ['docker-run/run.sh'],
      addresses: [['proxy', { ip: '10.13.37.20' }]],
      diagnostics: [],
      containers: ['app', 'proxy'],
    },
  ],
  [
    'bastille',
    {
      format: 'bastille',
      files: ['bastille/jails/web/rdr.conf', 'bastille/jails/legacy/rdr.conf'],
      addresses: [
        ['web', { ip: '10.17.89.10', ip6: 'fd00:17:89::10' }],
        ['legacy', { ip: '10.17.89.11' }],
      ],
      diagnostics: ['import-dropped 4:6', 'import-dropped 5:32'],
      containers: ['legacy', 'web'],
    },
  ],
  ['pot', { format: 'pot', files: ['pot/jails/www/conf/pot.conf'], diagnostics: [], containers: ['www'] }],
  ['kleene inspect', { format: 'kleene', files: ['kleene/inspect.json'], diagnostics: [], containers: ['webserver'] }],
  ['kleene run', { format: 'kleene', files: ['kleene/run.sh'], diagnostics: [], containers: ['dns', 'webserver'] }],
];

function run(c: Case) {
  const addresses: AddressOptions = new Map(c.addresses ?? []);
  const sources = c.files.map((path) => {
    const file = `${FIXTURES}/${path}`;
    const directories = file.split('/').slice(0, -1).reverse();
    return { file, text: readFileSync(file, 'utf8'), directories };
  });
  return importContainers(c.format, sources, { addresses, interfaces: null, schemaRef: null });
}

describe('import of real-looking files', () => {
  it.each(cases)('%s: golden manifests, which validate', async (name, c) => {
    const outcome = run(c);
    expect(outcome.diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`)).toEqual(c.diagnostics);
    expect(outcome.ok).toBe(true);
    expect(outcome.manifests.map((m) => m.container)).toEqual(c.containers);
    const dir = mkdtempSync(join(tmpdir(), 'pfexpose-import-'));
    temps.push(dir);
    for (const manifest of outcome.manifests) {
      await expect(manifest.text).toMatchFileSnapshot(
        `../fixtures/import/golden/${name.replace(' ', '-')}.${manifest.fileName}`,
      );
      writeFileSync(join(dir, manifest.fileName), manifest.text);
    }
    const validated = await runInProcess(['validate', '--format', 'json', dir]);
    const report = JSON.parse(validated.stdout) as { diagnostics: { severity: string }[] };
    expect(report.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(validated.code).toBe(0);
    const compiled = await runInProcess(['compile', dir, '--gateway', 'em0']);
    expect(compiled.code).toBe(0);
  });

  it('gives byte-identical manifests whatever order the files come in', () => {
    const c = cases.find(([name]) => name === 'bastille')?.[1] as Case;
    const forward = run(c).manifests;
    const backward = run({ ...c, files: [...c.files].reverse() }).manifests;
    expect(backward).toEqual(forward);
  });

  it('carries the Kleene inspect entries over to the same rules', async () => {
    const outcome = run(cases.find(([name]) => name === 'kleene inspect')?.[1] as Case);
    const dir = mkdtempSync(join(tmpdir(), 'pfexpose-import-'));
    temps.push(dir);
    for (const m of outcome.manifests) writeFileSync(join(dir, m.fileName), m.text);
    const compiled = await runInProcess(['compile', dir, '--gateway', 'em0']);
    expect(compiled.stdout.split('\n').filter((line) => line.startsWith('rdr'))).toEqual([
      'rdr on em0 inet proto tcp from any to (em0) port = 8080 tag pfexpose -> 10.13.37.2 port 80',
      'rdr on em0 inet proto udp from any to (em0) port 6000:6010 tag pfexpose -> 10.13.37.2 port 5000:5010',
    ]);
  });

  it('gives a pot port without a host port one from the pool, as pot picked a free one', async () => {
    const outcome = run(cases.find(([name]) => name === 'pot')?.[1] as Case);
    const dir = mkdtempSync(join(tmpdir(), 'pfexpose-import-'));
    temps.push(dir);
    for (const m of outcome.manifests) writeFileSync(join(dir, m.fileName), m.text);
    const compiled = await runInProcess(['compile', dir, '--gateway', 'em0', '--lock', join(dir, 'lock.json')]);
    expect(compiled.stdout.split('\n').filter((line) => line.startsWith('rdr'))).toEqual([
      'rdr on em0 inet proto tcp from any to (em0) port = 30080 tag pfexpose -> 10.192.0.3 port 80',
      'rdr on em0 inet proto tcp from any to (em0) port = 30443 tag pfexpose -> 10.192.0.3 port 443',
      'rdr on em0 inet proto tcp from any to (em0) port = 49000 tag pfexpose -> 10.192.0.3 port 8080',
      'rdr on em0 inet proto udp from any to (em0) port = 30053 tag pfexpose -> 10.192.0.3 port 53',
    ]);
  });
});
