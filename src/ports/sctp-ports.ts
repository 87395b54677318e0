// SCTP exposures keep their port: pf's translation code rewrites addresses of SCTP packets but
// never their ports, so a redirect only works when the host port equals the container port. This
// module owns that fact and the words for it; the manifest check and the model both use it.
import type { PortRange, PortSpec } from './port-spec.js';

/** Why pf cannot publish a port-changing SCTP entry, and what to write instead. */
export interface SctpPortProblem {
  message: string;
  hint: string;
}

function formatPorts(range: PortRange): string {
  return range.start === range.end ? String(range.start) : `${range.start}-${range.end}`;
}

/** The hint every SCTP port diagnostic ends with. */
export function sctpSamePortHint(containerPort: PortRange): string {
  const port = formatPorts(containerPort);
  return `publish the same port on both sides (\`${port}:${port}/sctp\`, or \`published: ${port}\` with \`target: ${port}\`)`;
}

const WHY = 'pf translates the address of an SCTP packet but never its port';

/**
 * The problem of an SCTP entry whose host side is written and can never equal its container side:
 * fixed host ports that differ, or a pick-one range that does not hold the container port. Null for
 * other protocols, same-port entries, pick-one ranges that hold the container port, and entries
 * whose host port the compiler chooses (the model gives those the container port itself).
 */
export function sctpPortProblem(spec: PortSpec): SctpPortProblem | null {
  if (spec.protocol !== 'sctp' || spec.hostPort === null) return null;
  const host = spec.hostPort;
  const container = spec.containerPort;
  const target = formatPorts(container);
  if (spec.hostPortIsPool) {
    if (host.start <= container.start && container.end <= host.end) return null;
    return {
      message: `this sctp entry picks its host port from ${formatPorts(host)}, which does not hold the container port ${target}: ${WHY}, so a packet redirected from any port of that range would reach the container on that same port, where nothing listens`,
      hint: sctpSamePortHint(container),
    };
  }
  if (host.start === container.start && host.end === container.end) return null;
  return {
    message: `this sctp entry publishes container port ${target} on host port ${formatPorts(host)}: ${WHY}, so the packet would reach the container on port ${formatPorts(host)}, where nothing listens`,
    hint: sctpSamePortHint(container),
  };
}
