// Kleene's `-p` syntax: `HOST[:CONTAINER][/PROTO]` or `IFACE:HOST:CONTAINER[/PROTO]`, plus this
// project's ranges (`9000-9010:9000-9010`, `9000-9010`) which map one-to-one. The host port is
// always given; no interface means the host's gateway interface.
import { NO_TEXTS, type PortSpecError, type PortSpecResult } from './port-spec.js';
import { parseAddress } from './address.js';
import { describeInterfaceNameProblem, looksLikeInterfaceName } from './interface-name.js';
import { pairPortRanges } from './pair-port-ranges.js';
import { portError, whitespaceErrors } from './port-error.js';
import { parsePortRange } from './port-number.js';
import { parseProtocol, type ProtocolRules } from './parse-protocol.js';
import { quoteText } from '../text/quote-text.js';

const GRAMMAR = 'HOST_PORT[:CONTAINER_PORT][/PROTOCOL] or INTERFACE:HOST_PORT:CONTAINER_PORT[/PROTOCOL]';

const KLEENE_PROTOCOLS: ProtocolRules = {
  allowed: ['tcp', 'udp'],
  ignoreCase: false,
  elsewhere: 'docker syntax and the long form accept sctp',
};

interface Field {
  text: string;
  start: number;
}

export function parseKleenePort(text: string): PortSpecResult {
  if (text === '') {
    return failWith(portError('port-empty', `the port spec is empty: write ${GRAMMAR}, e.g. 8080:80`, 0, 0));
  }
  const spaces = whitespaceErrors(text);
  if (spaces.length > 0) return { ok: false, errors: spaces };

  const slash = text.indexOf('/');
  const secondSlash = slash < 0 ? -1 : text.indexOf('/', slash + 1);
  if (secondSlash >= 0) {
    return failWith(
      portError(
        'port-too-many-fields',
        'a port spec takes one /PROTOCOL at most: write one entry per protocol (8080:80/tcp and 8080:80/udp)',
        secondSlash,
        text.length,
      ),
    );
  }
  const main = slash < 0 ? text : text.slice(0, slash);
  const fields = splitFields(main);

  if (fields.length > 3) return failWith(tooManyFields(main, fields, text.slice(main.length)));
  const missing = missingPortAfterInterface(fields, text.slice(main.length));
  if (missing !== null) return failWith(missing);

  const errors: PortSpecError[] = [];
  const interfaces: string[] = [];
  if (fields.length === 3) {
    const iface = fields[0] as Field;
    const problem = interfaceProblem(iface.text, text.slice(iface.text.length));
    if (problem !== null) errors.push(portError(problem.code, problem.message, 0, iface.text.length));
    else interfaces.push(iface.text);
  }

  const hostField = fields.length === 1 ? (fields[0] as Field) : (fields[fields.length - 2] as Field);
  const containerField = fields[fields.length - 1] as Field;
  const host = parsePortRange(hostField.text, hostField.start);
  const container = fields.length === 1 ? host : parsePortRange(containerField.text, containerField.start);
  if (!host.ok && hostField.text === '' && fields.length > 1) {
    errors.push(
      portError(
        'port-empty',
        'the host port is missing: Kleene syntax always names it (write 8080:80); to let the compiler choose ' +
          'the host port, use docker syntax (127.0.0.1::80) or the long form without published',
        hostField.start,
        hostField.start,
      ),
    );
  } else if (!host.ok) {
    errors.push(...host.errors);
  }
  if (!container.ok && fields.length > 1) errors.push(...container.errors);

  const protocol =
    slash < 0
      ? ({ ok: true, protocol: 'tcp' } as const)
      : parseProtocol(text.slice(slash + 1), slash + 1, KLEENE_PROTOCOLS);
  if (!protocol.ok) errors.push(...protocol.errors);

  if (!host.ok || !container.ok || !protocol.ok || errors.length > 0) return { ok: false, errors };

  const paired = pairPortRanges(host.range, container.range, 'kleene', hostField.start, main.length);
  if (!paired.ok) return paired;
  return {
    ok: true,
    spec: {
      syntax: 'kleene',
      protocol: protocol.protocol,
      containerPort: container.range,
      hostPort: paired.hostPort,
      hostPortIsPool: false,
      interfaces: interfaces.length === 0 ? NO_TEXTS : interfaces,
      hostAddress: null,
      from: NO_TEXTS,
      family: null,
      name: null,
    },
  };
}

