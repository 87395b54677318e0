// Best-effort syslog through logger(1): the confirm watchdog's revert must reach the system log,
// not only a file in the state directory. Never blocks the caller for long and never fails it:
// a missing or hung logger is reported back as a string, the message is not retried.
import { spawn } from 'node:child_process';

export interface SyslogOptions {
  /** The logger program: PFEXPOSE_LOGGER, else `logger` from PATH. */
  env: Readonly<Record<string, string | undefined>>;
  /** `facility.level` for logger -p; default user.warning. */
  priority?: string;
  /** Longest wait for logger to finish; it is killed after. Default 2000 ms. */
  timeoutMs?: number;
}

export function loggerProgram(env: Readonly<Record<string, string | undefined>>): string {
  const given = env['PFEXPOSE_LOGGER'];
  return given !== undefined && given !== '' ? given : 'logger';
}

/** Sends one line to syslog tagged `pfexpose`; resolves null when logger exited 0, else why not. */
export function sendToSyslog(message: string, options: SyslogOptions): Promise<string | null> {
  const program = loggerProgram(options.env);
  const line = message.replace(/[\r\n]+/g, ' ');
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    let child: ReturnType<typeof spawn>;
    try {
      // `--` ends the options: a message starting with '-' stays a message.
      child = spawn(program, ['-t', 'pfexpose', '-p', options.priority ?? 'user.warning', '--', line], {
        stdio: 'ignore',
      });
    } catch (error) {
      resolve(`${program}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(`${program} did not finish within ${options.timeoutMs ?? 2000} ms`);
    }, options.timeoutMs ?? 2000);
    child.once('error', (error) => finish(`${program}: ${error.message}`));
    child.once('exit', (code, signal) =>
      finish(code === 0 ? null : `${program} exited with ${code ?? signal ?? 'nothing'}`),
    );
  });
}
