// The compile of the commands that run on the firewall itself (apply, plan --live, watch): when the
// only errors are entries listening on a gateway nobody named, the default route's interface is
// asked of route(8) and the manifests are compiled again with it. One policy, gatewayRetry, for all
// three, so that they find the same gateway and so compile the same ruleset.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { createRouteTable, resolveRouteProgram } from '../host/route.js';
import type { RouteTable } from '../model/default-route.js';
import { compilePaths } from './compile.js';
import type { CompileOptions, CompileOutcome } from './options.js';

/** route(8)'s answer: the default route's interface, or why there is none. */
export type GatewayDetection = { ok: true; interface: string } | { ok: false; message: string };

export type GatewayRetry<T extends CompileOutcome = CompileOutcome> =
  /**
   * detected: route(8)'s answer when the outcome was compiled with it and it is new (not the
   * `known` gateway); null when route(8) was not asked, or confirmed the known one.
   */
  | { kind: 'compiled'; outcome: T; detected: string | null }
  /** route(8) was asked and had no answer; outcome: the compile without it (its gateway-missing errors). */
  | { kind: 'no-gateway'; outcome: T; message: string };

export interface GatewayRetrySteps<T extends CompileOutcome> {
  /** Compiles with this gateway interface, or with what the options and manifests say when undefined. */
  compile(gateway: string | undefined): T | Promise<T>;
  detect(): Promise<GatewayDetection>;
}

export interface GatewayRetryPolicy {
  /** --gateway was given: it is used as it is and route(8) is never asked. */
  given: boolean;
  /** A gateway route(8) gave before (the agent keeps it between cycles); compiled with first. */
  known?: string | undefined;
  /** Ask route(8) again although a gateway is known (the agent's reconcile: the default route may have moved). */
  recheck?: boolean | undefined;
}

/**
 * True when route(8) can make a failed compile succeed: every error is gateway-missing. With any
 * other error the compile fails whatever route(8) says, so it is not asked (and cannot, by failing,
 * hide the manifests' own errors).
 */
export function needsDetectedGateway(outcome: CompileOutcome): boolean {
  const errors = outcome.diagnostics.filter((d: Diagnostic) => d.severity === 'error');
  return !outcome.ok && errors.length > 0 && errors.every((d) => d.code === 'gateway-missing');
}

/**
 * The gateway-retry policy. Compiles with the known gateway, if any. Without one, a compile that
 * only lacks a gateway (needsDetectedGateway) is compiled again with route(8)'s answer, or is
 * `no-gateway` when there is none. With one and `recheck`, route(8) is asked again and a different
 * answer is compiled with; no answer keeps the known gateway.
 */
export async function gatewayRetry<T extends CompileOutcome>(
  steps: GatewayRetrySteps<T>,
  policy: GatewayRetryPolicy,
): Promise<GatewayRetry<T>> {
  if (policy.given) return { kind: 'compiled', outcome: await steps.compile(undefined), detected: null };
  const known = policy.known;
  const first = await steps.compile(known);
  if (known === undefined) {
    if (!needsDetectedGateway(first)) return { kind: 'compiled', outcome: first, detected: null };
    const found = await steps.detect();
    if (!found.ok) return { kind: 'no-gateway', outcome: first, message: found.message };
    return { kind: 'compiled', outcome: await steps.compile(found.interface), detected: found.interface };
  }
  if (policy.recheck !== true) return { kind: 'compiled', outcome: first, detected: null };
  const found = await steps.detect();
  if (!found.ok || found.interface === known) return { kind: 'compiled', outcome: first, detected: null };
  return { kind: 'compiled', outcome: await steps.compile(found.interface), detected: found.interface };
}

/** The default route's interface (`route -n get default`) as a GatewayDetection. */
export async function detectGateway(table: RouteTable): Promise<GatewayDetection> {
  const found = await table.defaultRoute('inet');
  return found.kind === 'found' ? { ok: true, interface: found.interface } : { ok: false, message: found.message };
}

export interface RouteSource {
  /** --route, if given. */
  flag?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
}

/** apply's and plan --live's compile: compilePaths under gatewayRetry, route(8) run only when asked. */
export async function compileWithGateway(
  paths: readonly string[],
  options: CompileOptions,
  route: RouteSource,
): Promise<GatewayRetry> {
  const compiled = await gatewayRetry(
    {
      compile: (gateway) => compilePaths(paths, gateway === undefined ? options : { ...options, gateway }),
      detect: () =>
        detectGateway(createRouteTable({ program: resolveRouteProgram(route.flag, route.env), env: route.env })),
    },
    { given: options.gateway !== undefined },
  );
  if (compiled.kind === 'compiled') return compiled;
  return {
    ...compiled,
    message: `cannot detect the gateway interface: ${compiled.message}; declare the host's gateway in a manifest or pass --gateway IF`,
  };
}

/** What apply and plan --live say on stderr when they used the default route's interface. */
export function describeDetectedGateway(name: string): string {
  return `gateway interface ${name} (the default route's, from route -n get default)`;
}