function splitFields(text: string): Field[] {
  const fields: Field[] = [];
  let start = 0;
  for (const part of text.split(':')) {
    fields.push({ text: part, start });
    start += part.length + 1;
  }
  return fields;
}

/**
 * `em1:5432` or `em1`: an interface where the host port belongs, with too few fields for the
 * interface form. Said as such, with the entry written out in full, instead of "not a number".
 */
function missingPortAfterInterface(fields: readonly Field[], protocol: string): PortSpecError | null {
  if (fields.length > 2) return null;
  const first = fields[0] as Field;
  if (!looksLikeInterfaceName(first.text)) return null;
  const second = fields[1];
  const ports =
    second !== undefined && parsePortRange(second.text, second.start).ok ? `${second.text}:${second.text}` : '8080:80';
  const end = second === undefined ? first.text.length : second.start + second.text.length;
  return portError(
    'port-syntax',
    `${quoteText(first.text)} is an interface, not a port: the interface form needs all three fields, ` +
      `INTERFACE:HOST_PORT:CONTAINER_PORT, e.g. ${first.text}:${ports}${protocol}; without an interface, ` +
      'HOST_PORT[:CONTAINER_PORT] listens on the gateway interface',
    0,
    end,
  );
}

/** More than three fields: most likely an IPv6 address written as if this were docker syntax. */
function tooManyFields(main: string, fields: readonly Field[], protocol: string): PortSpecError {
  const hostField = fields[fields.length - 2] as Field;
  const prefix = main.slice(0, hostField.start - 1);
  const address = parseAddress(prefix.replace(/^\[(.*)\]$/, '$1'));
  if (address !== null) return addressInKleene(address.text, 0, prefix.length, main.slice(prefix.length) + protocol);
  const fourth = fields[3] as Field;
  return portError(
    'port-too-many-fields',
    `a Kleene port spec has at most three ":" fields: write ${GRAMMAR}, e.g. em0:8080:80`,
    fourth.start - 1,
    main.length,
  );
}

function interfaceProblem(
  text: string,
  rest: string,
): { code: 'port-interface-name' | 'port-address-in-kleene'; message: string } | null {
  // A valid interface name (a letter first, no `:`, `[` or digit-led dotted quad) is never an
  // address: nearly every entry, answered without reading it as one.
  const problem = describeInterfaceNameProblem(text);
  if (problem === null) return null;
  const address = parseAddress(text.replace(/^\[(.*)\]$/, '$1'));
  if (address !== null) {
    const error = addressInKleene(address.text, 0, text.length, rest);
    return { code: 'port-address-in-kleene', message: error.message };
  }
  if (text === '') {
    return {
      code: 'port-interface-name',
      message:
        'the interface name before the host port is empty: write one (em0:8080:80), or drop the leading ":" to use the gateway interface',
    };
  }
  return { code: 'port-interface-name', message: problem };
}

/** rest: the entry after the address (`:8080:80/udp`), to show the entry rewritten. */
function addressInKleene(address: string, start: number, end: number, rest: string): PortSpecError {
  const shown = address.includes(':') ? `[${address}]` : address;
  return portError(
    'port-address-in-kleene',
    `${quoteText(address)} is an IP address, but Kleene syntax takes an interface name before the host port ` +
      `(em0${rest}): to listen on a host address, use docker syntax (${shown}${rest}) or the long form's host_ip`,
    start,
    end,
  );
}

function failWith(error: PortSpecError): PortSpecResult {
  return { ok: false, errors: [error] };
}
