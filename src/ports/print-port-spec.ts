// Writes a PortSpec back in its own syntax: a short string when the spec fits its short form,
// `{ kleene | docker: SPEC, from, family, name }` when it only adds those, the long-form object
// otherwise. Reading the output back gives the same spec (a tested property).
import type { PortSpec } from './port-spec.js';
import { formatPortRange, isPortRange } from './port-number.js';

export type PrintedPortSpec = string | Record<string, unknown>;

export function printPortSpec(spec: PortSpec): PrintedPortSpec {
  const short = spec.syntax === 'kleene' ? printKleene(spec) : spec.syntax === 'docker' ? printDocker(spec) : null;
  if (short === null) return printLong(spec);
  if (spec.from.length === 0 && spec.family === null && spec.name === null) return short;
  const object: Record<string, unknown> = { [spec.syntax]: short };
  if (spec.from.length > 0) object.from = [...spec.from];
  if (spec.family !== null) object.family = spec.family;
  if (spec.name !== null) object.name = spec.name;
  return object;
}

function printKleene(spec: PortSpec): string | null {
  const host = spec.hostPort;
  if (
    host === null ||
    spec.hostPortIsPool ||
    spec.hostAddress !== null ||
    spec.interfaces.length > 1 ||
    spec.protocol === 'sctp' ||
    host.end - host.start !== spec.containerPort.end - spec.containerPort.start
  ) {
    return null;
  }
  const hostText = formatPortRange(host);
  const containerText = formatPortRange(spec.containerPort);
  const iface = spec.interfaces[0];
  const ports =
    iface !== undefined
      ? `${iface}:${hostText}:${containerText}`
      : hostText === containerText
        ? hostText
        : `${hostText}:${containerText}`;
  return ports + protocolSuffix(spec);
}

function printDocker(spec: PortSpec): string | null {
  if (spec.interfaces.length > 0) return null;
  const container = formatPortRange(spec.containerPort);
  const host = spec.hostPort;
  if (host !== null) {
    const oneToOne = host.end - host.start === spec.containerPort.end - spec.containerPort.start;
    const pool = spec.hostPortIsPool && isPortRange(host) && !isPortRange(spec.containerPort);
    if (oneToOne === pool) return null;
  }
  const hostText = host === null ? '' : formatPortRange(host);
  let ports: string;
  if (spec.hostAddress !== null) {
    const address = spec.hostAddress.includes(':') ? `[${spec.hostAddress}]` : spec.hostAddress;
    ports = `${address}:${hostText}:${container}`;
  } else {
    ports = host === null ? container : `${hostText}:${container}`;
  }
  return ports + protocolSuffix(spec);
}

function printLong(spec: PortSpec): Record<string, unknown> {
  const object: Record<string, unknown> = { target: printPort(spec.containerPort) };
  if (spec.hostPort !== null) object.published = printPort(spec.hostPort);
  if (spec.hostAddress !== null) object.host_ip = spec.hostAddress;
  if (spec.protocol !== 'tcp') object.protocol = spec.protocol;
  if (spec.interfaces.length === 1) object.interface = spec.interfaces[0];
  if (spec.interfaces.length > 1) object.interfaces = [...spec.interfaces];
  if (spec.from.length > 0) object.from = [...spec.from];
  if (spec.family !== null) object.family = spec.family;
  if (spec.name !== null) object.name = spec.name;
  return object;
}

/** A single port as a number (as people write it in YAML), a range as a string. */
function printPort(range: PortSpec['containerPort']): number | string {
  return isPortRange(range) ? formatPortRange(range) : range.start;
}

function protocolSuffix(spec: PortSpec): string {
  return spec.protocol === 'tcp' ? '' : `/${spec.protocol}`;
}
