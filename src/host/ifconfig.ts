// Asks `ifconfig -l` (FreeBSD, macOS) for the names of the host's interfaces, for `pfexpose init`.
// Its answer is parsed elsewhere (model/interface-list.ts); null when ifconfig cannot tell.
import { runCommand } from './run-command.js';

/** PFEXPOSE_IFCONFIG, else `ifconfig` from PATH. */
export function resolveIfconfigProgram(env: Readonly<Record<string, string | undefined>>): string {
  const fromEnv = env['PFEXPOSE_IFCONFIG'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'ifconfig';
}

export async function readInterfaceList(
  program: string,
  env?: Readonly<Record<string, string | undefined>>,
): Promise<string | null> {
  const result = await runCommand(program, ['-l'], { timeoutMs: 10_000, ...(env === undefined ? {} : { env }) });
  return result.kind === 'completed' && result.exitCode === 0 ? result.stdout : null;
}
