// Asks jls(8) which jails run and which addresses they hold (the Jls port, src/apply/jls-api.ts):
// one run of `jls --libxo json jid name vnet ip4.addr ip6.addr`, read by parseJlsJson.
import { JLS_ARGS, parseJlsJson, type Jls } from '../apply/jls-api.js';
import { runCommand } from './run-command.js';

export interface JlsOptions {
  program: string;
  /** Default 10 s. */
  timeoutMs?: number;
  env?: Readonly<Record<string, string | undefined>>;
  /** Runs jls; default runCommand. */
  runner?: typeof runCommand;
}

/**
 * `--jls` wins, then PFEXPOSE_JLS, then `jls` on FreeBSD (where it is part of the base system);
 * elsewhere, or given as `none`, null: the containers are not checked.
 */
export function resolveJlsProgram(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  platform: string,
): string | null {
  const given = flag !== undefined && flag !== '' ? flag : env['PFEXPOSE_JLS'];
  if (given !== undefined && given !== '') return given === 'none' ? null : given;
  return platform === 'freebsd' ? 'jls' : null;
}

export function createJls(options: JlsOptions): Jls {
  const run = options.runner ?? runCommand;
  return {
    async list() {
      const command = `${options.program} ${JLS_ARGS.join(' ')}`;
      const result = await run(options.program, JLS_ARGS, {
        timeoutMs: options.timeoutMs ?? 10_000,
        ...(options.env === undefined ? {} : { env: options.env }),
      });
      if (result.kind === 'spawn-failed') return { kind: 'failed', message: `${command}: ${result.message}` };
      if (result.kind === 'timed-out')
        return { kind: 'failed', message: `${command} ${result.message} and was killed` };
      if (result.exitCode !== 0 || result.signal !== null) {
        const said = result.stderr
          .trim()
          .split('\n')
          .filter((line) => line !== '')
          .join('; ');
        const how =
          result.signal !== null ? `was killed by ${result.signal}` : `exited with status ${result.exitCode ?? '?'}`;
        return { kind: 'failed', message: `${command} ${how}${said === '' ? '' : `: ${said}`}` };
      }
      const parsed = parseJlsJson(result.stdout);
      return parsed.kind === 'ok' ? parsed : { kind: 'failed', message: `${command}: ${parsed.message}` };
    },
  };
}
