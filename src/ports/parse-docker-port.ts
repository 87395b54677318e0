// Docker's `-p` syntax, `[[HOST_IP:][HOST_PORT]:]CONTAINER_PORT[/PROTO]`, with the meaning
// go-connections' ParsePortSpec gives it: split from the right, IPv6 host addresses bracketed
// or bare, an empty or absent host port left to the compiler, `8000-8010:80` a pool.
import { NO_TEXTS, type PortRange, type PortSpecError, type PortSpecResult, type Protocol } from './port-spec.js';
import { describeAddressProblem, parseAddress } from './address.js';
import { looksLikeInterfaceName } from './interface-name.js';
import { pairPortRanges } from './pair-port-ranges.js';
import { portError, whitespaceErrors } from './port-error.js';
import { parsePortRange } from './port-number.js';
import { parseProtocol, type ProtocolRules } from './parse-protocol.js';
import { quoteText } from '../text/quote-text.js';

const GRAMMAR = '[[HOST_IP:][HOST_PORT]:]CONTAINER_PORT[/PROTOCOL]';

/** Docker lower-cases the protocol before it checks it (`80/TCP` works there). */
const DOCKER_PROTOCOLS: ProtocolRules = { allowed: ['tcp', 'udp', 'sctp'], ignoreCase: true };

interface Field {
  text: string;
  start: number;
}

interface Layout {
  address: Field | null;
  /** Absent (bare `80`) or empty (`127.0.0.1::80`): the compiler chooses the host port. */
  host: Field | null;
  container: Field;
  /** True when the address was written in brackets (`[::1]:80:80`). */
  bracketed: boolean;
}

export function parseDockerPort(text: string): PortSpecResult {
  if (text === '') {
    return failWith(portError('port-empty', `the port spec is empty: write ${GRAMMAR}, e.g. 8080:80`, 0, 0));
  }
  const spaces = whitespaceErrors(text);
  if (spaces.length > 0) return { ok: false, errors: spaces };

  const layout = text.startsWith('[') ? splitBracketed(text) : splitFromRight(text);
  if ('errors' in layout) return layout;

  const errors: PortSpecError[] = [];
  let hostAddress: string | null = null;
  if (layout.address !== null) {
    const address = checkAddress(layout.address, layout.bracketed);
    if (typeof address === 'string') hostAddress = address;
    else errors.push(address);
  }

  const containerField = layout.container;
  const slash = containerField.text.indexOf('/');
  const portText = slash < 0 ? containerField.text : containerField.text.slice(0, slash);
  let protocol: Protocol = 'tcp';
  if (slash >= 0) {
    const protocolText = containerField.text.slice(slash + 1);
    const secondSlash = protocolText.indexOf('/');
    if (secondSlash >= 0) {
      const at = containerField.start + slash + 1 + secondSlash;
      errors.push(
        portError(
          'port-too-many-fields',
          'a port spec takes one /PROTOCOL at most: write one entry per protocol (8080:80/tcp and 8080:80/udp)',
          at,
          text.length,
        ),
      );
    } else {
      const parsed = parseProtocol(protocolText, containerField.start + slash + 1, DOCKER_PROTOCOLS);
      if (parsed.ok) protocol = parsed.protocol;
      else errors.push(...parsed.errors);
    }
  }

  const container = parsePortRange(portText, containerField.start);
  if (!container.ok) errors.push(...container.errors);
  const hostField = layout.host !== null && layout.host.text !== '' ? layout.host : null;
  const host = hostField === null ? null : parsePortRange(hostField.text, hostField.start);
  if (host !== null && !host.ok) errors.push(...host.errors);

  if (errors.length > 0 || !container.ok || (host !== null && !host.ok)) {
    // Fields were checked right to left; report them in reading order.
    return { ok: false, errors: errors.sort((a, b) => a.start - b.start || a.end - b.end) };
  }

  let hostPort: PortRange | null = null;
  let hostPortIsPool = false;
  if (host !== null && hostField !== null) {
    const paired = pairPortRanges(
      host.range,
      container.range,
      'docker',
      hostField.start,
      containerField.start + portText.length,
    );
    if (!paired.ok) return paired;
    hostPort = paired.hostPort;
    hostPortIsPool = paired.hostPortIsPool;
  }
  return {
    ok: true,
    spec: {
      syntax: 'docker',
      protocol,
      containerPort: container.range,
      hostPort,
      hostPortIsPool,
      interfaces: NO_TEXTS,
      // `0.0.0.0` and `::` stay as written (canonical): they mean "every address of that family",
      // which the model turns into the right listen side. No address at all means both families.
      hostAddress,
      from: NO_TEXTS,
      family: null,
      name: null,
    },
  };
}

