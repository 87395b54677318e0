import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readGitRevision } from '../../src/host/git.js';
import { createRepo, gitEnv, type TempRepo } from './git-repo.js';

let repo: TempRepo | undefined;
afterEach(() => {
  repo?.cleanup();
  repo = undefined;
});

const env = { ...process.env, ...gitEnv };

describe('readGitRevision', () => {
  it('reads manifests and the lock at a revision from git objects, named as in the working tree', async () => {
    repo = createRepo();
    repo.write('hosts/web.yaml', 'version: 1\n# old\n');
    repo.write('hosts/sub/db.yml', 'version: 1\n');
    repo.write('hosts/.hidden/x.yaml', 'skipped\n');
    repo.write('hosts/notes.txt', 'skipped\n');
    repo.write('hosts/pfexpose.lock.json', '{"old":true}\n');
    const first = repo.commit('first');
    repo.write('hosts/web.yaml', 'version: 1\n# new, uncommitted\n');
    repo.write('hosts/new.yaml', 'version: 1\n');
    // git status refreshes the index itself: take it first, then watch the index stay as it is.
    const status = repo.git('status', '--porcelain');
    const index = statSync(join(repo.dir, '.git', 'index')).mtimeMs;

    const got = await readGitRevision({
      cwd: repo.dir,
      ref: 'HEAD',
      paths: ['hosts'],
      lockPath: 'hosts/pfexpose.lock.json',
      env,
    });
    expect(got).toEqual({
      ok: true,
      commit: first,
      sources: [
        { file: 'hosts/sub/db.yml', text: 'version: 1\n' },
        { file: 'hosts/web.yaml', text: 'version: 1\n# old\n' },
      ],
      lockText: '{"old":true}\n',
      missing: [],
    });
    expect(statSync(join(repo.dir, '.git', 'index')).mtimeMs).toBe(index);
    expect(repo.git('status', '--porcelain')).toBe(status);
    expect(status).toContain('hosts/new.yaml');
  });

  it('resolves paths from a subdirectory and takes an explicit file whatever its name', async () => {
    repo = createRepo();
    repo.write('a/b/m.conf', 'version: 1\n');
    repo.commit('first');
    const got = await readGitRevision({
      cwd: join(repo.dir, 'a'),
      ref: 'HEAD',
      paths: ['b/m.conf'],
      lockPath: null,
      env,
    });
    expect(got.ok && got.sources).toEqual([{ file: 'b/m.conf', text: 'version: 1\n' }]);
  });

  it('counts a path that did not exist at the revision as missing', async () => {
    repo = createRepo();
    repo.write('README', 'x\n');
    repo.commit('first');
    const got = await readGitRevision({
      cwd: repo.dir,
      ref: 'HEAD',
      paths: ['hosts'],
      lockPath: 'hosts/pfexpose.lock.json',
      env,
    });
    expect(got).toMatchObject({ ok: true, sources: [], lockText: null, missing: ['hosts'] });
  });

  const failures: [string, { ref: string; cwd?: (r: TempRepo) => string; want: RegExp }][] = [
    ['an unknown revision', { ref: 'no-such-branch', want: /names no commit/ }],
    ['an option-like revision', { ref: '--output=/tmp/x', want: /not a revision/ }],
    ['a directory outside any repository', { ref: 'HEAD', cwd: () => '/', want: /not inside a git repository/ }],
  ];
  it.each(failures)('reports %s', async (_name, { ref, cwd, want }) => {
    repo = createRepo();
    repo.write('m.yaml', 'version: 1\n');
    repo.commit('first');
    const got = await readGitRevision({ cwd: cwd?.(repo) ?? repo.dir, ref, paths: ['.'], lockPath: null, env });
    expect(got.ok).toBe(false);
    if (!got.ok) expect(got.message).toMatch(want);
  });
});

describe('readGitRevision: hidden paths and .pfexposeignore as committed', () => {
  const layout = (r: TempRepo): void => {
    r.write('web.yaml', 'version: 1\n');
    r.write('docker-compose.yml', 'services: {}\n');
    r.write('.pre-commit-config.yaml', 'repos: []\n');
    r.write('.github/workflows/ci.yml', 'on: push\n');
    r.write('vendor/lib.yaml', 'x: 1\n');
    r.write('hosts/db.yaml', 'version: 1\n');
    r.write('hosts/docker-compose.yml', 'services: {}\n');
  };

  it('skips hidden paths and what the committed ignore file names, not what the working tree says', async () => {
    repo = createRepo();
    layout(repo);
    repo.write('.pfexposeignore', 'docker-compose.yml\nvendor/\n');
    repo.commit('first');
    // Uncommitted: the working tree's ignore file no longer ignores anything.
    repo.write('.pfexposeignore', '');
    const got = await readGitRevision({ cwd: repo.dir, ref: 'HEAD', paths: ['.'], lockPath: null, env });
    expect(got.ok && got.sources.map((s) => s.file)).toEqual(['hosts/db.yaml', 'web.yaml']);
  });

  it('reads everything but hidden paths at a revision without an ignore file, even if the working tree has one', async () => {
    repo = createRepo();
    layout(repo);
    repo.commit('first');
    repo.write('.pfexposeignore', 'docker-compose.yml\nvendor/\n');
    const got = await readGitRevision({ cwd: repo.dir, ref: 'HEAD', paths: ['.'], lockPath: null, env });
    expect(got.ok && got.sources.map((s) => s.file)).toEqual([
      'docker-compose.yml',
      'hosts/db.yaml',
      'hosts/docker-compose.yml',
      'vendor/lib.yaml',
      'web.yaml',
    ]);
  });

  it('applies the ignore file of each directory given at its root only; a file named is read anyway', async () => {
    repo = createRepo();
    layout(repo);
    repo.write('.pfexposeignore', 'docker-compose.yml\nvendor/\n');
    repo.commit('first');
    const sub = await readGitRevision({ cwd: repo.dir, ref: 'HEAD', paths: ['hosts'], lockPath: null, env });
    expect(sub.ok && sub.sources.map((s) => s.file)).toEqual(['hosts/db.yaml', 'hosts/docker-compose.yml']);
    const named = await readGitRevision({
      cwd: repo.dir,
      ref: 'HEAD',
      paths: ['.', 'docker-compose.yml'],
      lockPath: null,
      env,
    });
    expect(named.ok && named.sources.map((s) => s.file).sort()).toEqual([
      'docker-compose.yml',
      'hosts/db.yaml',
      'web.yaml',
    ]);
  });

  it('refuses a committed ignore file that is a link leading outside the paths given', async () => {
    repo = createRepo();
    layout(repo);
    repo.write('other/ignore', 'docker-compose.yml\n');
    symlinkSync('../other/ignore', join(repo.dir, 'hosts', '.pfexposeignore'));
    repo.commit('first');
    const got = await readGitRevision({ cwd: repo.dir, ref: 'HEAD', paths: ['hosts'], lockPath: null, env });
    expect(got.ok ? null : got.message).toMatch(/^hosts\/\.pfexposeignore at HEAD .*ignore-file-unreadable/);
  });
});

