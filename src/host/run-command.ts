// Runs one external program (pfctl, route) without a shell, feeding optional stdin and capturing
// everything it says. Failures of the run itself (missing program, timeout) come back as values so
// that the callers can report them to the operator instead of crashing the agent.
import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Text written to the program's standard input; stdin is closed (empty) when absent. */
  stdin?: string;
  /** Kill the program's whole process group with SIGKILL after this long. Default 30 s. */
  timeoutMs?: number;
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /** Output beyond this many bytes per stream is dropped (and `truncated` set). Default 64 MiB. */
  maxOutputBytes?: number;
}

interface Captured {
  stdout: string;
  stderr: string;
  /** True when either stream went over maxOutputBytes. */
  truncated: boolean;
  durationMs: number;
}

export type RunResult =
  /** The program ran and ended by itself: exitCode is null when a signal ended it. */
  | ({ kind: 'completed'; exitCode: number | null; signal: string | null } & Captured)
  | ({ kind: 'timed-out'; timeoutMs: number; message: string } & Captured)
  /** The program could not be started: errno is e.g. ENOENT (not found) or EACCES. */
  | { kind: 'spawn-failed'; program: string; errno: string; message: string };

export const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;

export function runCommand(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const started = Date.now();
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(program, [...args], {
        // A group of its own, so a timeout kills whatever the program started too.
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        ...(options.env === undefined ? {} : { env: definedOnly(options.env) }),
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      });
    } catch (error) {
      resolve(spawnFailed(program, error));
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let truncated = false;
    let timedOut = false;
    let settled = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (outBytes + chunk.length > maxOutput) truncated = true;
      else out.push(chunk);
      outBytes += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (errBytes + chunk.length > maxOutput) truncated = true;
      else err.push(chunk);
      errBytes += chunk.length;
    });
    // A program that exits without reading its input makes the write fail with EPIPE: not our error.
    child.stdin.on('error', () => undefined);

    const captured = (): Captured => ({
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
      truncated,
      durationMs: Date.now() - started,
    });
    const finish = (result: RunResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      resolve(result);
    };
    let grace: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
      // Normally 'close' follows at once; if a stray descendant keeps a pipe open, stop waiting.
      grace = setTimeout(() => {
        finish({ kind: 'timed-out', timeoutMs, message: `timed out after ${timeoutMs} ms`, ...captured() });
      }, 1000);
    }, timeoutMs);

    child.on('error', (error) => {
      finish(spawnFailed(program, error));
    });
    child.on('close', (code, signal) => {
      if (timedOut) {
        finish({ kind: 'timed-out', timeoutMs, message: `timed out after ${timeoutMs} ms`, ...captured() });
      } else {
        finish({ kind: 'completed', exitCode: code, signal, ...captured() });
      }
    });

    if (options.stdin !== undefined) child.stdin.end(options.stdin);
    else child.stdin.end();
  });
}

/** Kills a process group started detached (and the process itself should the group be gone). */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function spawnFailed(program: string, error: unknown): RunResult {
  const errno = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'EUNKNOWN';
  const message =
    errno === 'ENOENT'
      ? `${program}: program not found (check the path, or set it with the matching --option / environment variable)`
      : errno === 'EACCES'
        ? `${program}: permission denied (is it executable?)`
        : `${program}: could not be started (${error instanceof Error ? error.message : errno})`;
  return { kind: 'spawn-failed', program, errno, message };
}

function definedOnly(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) result[key] = value;
  return result;
}

/** Signal 0 checks existence; EPERM means the process exists but belongs to someone else. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
