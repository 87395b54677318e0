// Docker's `--expose` / EXPOSE entries: `PORT[/PROTOCOL]` or `START-END[/PROTOCOL]`, protocol tcp
// (default), udp or sctp. Errors carry offsets into the entry, as the port grammars' errors do.
import type { PortRange, PortSpecError, Protocol } from '../ports/port-spec.js';
import { parseProtocol } from '../ports/parse-protocol.js';
import { parsePortRange } from '../ports/port-number.js';

export type ExposeResult = { ok: true; port: PortRange; protocol: Protocol } | { ok: false; errors: PortSpecError[] };

export function parseExpose(value: string | number): ExposeResult {
  const text = String(value);
  const slash = text.indexOf('/');
  const portText = slash < 0 ? text : text.slice(0, slash);
  const errors: PortSpecError[] = [];
  let protocol: Protocol = 'tcp';
  if (slash >= 0) {
    const protocolText = text.slice(slash + 1);
    const parsed = parseProtocol(protocolText, slash + 1, { allowed: ['tcp', 'udp', 'sctp'], ignoreCase: false });
    if (parsed.ok) protocol = parsed.protocol;
    else errors.push(...parsed.errors);
  }
  if (portText.includes(':')) {
    const at = portText.indexOf(':');
    errors.push({
      code: 'port-too-many-fields',
      message: 'expose takes a container port only (80, 53/udp, 8000-8010/tcp): publish host ports under ports',
      start: at,
      end: portText.length,
    });
    return { ok: false, errors };
  }
  const port = parsePortRange(portText, 0);
  if (!port.ok) errors.push(...port.errors);
  if (!port.ok || errors.length > 0) return { ok: false, errors };
  return { ok: true, port: port.range, protocol };
}
