import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findManifestFiles } from '../../src/manifest/find-manifest-files.js';

describe('findManifestFiles', () => {
  const root = mkdtempSync(join(tmpdir(), 'pfexpose-find-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  for (const name of [
    'b.yaml',
    'B.yaml',
    'a.yml',
    'notes.txt',
    'sub/z.yaml',
    'sub/a.YAML',
    '.hidden/x.yaml',
    'other.conf',
  ]) {
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
    [
      'overlapping paths give each file once',
      { given: ['m/sub', 'm/sub/z.yaml', 'm'], want: ['m/B.yaml', 'm/a.yml', 'm/b.yaml', 'm/sub/z.yaml'] },
    ],
    ['a dot-directory named explicitly is searched', { given: ['m/.hidden'], want: ['m/.hidden/x.yaml'] }],
  ];
  it.each(cases)('%s', async (_name, { given, want }) => {
    expect(await names(given)).toEqual(want);
  });

  it('an absolute path stays absolute', async () => {
    expect(await names([join(root, 'm', 'sub')])).toEqual([join(root, 'm', 'sub', 'z.yaml')]);
  });
});

describe('findManifestFiles: discovery stays inside the paths given', () => {
  const root = mkdtempSync(join(tmpdir(), 'pfexpose-roots-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text = 'version: 1\n'): void => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write('secret/passwd', 'SECRET-LINE\n');
  write('secret/inner.yaml');
  write('m/ok.yaml');
  write('m/data/notes.txt', 'version: 1\n');
  write('other/shared.yaml');
  // Out of the tree: a file link, a directory link, an absolute link to a device.
  symlinkSync('../secret/passwd', join(root, 'm', 'x.yaml'));
  symlinkSync('../secret', join(root, 'm', 'outdir'));
  symlinkSync('/dev/null', join(root, 'm', 'null.yaml'));
  // A link out of the tree that is not a manifest by name, to a file: never read, nothing to say.
  symlinkSync('../secret/passwd', join(root, 'm', 'passwd-link'));
  // node_modules is skipped whatever it is: package managers make it a link.
  symlinkSync('../secret', join(root, 'm', 'node_modules'));
  // Inside the tree: followed.
  symlinkSync('data/notes.txt', join(root, 'm', 'notes.yaml'));
  symlinkSync('../other/shared.yaml', join(root, 'm', 'shared-link.yaml'));
  // Editors' litter: an Emacs lock link (dangling) and a swap file; both skipped silently.
  symlinkSync('root@host.1234:1700000000', join(root, 'm', '.#ok.yaml'));
  writeFileSync(join(root, 'm', '.ok.yaml.swp'), 'binary\0');
  write('m/.dotted.yaml', 'not: [valid');
  // A link loop between two names, and a FIFO named like a manifest.
  symlinkSync('loop-b.yaml', join(root, 'm', 'loop-a.yaml'));
  symlinkSync('loop-a.yaml', join(root, 'm', 'loop-b.yaml'));
  execFileSync('mkfifo', [join(root, 'm', 'pipe.yaml')]);

  const find = (paths: string[]) => findManifestFiles(paths, { cwd: root });

  it('reports links out of the tree by the link name, follows links inside, skips dot-files', async () => {
    const got = await find(['m']);
    expect(got.files.map((f) => f.file)).toEqual(['m/notes.yaml', 'm/ok.yaml']);
    expect(got.diagnostics.map((d) => [d.code, d.file])).toEqual([
      ['symlink-loop', 'm/loop-a.yaml'],
      ['symlink-loop', 'm/loop-b.yaml'],
      ['symlink-outside', 'm/null.yaml'],
      ['symlink-outside', 'm/outdir'],
      ['file-not-regular', 'm/pipe.yaml'],
      ['symlink-outside', 'm/shared-link.yaml'],
      ['symlink-outside', 'm/x.yaml'],
    ]);
    const said = JSON.stringify(got.diagnostics);
    expect(said).not.toContain('SECRET');
    expect(said).not.toContain('secret');
    expect(said).not.toContain('/dev/null');
  });

  it('a link into another path given is followed (and read once)', async () => {
    const got = await find(['m', 'other']);
    expect(got.files.map((f) => f.file)).toEqual(['m/notes.yaml', 'm/ok.yaml', 'm/shared-link.yaml']);
    expect(got.diagnostics.map((d) => d.file)).not.toContain('m/shared-link.yaml');
  });

  it('a link found while searching is read without following a link swapped in later', async () => {
    const got = await find(['m']);
    const notes = got.files.find((f) => f.file === 'm/notes.yaml');
    expect(notes).toEqual({
      file: 'm/notes.yaml',
      absolute: join(realpathSync(root), 'm', 'data', 'notes.txt'),
      noFollow: true,
    });
  });

  const explicit: [string, { given: string; want: [string, string][] }][] = [
    ['a FIFO named explicitly', { given: 'm/pipe.yaml', want: [['file-not-regular', 'm/pipe.yaml']] }],
    ['/dev/null named explicitly', { given: '/dev/null', want: [['file-not-regular', '/dev/null']] }],
    ['/dev/zero named explicitly', { given: '/dev/zero', want: [['file-not-regular', '/dev/zero']] }],
    ['a link loop named explicitly', { given: 'm/loop-a.yaml', want: [['symlink-loop', 'm/loop-a.yaml']] }],
  ];
  it.each(explicit)('%s is a diagnostic at once', async (_name, { given, want }) => {
    const got = await find([given]);
    expect(got.files).toEqual([]);
    expect(got.diagnostics.map((d) => [d.code, d.file])).toEqual(want);
  });

  it('a link named explicitly is followed: the user named it', async () => {
    const got = await find(['m/x.yaml']);
    expect(got.files.map((f) => f.file)).toEqual(['m/x.yaml']);
    expect(got.diagnostics).toEqual([]);
  });
});

describe('findManifestFiles: hidden paths and .pfexposeignore', () => {
  const root = mkdtempSync(join(tmpdir(), 'pfexpose-ignore-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text = 'version: 1\n'): void => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  // A repository root: manifests beside what other tools keep there.
  for (const path of [
    'repo/web.yaml',
    'repo/docker-compose.yml',
    'repo/.pre-commit-config.yaml',
    'repo/.github/workflows/ci.yml',
    'repo/hosts/db.yaml',
    'repo/hosts/docker-compose.yml',
    'repo/vendor/lib.yaml',
    'repo/vendor/keep.yaml',
    'repo/templates/a.tmpl.yaml',
    'repo/templates/b.yaml',
    'repo/Docker-compose.yml',
    'repo/hosts/.pfexposeignore',
    'bare/web.yaml',
    'bare/docker-compose.yml',
    'bare/.gitlab-ci.yml',
    'bare/.config/x.yaml',
  ]) {
    write(path);
  }
  write(
    'repo/.pfexposeignore',
    "\ufeff# other tools' files\n/docker-compose.yml\nhosts/docker-compose.yml\nvendor/\n!vendor/keep.yaml\n*.tmpl.yaml\nlinked-dir/\n",
  );
  write('repo/hosts/.pfexposeignore', 'db.yaml\n');
  symlinkSync('templates', join(root, 'repo', 'linked-dir'));
  symlinkSync('/etc', join(root, 'repo', 'vendor', 'outside'));

  const find = (paths: string[]) => findManifestFiles(paths, { cwd: root });
  const cases: [string, { given: string[]; files: string[]; diagnostics?: [string, string][] }][] = [
    [
      'without an ignore file only hidden paths are skipped',
      { given: ['bare'], files: ['bare/docker-compose.yml', 'bare/web.yaml'] },
    ],
    [
      'the root ignore file skips files, directories (what is under them too) and globs; Case matters',
      {
        given: ['repo'],
        files: ['repo/Docker-compose.yml', 'repo/hosts/db.yaml', 'repo/templates/b.yaml', 'repo/web.yaml'],
      },
    ],
    [
      'a file the ignore file names is still read when named on the command line',
      {
        given: ['repo', 'repo/docker-compose.yml'],
        files: [
          'repo/Docker-compose.yml',
          'repo/docker-compose.yml',
          'repo/hosts/db.yaml',
          'repo/templates/b.yaml',
          'repo/web.yaml',
        ],
      },
    ],
    [
      'a hidden file or directory named on the command line is read',
      { given: ['bare/.gitlab-ci.yml', 'bare/.config'], files: ['bare/.config/x.yaml', 'bare/.gitlab-ci.yml'] },
    ],
    [
      'a subdirectory given is a root of its own: its ignore file counts, the parent one does not',
      { given: ['repo/hosts'], files: ['repo/hosts/docker-compose.yml'] },
    ],
    [
      'overlapping roots: a file is read when any root reaches it without ignoring it, in any order',
      {
        given: ['repo/hosts', 'repo'],
        files: [
          'repo/Docker-compose.yml',
          'repo/hosts/db.yaml',
          'repo/hosts/docker-compose.yml',
          'repo/templates/b.yaml',
          'repo/web.yaml',
        ],
      },
    ],
    [
      'the same, the other way round',
      {
        given: ['repo', 'repo/hosts'],
        files: [
          'repo/Docker-compose.yml',
          'repo/hosts/db.yaml',
          'repo/hosts/docker-compose.yml',
          'repo/templates/b.yaml',
          'repo/web.yaml',
        ],
      },
    ],
  ];
  it.each(cases)('%s', async (_name, { given, files, diagnostics = [] }) => {
    const got = await find(given);
    expect(got.files.map((f) => f.file)).toEqual(files);
    expect(got.diagnostics.map((d) => [d.code, d.file])).toEqual(diagnostics);
  });

  it('an ignored link is neither followed nor reported, even one leading outside', async () => {
    // vendor/ is ignored, so vendor/outside (-> /etc) says nothing; linked-dir/ is ignored as a directory.
    const got = await find(['repo']);
    expect(got.diagnostics).toEqual([]);
    expect(got.files.map((f) => f.file)).not.toContain('repo/linked-dir/b.yaml');
  });

  const broken: [string, { setup: (dir: string) => void; want: RegExp }][] = [
    ['a directory', { setup: (dir) => mkdirSync(join(dir, '.pfexposeignore')), want: /directory/ }],
    ['a dangling link', { setup: (dir) => symlinkSync('nowhere', join(dir, '.pfexposeignore')), want: /dangling/ }],
    [
      'a link leading outside the paths given',
      { setup: (dir) => symlinkSync('/etc/hostname', join(dir, '.pfexposeignore')), want: /outside/ },
    ],
    ['a FIFO', { setup: (dir) => execFileSync('mkfifo', [join(dir, '.pfexposeignore')]), want: /FIFO/ }],
  ];
  it.each(broken)(
    'an ignore file that is %s is an error naming it, and its directory is not searched',
    async (name, { setup, want }) => {
      const dir = join(root, `broken-${name.replace(/\W+/g, '-')}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'web.yaml'), 'version: 1\n');
      setup(dir);
      const given = `broken-${name.replace(/\W+/g, '-')}`;
      const got = await find([given]);
      expect(got.files).toEqual([]);
      expect(got.diagnostics.map((d) => [d.code, d.file])).toEqual([
        ['ignore-file-unreadable', `${given}/.pfexposeignore`],
      ]);
      expect(got.diagnostics[0]?.message).toMatch(want);
    },
  );
});
