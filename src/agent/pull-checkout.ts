// Brings the git checkout that holds the manifests to its upstream, for hosts that follow a
// repository: `git fetch`, then `git reset --hard` to the fetched upstream commit. The remote is
// the source of truth, so a history rewritten upstream (a force push) is followed too, and said so.
//
// What the repository brings must never run on the host (issue 9, M6): submodules are never
// fetched, read or updated (a `.gitmodules` with `update = !cmd` is inert), hooks are off
// (core.hooksPath=/dev/null), as are fsmonitor and automatic gc/maintenance (which would leave
// processes behind). The whole pull has one deadline (2 minutes by default); at the deadline, or
// when the agent stops, git's whole process group is killed. Any failure leaves the last good
// checkout in place and comes back as a value to report.
import { spawn } from 'node:child_process';
import { killGroup } from '../host/run-command.js';

export type PullResult =
  /** fastForward: false when the new commit does not descend from the old one (a rewritten history). */
  | { kind: 'updated'; from: string; to: string; fastForward: boolean; durationMs: number }
  | { kind: 'current'; head: string; durationMs: number }
  | { kind: 'failed'; message: string; durationMs: number };

export interface PullOptions {
  /** A directory inside the checkout. */
  dir: string;
  /** The git program; default `git` from PATH. */
  git?: string;
  /** The deadline of the whole pull, every git run included. Default PULL_TIMEOUT_MS. */
  timeoutMs?: number;
  env?: Readonly<Record<string, string | undefined>>;
  /** Aborting kills the git run in progress: the agent is stopping. */
  signal?: AbortSignal;
}

export const PULL_TIMEOUT_MS = 120_000;

/**
 * Given before every subcommand: nothing configured by what a pull brings, and nothing that
 * outlives the run. Submodules stay off for fetch, reset and everything else.
 */
export const SAFE_GIT_CONFIG: readonly string[] = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'submodule.recurse=false',
  'fetch.recurseSubmodules=false',
  'gc.auto=0',
  'maintenance.auto=false',
  'protocol.ext.allow=never',
].flatMap((setting) => ['-c', setting]);

/** Variables that would point git at another repository or configuration than the checkout's. */
const DROPPED_ENV = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_CONFIG_PARAMETERS',
  'GIT_CONFIG_COUNT',
  'GIT_EXEC_PATH',
];

const MAX_OUTPUT = 256 * 1024;

type GitRun =
  | { kind: 'done'; exitCode: number | null; signal: string | null; stdout: string; stderr: string }
  | { kind: 'error'; message: string };