describe('readGitRevision: links committed in the revision', { timeout: 60_000 }, () => {
  const secret = mkdtempSync(join(tmpdir(), 'pfexpose-secret-'));
  writeFileSync(join(secret, 'shadow'), 'SECRET-SHADOW-LINE\n');
  afterAll(() => rmSync(secret, { recursive: true, force: true }));

  const linked = (links: Record<string, string>): TempRepo => {
    const made = createRepo();
    made.write('hosts/web.yaml', 'version: 1\n');
    made.write('hosts/data/notes.txt', 'version: 1\n# notes\n');
    made.write('other/x.yaml', 'version: 1\n# other\n');
    for (const [path, target] of Object.entries(links)) symlinkSync(target, join(made.dir, path));
    made.commit('links');
    return made;
  };

  const refused: [string, string][] = [
    ['an absolute link to a host file', join(secret, 'shadow')],
    ['a relative link out of the repository', `../../${secret.split('/').slice(1).join('/')}/shadow`],
    ['a link to a repository file outside the paths given', '../other/x.yaml'],
  ];
  it.each(refused)('refuses %s, naming the link and never its target', async (_name, target) => {
    repo = linked({ 'hosts/x.yaml': target });
    const got = await readGitRevision({ cwd: repo.dir, ref: 'HEAD', paths: ['hosts'], lockPath: null, env });
    expect(got.ok).toBe(false);
    if (!got.ok) {
      expect(got.message).toMatch(/^hosts\/x\.yaml at HEAD .*symlink-outside/);
      expect(got.message).not.toContain('SECRET');
      expect(got.message).not.toContain(target);
    }
  });

  it('follows a link inside the paths given through the revision tree', async () => {
    repo = linked({ 'hosts/notes.yaml': 'data/notes.txt', 'hosts/again.yaml': 'web.yaml' });
    const got = await readGitRevision({ cwd: repo.dir, ref: 'HEAD', paths: ['hosts'], lockPath: null, env });
    // again.yaml reaches a manifest read under its own name: read once, there.
    expect(got.ok && got.sources).toEqual([
      { file: 'hosts/notes.yaml', text: 'version: 1\n# notes\n' },
      { file: 'hosts/web.yaml', text: 'version: 1\n' },
    ]);
  });

  it('follows a link into another path given', async () => {
    repo = linked({ 'hosts/x.yaml': '../other/x.yaml' });
    const got = await readGitRevision({
      cwd: repo.dir,
      ref: 'HEAD',
      paths: ['hosts', 'other/x.yaml'],
      lockPath: null,
      env,
    });
    expect(got.ok && got.sources.map((s) => s.file)).toEqual(['hosts/web.yaml', 'other/x.yaml']);
  });

  it('reports a loop of links and a dangling link', async () => {
    repo = linked({ 'hosts/a.yaml': 'b.yaml', 'hosts/b.yaml': 'a.yaml' });
    const loop = await readGitRevision({ cwd: repo.dir, ref: 'HEAD', paths: ['hosts'], lockPath: null, env });
    expect(loop.ok ? null : loop.message).toMatch(/symlink-loop/);
    repo.cleanup();
    repo = linked({ 'hosts/gone.yaml': 'nothing.yaml' });
    const dangling = await readGitRevision({ cwd: repo.dir, ref: 'HEAD', paths: ['hosts'], lockPath: null, env });
    expect(dangling.ok ? null : dangling.message).toMatch(/dangling/);
  });

  it('refuses a path given that is a link to a directory in the revision (it would read nothing)', async () => {
    repo = linked({ alias: 'hosts' });
    const got = await readGitRevision({ cwd: repo.dir, ref: 'HEAD', paths: ['alias'], lockPath: null, env });
    expect(got.ok ? null : got.message).toMatch(/^alias at HEAD is a symbolic link to a directory/);
  });

  it('skips dot-files such as an Emacs lock link', async () => {
    repo = linked({ 'hosts/.#web.yaml': 'root@host.1:1' });
    const got = await readGitRevision({ cwd: repo.dir, ref: 'HEAD', paths: ['hosts'], lockPath: null, env });
    expect(got.ok && got.sources.map((s) => s.file)).toEqual(['hosts/web.yaml']);
  });
});
