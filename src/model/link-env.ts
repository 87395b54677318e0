// The environment variables a Docker link (`--link server:alias`) gives the client, computed the way
// moby's daemon/links/links.go (`Link.ToEnv`) computes them, in the same order. What differs from
// Docker is said where it happens: no `ALIAS_ENV_*`, IPv6 bracketed in URLs.
import type { Protocol } from '../ports/port-spec.js';

export interface LinkedPort {
  port: number;
  protocol: Protocol;
}

export interface LinkEnvInput {
  /** The client container's name. */
  client: string;
  /** The link's alias (the server's name when the link gave none). */
  alias: string;
  /** The server container's name. */
  server: string;
  /** The server address the client uses: canonical IPv4, or canonical IPv6. */
  address: string;
  /** The server's exposed ports, in any order; duplicates are ignored. */
  ports: readonly LinkedPort[];
}

export interface LinkVariable {
  name: string;
  value: string;
}

/**
 * The prefix of every variable of a link: the alias upper-cased, `-` turned into `_` (Docker's
 * strings.ToUpper + ReplaceAll). Container names are ASCII (the schema's pattern), so ASCII
 * upper-casing is exactly Go's; other characters are left as they are. Docker's old documentation
 * wrote `LINKED-SERVER_PORT` with the hyphen kept; its code has replaced it for years, and so do we.
 */
export function linkVariablePrefix(alias: string): string {
  return alias.replace(/[a-z]/g, (c) => c.toUpperCase()).replaceAll('-', '_');
}

/** The value of `ALIAS_NAME`: Docker's link name, the client's name and the alias as a path. */
export function linkName(client: string, alias: string): string {
  return `/${client}/${alias}`;
}

/**
 * Docker's port order (withTCPPriority): TCP before every other protocol, the other protocols by
 * name (so sctp before udp), then by port number.
 */
export function compareLinkedPorts(a: LinkedPort, b: LinkedPort): number {
  if (a.protocol !== b.protocol) {
    if (a.protocol === 'tcp') return -1;
    if (b.protocol === 'tcp') return 1;
    return a.protocol < b.protocol ? -1 : 1;
  }
  return a.port - b.port;
}

/** The ports sorted in Docker's order, each (port, protocol) once: Docker reads them from a set. */
export function sortLinkedPorts(ports: readonly LinkedPort[]): LinkedPort[] {
  const sorted = [...ports].sort(compareLinkedPorts);
  return sorted.filter((p, i) => i === 0 || compareLinkedPorts(sorted[i - 1] as LinkedPort, p) !== 0);
}

/**
 * The link's variables in the order Docker's daemon appends them:
 * - `ALIAS_PORT`, the URL of the first port (TCP first, then by number);
 * - for every port, `ALIAS_PORT_<n>_<PROTO>` (URL), then `_ADDR`, `_PORT`, `_PROTO`;
 * - for every run of consecutive port numbers of one protocol, `_START` and `_PORT_START`, `_END`
 *   and `_PORT_END` under the run's first port. Docker notices that a run has ended only at the
 *   next port, so the run's four variables come after that next port's own four (and right after
 *   the last port's when the run reaches the end of the list);
 * - `ALIAS_NAME=/client/alias`.
 * Docker then adds `ALIAS_ENV_<NAME>` for each variable of the server's environment (but HOME and
 * PATH). A manifest declares no container environment, so there is nothing to add and none is made.
 *
 * URLs: the stored moby code writes `fmt.Sprintf("%s://%s:%d", proto, ip, port)` with the IP as it
 * is, not net.JoinHostPort; it never meets an IPv6 address because a link always uses the server's
 * IPv4 address on the default bridge. Written as is, an IPv6 URL could not be split into address
 * and port (`tcp://fd00::2:80`), so an IPv6 address is bracketed in URLs (`tcp://[fd00::2]:80`) and
 * left bare in `_ADDR`, the way `docker port` writes one.
 */
export function linkEnvironment(input: LinkEnvInput): LinkVariable[] {
  const prefix = linkVariablePrefix(input.alias);
  const host = input.address.includes(':') ? `[${input.address}]` : input.address;
  const url = (p: LinkedPort): string => `${p.protocol}://${host}:${p.port}`;
  const portPrefix = (p: LinkedPort): string => `${prefix}_PORT_${p.port}_${p.protocol.toUpperCase()}`;
  const ports = sortLinkedPorts(input.ports);
  const variables: LinkVariable[] = [];
  const add = (name: string, value: string): void => {
    variables.push({ name, value });
  };
  const addRun = (first: LinkedPort, last: LinkedPort): void => {
    const name = portPrefix(first);
    add(`${name}_START`, url(first));
    add(`${name}_PORT_START`, String(first.port));
    add(`${name}_END`, url(last));
    add(`${name}_PORT_END`, String(last.port));
  };

  const first = ports[0];
  if (first !== undefined) add(`${prefix}_PORT`, url(first));
  let runStart = 0;
  ports.forEach((p, i) => {
    const name = portPrefix(p);
    add(name, url(p));
    add(`${name}_ADDR`, input.address);
    add(`${name}_PORT`, String(p.port));
    add(`${name}_PROTO`, p.protocol);
    const previous = ports[i - 1];
    const extendsRun = previous !== undefined && previous.protocol === p.protocol && previous.port + 1 === p.port;
    if (!extendsRun) {
      // The run that ended at the previous port is written only now, after this port's variables.
      if (i - 1 > runStart) addRun(ports[runStart] as LinkedPort, previous as LinkedPort);
      runStart = i;
    }
    if (i === ports.length - 1 && i > runStart) addRun(ports[runStart] as LinkedPort, p);
  });
  add(`${prefix}_NAME`, linkName(input.client, input.alias));
  return variables;
}
