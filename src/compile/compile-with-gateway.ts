// The compile of the commands that run on the firewall itself (apply, plan --live): when the only
// errors are entries listening on a gateway nobody named, the default route's interface is asked
// of route(8) and the manifests are compiled again with it. One copy, so that plan --live and apply
// find the same gateway and so compile the same ruleset.
import { createRouteTable, resolveRouteProgram } from '../host/route.js';
import { compilePaths } from './compile.js';
import type { CompileOptions, CompileOutcome } from './options.js';

export type GatewayCompile =
  /** detected: the interface route(8) gave, or null when it was not asked. */
  | { kind: 'compiled'; outcome: CompileOutcome; detected: string | null }
  /** route(8) was asked and had no answer; outcome: the first compile (its gateway-missing errors). */
  | { kind: 'no-gateway'; outcome: CompileOutcome; message: string };

export interface RouteSource {
  /** --route, if given. */
  flag?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
}

export async function compileWithGateway(
  paths: readonly string[],
  options: CompileOptions,
  route: RouteSource,
): Promise<GatewayCompile> {
  const first = await compilePaths(paths, options);
  const errors = first.diagnostics.filter((d) => d.severity === 'error');
  if (
    first.ok ||
    options.gateway !== undefined ||
    errors.length === 0 ||
    !errors.every((d) => d.code === 'gateway-missing')
  ) {
    return { kind: 'compiled', outcome: first, detected: null };
  }
  const table = createRouteTable({ program: resolveRouteProgram(route.flag, route.env), env: route.env });
  const found = await table.defaultRoute('inet');
  if (found.kind !== 'found') {
    return {
      kind: 'no-gateway',
      outcome: first,
      message: `cannot detect the gateway interface: ${found.message}; declare the host's gateway in a manifest or pass --gateway IF`,
    };
  }
  return {
    kind: 'compiled',
    outcome: await compilePaths(paths, { ...options, gateway: found.interface }),
    detected: found.interface,
  };
}

/** What apply and plan --live say on stderr when they used the default route's interface. */
export function describeDetectedGateway(name: string): string {
  return `gateway interface ${name} (the default route's, from route -n get default)`;
}
