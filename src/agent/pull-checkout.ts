// Fast-forwards the git checkout that holds the manifests (`git pull --ff-only`), for hosts that
// follow a repository. It never merges, rebases or resets: a checkout that cannot fast-forward is
// left exactly as it was and the failure is reported.
import { runCommand } from '../host/run-command.js';
import type { RunResult } from '../host/run-command.js';

export type PullResult =
  | { kind: 'updated'; from: string; to: string; durationMs: number }
  | { kind: 'current'; head: string; durationMs: number }
  | { kind: 'failed'; message: string; durationMs: number };

export interface PullOptions {
  /** A directory inside the checkout. */
  dir: string;
  /** The git program; default `git` from PATH. */
  git?: string;
  timeoutMs?: number;
  env?: Readonly<Record<string, string | undefined>>;
}

export async function pullCheckout(options: PullOptions): Promise<PullResult> {
  const started = Date.now();
  const git = options.git ?? 'git';
  const run = (args: string[]): Promise<RunResult> =>
    runCommand(git, ['-C', options.dir, ...args], {
      timeoutMs: options.timeoutMs ?? 120_000,
      // Never wait for a password prompt nobody will answer.
      env: { ...(options.env ?? process.env), GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', LC_ALL: 'C' },
    });
  const failed = (message: string): PullResult => ({ kind: 'failed', message, durationMs: Date.now() - started });

  const head = async (): Promise<{ ok: true; head: string } | { ok: false; message: string }> => {
    const result = await run(['rev-parse', 'HEAD']);
    if (result.kind !== 'completed' || result.exitCode !== 0) return { ok: false, message: describe('git rev-parse HEAD', result) };
    return { ok: true, head: result.stdout.trim() };
  };

  const before = await head();
  if (!before.ok) return failed(`${options.dir} is not a git checkout pfexpose can pull: ${before.message}`);
  const pull = await run(['pull', '--ff-only', '--quiet']);
  if (pull.kind !== 'completed' || pull.exitCode !== 0) {
    return failed(`git pull --ff-only in ${options.dir} failed, nothing was changed: ${describe('git pull', pull)}`);
  }
  const after = await head();
  if (!after.ok) return failed(after.message);
  const durationMs = Date.now() - started;
  return before.head === after.head
    ? { kind: 'current', head: after.head, durationMs }
    : { kind: 'updated', from: before.head, to: after.head, durationMs };
}

function describe(what: string, result: RunResult): string {
  if (result.kind === 'spawn-failed') return result.message;
  if (result.kind === 'timed-out') return `${what} ${result.message}`;
  const said = result.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(0, 5)
    .join('; ');
  return said === '' ? `${what} exited with status ${result.exitCode ?? result.signal ?? '?'}` : said;
}
