// pullCheckout against real git repositories in a temporary directory: a bare "remote", an author's
// clone that pushes, and the host's clone the agent pulls. Covers what issue 9 (M6) asks: a
// hostile .gitmodules runs nothing and does not stop later pulls, a force-pushed history is
// followed and said so, an unreachable remote fails and leaves the checkout, hooks never run, and
// a git that hangs is killed at the deadline or when the agent stops.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pullCheckout } from '../../src/agent/pull-checkout.js';

const run = promisify(execFile);

describe('pullCheckout', () => {
  let dir: string;
  let env: Record<string, string | undefined>;
  let origin: string;
  let author: string;
  let host: string;
  const git = async (cwd: string, ...args: string[]): Promise<string> =>
    (
      await run('git', ['-c', 'init.defaultBranch=main', '-c', 'protocol.file.allow=always', ...args], { cwd, env })
    ).stdout.trim();
  const commit = async (file: string, text: string, message: string): Promise<string> => {
    await writeFile(join(author, file), text);
    await git(author, 'add', '-A');
    await git(author, 'commit', '-q', '-m', message);
    await git(author, 'push', '-q', 'origin', 'HEAD:main');
    return git(author, 'rev-parse', 'HEAD');
  };
  const exists = (path: string): Promise<boolean> =>
    access(path).then(
      () => true,
      () => false,
    );

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pfexpose-pull-'));
    env = {
      PATH: process.env['PATH'],
      HOME: dir,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.org',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.org',
    };
    origin = join(dir, 'origin.git');
    author = join(dir, 'author');
    host = join(dir, 'host');
    await git(dir, 'init', '-q', '--bare', origin);
    await git(dir, 'clone', '-q', origin, author);
    await commit('web.yaml', 'version: 1\n', 'web');
    await git(dir, 'clone', '-q', '--branch', 'main', origin, host);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fast-forwards to the upstream, then finds it current', async () => {
    const before = await git(host, 'rev-parse', 'HEAD');
    const next = await commit('web.yaml', 'version: 1\n# two\n', 'two');
    const pulled = await pullCheckout({ dir: host, env });
    expect(pulled).toMatchObject({ kind: 'updated', from: before, to: next, fastForward: true });
    expect(await readFile(join(host, 'web.yaml'), 'utf8')).toBe('version: 1\n# two\n');
    expect(await pullCheckout({ dir: host, env })).toMatchObject({ kind: 'current', head: next });
  }, 60_000);

  it('runs nothing a hostile .gitmodules names, and later pulls still work', async () => {
    const marker = join(dir, 'pwned');
    // A submodule entry whose update command would run on `git submodule update`, and a gitlink for it.
    await writeFile(
      join(author, '.gitmodules'),
      `[submodule "evil"]\n\tpath = evil\n\turl = ${origin}\n\tupdate = !touch ${marker}\n`,
    );
    const self = await git(author, 'rev-parse', 'HEAD');
    await git(author, 'update-index', '--add', '--cacheinfo', `160000,${self},evil`);
    await git(author, 'add', '.gitmodules');
    await git(author, 'commit', '-q', '-m', 'submodule');
    await git(author, 'push', '-q', 'origin', 'HEAD:main');
    const hostile = await git(author, 'rev-parse', 'HEAD');

    const first = await pullCheckout({ dir: host, env });
    expect(first).toMatchObject({ kind: 'updated', to: hostile });
    const fixed = await commit('web.yaml', 'version: 1\n# after\n', 'after');
    const second = await pullCheckout({ dir: host, env });
    expect(second).toMatchObject({ kind: 'updated', from: hostile, to: fixed });
    expect(await readFile(join(host, 'web.yaml'), 'utf8')).toBe('version: 1\n# after\n');
    expect(await exists(marker)).toBe(false);
    // The submodule was never cloned into the checkout either.
    expect(await exists(join(host, 'evil', 'web.yaml'))).toBe(false);
  }, 60_000);

  it('runs no hook of the checkout', async () => {
    const marker = join(dir, 'hooked');
    for (const hook of ['reference-transaction', 'post-merge', 'post-checkout']) {
      const path = join(host, '.git', 'hooks', hook);
      await writeFile(path, `#!/bin/sh\ntouch ${marker}\n`);
      await chmod(path, 0o755);
    }
    await commit('web.yaml', 'version: 1\n# hooked?\n', 'hook');
    expect((await pullCheckout({ dir: host, env })).kind).toBe('updated');
    expect(await exists(marker)).toBe(false);
  }, 60_000);

  it('follows a force-pushed history and says it was not a fast-forward', async () => {
    const before = await commit('web.yaml', 'version: 1\n# old\n', 'old');
    expect((await pullCheckout({ dir: host, env })).kind).toBe('updated');
    await git(author, 'reset', '-q', '--hard', 'HEAD~1');
    await writeFile(join(author, 'web.yaml'), 'version: 1\n# rewritten\n');
    await git(author, 'commit', '-q', '-am', 'rewritten');
    await git(author, 'push', '-q', '--force', 'origin', 'HEAD:main');
    const rewritten = await git(author, 'rev-parse', 'HEAD');

    const pulled = await pullCheckout({ dir: host, env });
    expect(pulled).toMatchObject({ kind: 'updated', from: before, to: rewritten, fastForward: false });
    expect(await readFile(join(host, 'web.yaml'), 'utf8')).toBe('version: 1\n# rewritten\n');
  }, 60_000);

  it('fails on an unreachable remote and leaves the checkout; a later pull recovers', async () => {
    const head = await git(host, 'rev-parse', 'HEAD');
    await commit('web.yaml', 'version: 1\n# next\n', 'next');
    await git(host, 'remote', 'set-url', 'origin', join(dir, 'gone.git'));
    const failed = await pullCheckout({ dir: host, env });
    expect(failed.kind).toBe('failed');
    if (failed.kind === 'failed') expect(failed.message).toMatch(/^git fetch in .* failed; the checkout stays at /);
    expect(await git(host, 'rev-parse', 'HEAD')).toBe(head);
    await git(host, 'remote', 'set-url', 'origin', origin);
    expect((await pullCheckout({ dir: host, env })).kind).toBe('updated');
  }, 60_000);

  it('kills a git that hangs at the deadline, and at once when aborted', async () => {
    const slow = join(dir, 'slow-git');
    await writeFile(slow, `#!/bin/sh\ncase "$*" in *fetch*) sleep 60;; esac\nexec git "$@"\n`);
    await chmod(slow, 0o755);
    const started = Date.now();
    const late = await pullCheckout({ dir: host, env, git: slow, timeoutMs: 1500 });
    expect(late.kind).toBe('failed');
    if (late.kind === 'failed') expect(late.message).toContain('did not finish within 1.5 s and was killed');
    expect(Date.now() - started).toBeLessThan(20_000);

    const aborter = new AbortController();
    const pulling = pullCheckout({ dir: host, env, git: slow, signal: aborter.signal });
    setTimeout(() => aborter.abort(), 300);
    const aborted = await pulling;
    expect(aborted).toMatchObject({ kind: 'failed' });
    if (aborted.kind === 'failed') expect(aborted.message).toContain('the agent is stopping');
  }, 60_000);

  it('fails clearly outside a checkout, or on a branch without upstream', async () => {
    const outside = await pullCheckout({ dir, env });
    expect(outside.kind).toBe('failed');
    if (outside.kind === 'failed') expect(outside.message).toContain('is not a git checkout pfexpose can pull');
    await git(host, 'checkout', '-q', '-b', 'local');
    const lonely = await pullCheckout({ dir: host, env });
    expect(lonely.kind).toBe('failed');
    if (lonely.kind === 'failed') expect(lonely.message).toContain('has no upstream to follow');
  }, 60_000);
});
