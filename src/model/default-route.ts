// The default route as data: what route(8) answered about the interface the default route leaves
// through, read from its output. Pure: src/host/route.ts runs route and hands its output here.

export type RouteFamily = 'inet' | 'inet6';

export type RouteGetParse =
  { kind: 'found'; interface: string; gateway: string | null } | { kind: 'no-route' } | { kind: 'unparsed' };

export type DefaultRouteResult =
  | { kind: 'found'; interface: string; gateway: string | null }
  | { kind: 'no-route'; family: RouteFamily; message: string }
  | { kind: 'not-found'; message: string }
  | { kind: 'timed-out'; message: string }
  | { kind: 'failed'; message: string }
  /** route answered, but what it calls the interface is not a name a pf rule can carry. */
  | { kind: 'invalid-interface'; message: string };

export interface RouteTable {
  /** `route -n get default` (or `-inet6 default`): the interface of the default route. */
  defaultRoute(family: RouteFamily): Promise<DefaultRouteResult>;
}

// Each BSD release words the absence differently: netlink's "has not been found", the routing
// socket's "not in table" / "No such process" (ESRCH).
const NO_ROUTE = /route has not been found|not in table|No such process|network is unreachable/i;

/** Reads `route -n get` output (stdout and stderr together are fine). */
export function parseRouteGet(text: string): RouteGetParse {
  const iface = /^\s*interface:\s*(\S+)\s*$/m.exec(text);
  if (iface?.[1] !== undefined) {
    const gateway = /^\s*gateway:\s*(\S+)\s*$/m.exec(text);
    return { kind: 'found', interface: iface[1], gateway: gateway?.[1] ?? null };
  }
  if (NO_ROUTE.test(text)) return { kind: 'no-route' };
  return { kind: 'unparsed' };
}