/** As ParsePortSpec: the last field is the container port, the one before it the host port, the rest the address. */
function splitFromRight(text: string): Layout {
  const fields: Field[] = [];
  let start = 0;
  for (const part of text.split(':')) {
    fields.push({ text: part, start });
    start += part.length + 1;
  }
  const n = fields.length;
  const container = fields[n - 1] as Field;
  const host = n >= 2 ? (fields[n - 2] as Field) : null;
  let address: Field | null = null;
  if (n >= 3 && host !== null) {
    const addressText = text.slice(0, host.start - 1);
    // An empty address (`::80`, i.e. `:` + `:80`) means no address, as upstream.
    if (addressText !== '') address = { text: addressText, start: 0 };
  }
  return { address, host, container, bracketed: false };
}

function splitBracketed(text: string): Layout | { ok: false; errors: PortSpecError[] } {
  const close = text.indexOf(']');
  if (close < 0) {
    return failWith(
      portError(
        'port-address-invalid',
        'the "[" before the host address is never closed: write [ADDRESS]:HOST_PORT:CONTAINER_PORT, e.g. [::1]:8080:80',
        0,
        text.length,
      ),
    );
  }
  const address: Field = { text: text.slice(1, close), start: 1 };
  const rest = text.slice(close + 1);
  const fields = rest.split(':');
  if (!rest.startsWith(':') || fields.length < 3) {
    return failWith(
      portError(
        'port-syntax',
        `after [${address.text}] write :HOST_PORT:CONTAINER_PORT, or ::CONTAINER_PORT to let the host port be chosen ` +
          '(e.g. [::1]:8080:80 or [::1]::80)',
        close + 1,
        text.length,
      ),
    );
  }
  const hostStart = close + 2;
  const host: Field = { text: fields[1] ?? '', start: hostStart };
  const container: Field = { text: fields[2] ?? '', start: hostStart + host.text.length + 1 };
  if (fields.length > 3) {
    return failWith(
      portError(
        'port-too-many-fields',
        `too many ":" fields after [${address.text}]: write ${GRAMMAR}, e.g. [::1]:8080:80`,
        container.start + container.text.length,
        text.length,
      ),
    );
  }
  return { address, host, container, bracketed: true };
}

/** The canonical address, or the error for the address field. */
function checkAddress(field: Field, bracketed: boolean): string | PortSpecError {
  const end = field.start + field.text.length;
  const parsed = parseAddress(field.text);
  if (parsed !== null && bracketed && parsed.family === 'inet') {
    return portError(
      'port-address-invalid',
      `brackets are only for IPv6 addresses: write ${parsed.text}:HOST_PORT:CONTAINER_PORT without them`,
      field.start - 1,
      end + 1,
    );
  }
  if (parsed !== null) return parsed.text;
  if (!bracketed && looksLikeInterfaceName(field.text)) {
    return portError(
      'port-interface-in-docker',
      `${quoteText(field.text)} is not an IP address: docker syntax takes a host address before the host port ` +
        `(127.0.0.1:8080:80); to listen on an interface, use kleene syntax (${field.text}:8080:80) or the long form's interface`,
      field.start,
      end,
    );
  }
  const reason = describeAddressProblem(field.text) ?? 'it is not an IP address';
  const hint =
    !bracketed && field.text.includes(':')
      ? '; write an IPv6 host address in brackets, e.g. [2001:db8::1]:8080:80'
      : '';
  return portError(
    'port-address-invalid',
    `host address ${quoteText(field.text)} is not valid: ${reason}${hint}`,
    field.start,
    end,
  );
}

function failWith(error: PortSpecError): { ok: false; errors: PortSpecError[] } {
  return { ok: false, errors: [error] };
}
