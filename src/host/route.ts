// Finds the gateway interface (the one the default route leaves through) by asking route(8).
// A host without a default route is an ordinary answer, not an error: only exposures that need
// the gateway interface make it one. route's answer is external input: the interface it names goes
// through the same check as a manifest's (interface-name.ts) before any rule may carry it.
import { describeInterfaceNameProblem } from '../ports/interface-name.js';
import { parseRouteGet, type RouteTable } from '../model/default-route.js';
import { runCommand } from './run-command.js';

export const DEFAULT_ROUTE = 'route';

export interface RouteOptions {
  /** The program to run (`--route`, PFEXPOSE_ROUTE); see resolveRouteProgram. */
  program: string;
  /** Default 10 s. */
  timeoutMs?: number;
  env?: Readonly<Record<string, string | undefined>>;
}

/** `--route` wins, then PFEXPOSE_ROUTE, then `route` from PATH. */
export function resolveRouteProgram(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (flag !== undefined && flag !== '') return flag;
  const fromEnv = env['PFEXPOSE_ROUTE'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_ROUTE;
}

export function createRouteTable(options: RouteOptions): RouteTable {
  return {
    async defaultRoute(family) {
      const args = family === 'inet' ? ['-n', 'get', 'default'] : ['-n', 'get', '-inet6', 'default'];
      const command = `${options.program} ${args.join(' ')}`;
      const result = await runCommand(options.program, args, {
        timeoutMs: options.timeoutMs ?? 10_000,
        ...(options.env === undefined ? {} : { env: options.env }),
      });
      if (result.kind === 'spawn-failed') return { kind: 'not-found', message: result.message };
      if (result.kind === 'timed-out')
        return { kind: 'timed-out', message: `${command} ${result.message} and was killed` };
      const parsed = parseRouteGet(`${result.stdout}\n${result.stderr}`);
      if (parsed.kind === 'found' && result.exitCode === 0) {
        const problem = describeInterfaceNameProblem(parsed.interface);
        if (problem === null) return parsed;
        return {
          kind: 'invalid-interface',
          message: `${command} answered with an interface pfexpose cannot put in a pf rule: ${problem}`,
        };
      }
      if (parsed.kind === 'no-route') {
        return {
          kind: 'no-route',
          family,
          message: `this host has no ${family === 'inet' ? 'IPv4' : 'IPv6'} default route (${command})`,
        };
      }
      const said = result.stderr
        .trim()
        .split('\n')
        .filter((line) => line !== '')
        .join('; ');
      return {
        kind: 'failed',
        message: `${command} ${result.exitCode === 0 ? 'printed no "interface:" line' : `exited with status ${result.exitCode ?? result.signal ?? '?'}`}${said === '' ? '' : `: ${said}`}`,
      };
    },
  };
}