export async function pullCheckout(options: PullOptions): Promise<PullResult> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? PULL_TIMEOUT_MS;
  const deadline = started + timeoutMs;
  const git = options.git ?? 'git';
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.env ?? process.env)) {
    if (value !== undefined && !DROPPED_ENV.includes(key)) env[key] = value;
  }
  // Never wait for a password prompt nobody will answer.
  Object.assign(env, { GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', SSH_ASKPASS: 'true', LC_ALL: 'C' });
  const run = (args: string[]): Promise<GitRun> =>
    runGit(git, ['-C', options.dir, ...SAFE_GIT_CONFIG, ...args], env, { deadline, timeoutMs }, options.signal);
  const failed = (message: string): PullResult => ({ kind: 'failed', message, durationMs: Date.now() - started });
  const ok = (result: GitRun): result is GitRun & { kind: 'done' } => result.kind === 'done' && result.exitCode === 0;

  const head = await run(['rev-parse', '--verify', 'HEAD^{commit}']);
  if (!ok(head))
    return failed(`${options.dir} is not a git checkout pfexpose can pull: ${describe('git rev-parse HEAD', head)}`);
  const before = head.stdout.trim();
  const upstream = await run(['rev-parse', '--abbrev-ref', '--symbolic-full-name', '@{upstream}']);
  if (!ok(upstream)) {
    return failed(
      `the branch checked out in ${options.dir} has no upstream to follow (set one with git branch --set-upstream-to): ${describe('git rev-parse @{upstream}', upstream)}`,
    );
  }
  const fetch = await run(['fetch', '--quiet', '--no-recurse-submodules']);
  if (!ok(fetch))
    return failed(
      `git fetch in ${options.dir} failed; the checkout stays at ${before.slice(0, 12)}: ${describe('git fetch', fetch)}`,
    );
  const target = await run(['rev-parse', '--verify', '@{upstream}^{commit}']);
  if (!ok(target))
    return failed(`cannot resolve ${upstream.stdout.trim()} after the fetch: ${describe('git rev-parse', target)}`);
  const to = target.stdout.trim();
  if (to === before) return { kind: 'current', head: before, durationMs: Date.now() - started };
  const ancestor = await run(['merge-base', '--is-ancestor', before, to]);
  if (ancestor.kind !== 'done' || (ancestor.exitCode !== 0 && ancestor.exitCode !== 1)) {
    return failed(
      `cannot compare ${before.slice(0, 12)} with ${to.slice(0, 12)}: ${describe('git merge-base', ancestor)}`,
    );
  }
  const reset = await run(['reset', '--hard', '--quiet', '--no-recurse-submodules', to]);
  if (!ok(reset))
    return failed(`git reset --hard ${to.slice(0, 12)} in ${options.dir} failed: ${describe('git reset', reset)}`);
  const after = await run(['rev-parse', '--verify', 'HEAD^{commit}']);
  if (!ok(after)) return failed(describe('git rev-parse HEAD', after));
  return {
    kind: 'updated',
    from: before,
    to: after.stdout.trim(),
    fastForward: ancestor.exitCode === 0,
    durationMs: Date.now() - started,
  };
}

/** One git run in a process group of its own, killed whole at the deadline or on abort. */
function runGit(
  git: string,
  args: string[],
  env: Record<string, string>,
  time: { deadline: number; timeoutMs: number },
  signal: AbortSignal | undefined,
): Promise<GitRun> {
  const late = `the pull did not finish within ${time.timeoutMs / 1000} s and was killed`;
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve({ kind: 'error', message: 'the agent is stopping' });
      return;
    }
    const remaining = time.deadline - Date.now();
    if (remaining <= 0) {
      resolve({ kind: 'error', message: late });
      return;
    }
    let child;
    try {
      child = spawn(git, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
    } catch (error) {
      resolve({
        kind: 'error',
        message: `${git}: could not be started (${error instanceof Error ? error.message : String(error)})`,
      });
      return;
    }
    let stdout = '';
    let stderr = '';
    let why: string | null = null;
    let settled = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += chunk;
    });
    const finish = (result: GitRun): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    let grace: NodeJS.Timeout | undefined;
    const kill = (reason: string): void => {
      why ??= reason;
      killGroup(child.pid);
      // 'close' normally follows at once; a descendant holding a pipe open must not make us wait.
      grace = setTimeout(() => finish({ kind: 'error', message: reason }), 1000);
    };
    const timer = setTimeout(() => kill(late), remaining);
    const onAbort = (): void => kill('the agent is stopping');
    signal?.addEventListener('abort', onAbort);
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish({
        kind: 'error',
        message: error.code === 'ENOENT' ? `${git}: program not found` : `${git}: ${error.message}`,
      });
    });
    child.on('close', (exitCode, exitSignal) => {
      finish(
        why !== null ? { kind: 'error', message: why } : { kind: 'done', exitCode, signal: exitSignal, stdout, stderr },
      );
    });
  });
}

function describe(what: string, result: GitRun): string {
  if (result.kind === 'error') return result.message;
  const said = result.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(0, 5)
    .join('; ');
  return said === '' ? `${what} exited with status ${result.exitCode ?? result.signal ?? '?'}` : said;
}
