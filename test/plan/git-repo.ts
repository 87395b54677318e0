// A throw-away git repository for the plan tests: write files, commit them, read the log.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TempRepo {
  dir: string;
  write(path: string, text: string): void;
  remove(path: string): void;
  commit(message: string): string;
  git(...args: string[]): string;
  cleanup(): void;
}

export const gitEnv: Record<string, string> = {
  GIT_AUTHOR_NAME: 'pfexpose tests',
  GIT_AUTHOR_EMAIL: 'tests@example.invalid',
  GIT_COMMITTER_NAME: 'pfexpose tests',
  GIT_COMMITTER_EMAIL: 'tests@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export function createRepo(): TempRepo {
  const dir = mkdtempSync(join(tmpdir(), 'pfexpose-plan-'));
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: dir, env: { ...process.env, ...gitEnv }, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  return {
    dir,
    write(path, text) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    },
    remove(path) {
      rmSync(join(dir, path), { force: true });
    },
    commit(message) {
      git('add', '-A');
      git('commit', '-q', '-m', message);
      return git('rev-parse', 'HEAD').trim();
    },
    git,
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
