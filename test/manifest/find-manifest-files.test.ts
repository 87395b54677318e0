import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findManifestFiles } from '../../src/manifest/find-manifest-files.js';

describe('findManifestFiles', () => {
  const root = mkdtempSync(join(tmpdir(), 'pfexpose-find-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  for (const name of ['b.yaml', 'B.yaml', 'a.yml', 'notes.txt', 'sub/z.yaml', 'sub/a.YAML', '.hidden/x.yaml', 'other.conf']) {
    mkdirSync(join(root, 'm', name, '..'), { recursive: true });
    writeFileSync(join(root, 'm', name), 'version: 1\n');
  }
  symlinkSync('b.yaml', join(root, 'm', 'link-to-b.yaml'));

  const names = async (paths: string[]) => (await findManifestFiles(paths, { cwd: root })).files.map((f) => f.file);

  const cases: Array<[string, { given: string[]; want: string[] }]> = [
    [
      'a directory: recursive, *.yaml and *.yml, code-unit order, dot-directories skipped, a file reached twice read once',
      { given: ['m'], want: ['m/B.yaml', 'm/a.yml', 'm/b.yaml', 'm/sub/z.yaml'] },
    ],
    ['names keep the form the user gave', { given: ['./m/sub/'], want: ['m/sub/z.yaml'] }],
    ['a file named explicitly is taken whatever its extension', { given: ['m/other.conf'], want: ['m/other.conf'] }],
    ['overlapping paths give each file once', { given: ['m/sub', 'm/sub/z.yaml', 'm'], want: ['m/B.yaml', 'm/a.yml', 'm/b.yaml', 'm/sub/z.yaml'] }],
    ['a dot-directory named explicitly is searched', { given: ['m/.hidden'], want: ['m/.hidden/x.yaml'] }],
  ];
  it.each(cases)('%s', async (_name, { given, want }) => {
    expect(await names(given)).toEqual(want);
  });

  it('an absolute path stays absolute', async () => {
    expect(await names([join(root, 'm', 'sub')])).toEqual([join(root, 'm', 'sub', 'z.yaml')]);
  });
});
