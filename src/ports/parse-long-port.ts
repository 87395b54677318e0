// Port entries that are not plain strings: Compose's long form (`target`, `published`, ...),
// the short form with an explicit syntax (`{ kleene: "8080:80" }`) and scalars in a list.
// The JSON Schema owns the entry's shape (keys, value types, non-empty lists) and its messages
// about it. An entry the schema flagged still comes here, so that problems of its other values are
// reported, and build-manifest-document then drops the port-long-* shape errors; so the shape
// checks below are minimal guards (one code, the key, a plain message), never a second wording of
// the schema. Any value gives a result, never a throw.
import { compareStrings } from '../text/compare-strings.js';
import {
  NO_TEXTS,
  type Family,
  type PortRange,
  type PortSpec,
  type PortSpecError,
  type PortSpecResult,
  type Protocol,
} from './port-spec.js';
import { describeAddressProblem, describeNetworkProblem, parseAddress, parseNetwork } from './address.js';
import { describeInterfaceNameProblem } from './interface-name.js';
import { pairPortRanges } from './pair-port-ranges.js';
import { portError as err } from './port-error.js';
import { parseDockerPort } from './parse-docker-port.js';
import { parseKleenePort } from './parse-kleene-port.js';
import { parsePortRange } from './port-number.js';
import { parseProtocol, type ProtocolRules } from './parse-protocol.js';
import { describeValue } from '../text/describe-value.js';
import { suggest } from '../text/did-you-mean.js';
import { quoteText } from '../text/quote-text.js';

export type ShortPortSyntax = 'kleene' | 'docker';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

const LONG_KEYS = [
  'target',
  'published',
  'host_ip',
  'protocol',
  'name',
  'interface',
  'interfaces',
  'from',
  'family',
  'mode',
  'app_protocol',
] as const;
const EXPLICIT_KEYS = ['from', 'family', 'name'] as const;

/** Keys people write when they mean one of ours (Docker API and Kubernetes names, typos). */
const KEY_HINTS = new Map<string, string>([
  ['container_port', 'target'],
  ['containerport', 'target'],
  ['container', 'target'],
  ['port', 'target'],
  ['targetport', 'target'],
  ['host_port', 'published'],
  ['hostport', 'published'],
  ['publish', 'published'],
  ['published_port', 'published'],
  ['ip', 'host_ip'],
  ['hostip', 'host_ip'],
  ['host_address', 'host_ip'],
  ['address', 'host_ip'],
  ['proto', 'protocol'],
  ['iface', 'interface'],
  ['source', 'from'],
  ['sources', 'from'],
  ['address_family', 'family'],
  ['af', 'family'],
]);

/** A list item that is a string or a number, read in the manifest's (or the entry's) syntax. */
export function parsePortSpec(value: string | number, syntax: ShortPortSyntax): PortSpecResult {
  const text = scalarText(value);
  if (text === null) {
    return failWith(err('port-long-type', `a port spec cannot be ${describeValue(value)}`, 0, 0));
  }
  return syntax === 'docker' ? parseDockerPort(text) : parseKleenePort(text);
}

/** A port entry that is an object: the long form, or `{ kleene | docker: SPEC, from?, family?, name? }`. */
export function parsePortObject(value: unknown): PortSpecResult {
  try {
    return parseObject(value);
  } catch {
    // Only an exotic value (a Proxy whose traps throw) gets here; YAML never produces one.
    return failWith(err('port-long-type', 'a port entry must be a plain mapping of keys to values', 0, 0));
  }
}

const LONG_PROTOCOLS: ProtocolRules = { allowed: ['tcp', 'udp', 'sctp'], ignoreCase: false };

type Entries = Map<string, { value: unknown; isData: boolean }>;

function parseObject(value: unknown): PortSpecResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return failWith(err('port-long-type', `a port entry cannot be ${describeValue(value)}`, 0, 0));
  }
  const entries: Entries = new Map();
  for (const key of Object.keys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined) continue;
    entries.set(key, { value: descriptor.value as unknown, isData: 'value' in descriptor });
  }
  if (entries.has('kleene') || entries.has('docker')) return parseExplicit(entries);
  return parseLong(entries);
}

function parseExplicit(entries: Entries): PortSpecResult {
  const errors: PortSpecError[] = [];
  if (entries.has('kleene') && entries.has('docker')) {
    errors.push(
      keyed(
        err(
          'port-long-conflict',
          'a port entry takes either kleene or docker, not both: keep the one whose syntax the spec is written in',
          0,
          0,
        ),
        'docker',
      ),
    );
    return { ok: false, errors };
  }
  const syntax: ShortPortSyntax = entries.has('kleene') ? 'kleene' : 'docker';
  for (const key of unknownKeys(entries, [syntax, ...EXPLICIT_KEYS])) {
    errors.push(
      keyed(
        err(
          'port-long-key',
          `key ${quoteText(key)} cannot be used with ${syntax}: only from, family and name can; ` +
            'for more, write the long form (target, published, host_ip, interface, ...)',
          0,
          0,
        ),
        key,
      ),
    );
  }
  const specValue = read(entries, syntax);
  const text = scalarText(specValue);
  let spec: PortSpec | null = null;
  if (text === null) {
    errors.push(wrongType(syntax, specValue));
  } else {
    const parsed = syntax === 'docker' ? parseDockerPort(text) : parseKleenePort(text);
    if (parsed.ok) spec = parsed.spec;
    else errors.push(...parsed.errors.map((e) => keyed(e, syntax)));
  }
  const extras = readExtras(entries, errors);
  if (spec !== null && extras !== null) {
    const hostFamily = spec.hostAddress === null ? null : (parseAddress(spec.hostAddress)?.family ?? null);
    if (extras.family !== null && hostFamily !== null && hostFamily !== extras.family) {
      errors.push(
        keyed(
          err(
            'port-family-mismatch',
            `family ${extras.family} does not match host address ${spec.hostAddress ?? ''} (${hostFamily}): ` +
              `write family: ${hostFamily} or remove family`,
            0,
            0,
          ),
          'family',
        ),
      );
    }
    errors.push(...fromFamilyErrors(extras.from, extras.family ?? hostFamily));
  }
  if (errors.length > 0 || spec === null || extras === null) return { ok: false, errors };
  return {
    ok: true,
    spec: { ...spec, from: sourceTexts(extras), family: extras.family, name: extras.name },
  };
}

function parseLong(entries: Entries): PortSpecResult {
  const errors: PortSpecError[] = [];
  for (const key of unknownKeys(entries, LONG_KEYS)) {
    const hint = suggestKey(key);
    errors.push(
      keyed(
        err(
          'port-long-key',
          `unknown key ${quoteText(key)} in a long-form port entry: ` +
            (hint !== null ? `${suggest(hint)} ` : '') +
            `the keys are ${LONG_KEYS.join(', ')}`,
          0,
          0,
        ),
        key,
      ),
    );
  }

  let container: PortRange | null = null;
  if (!entries.has('target')) {
    errors.push(
      keyed(
        err(
          'port-long-missing-target',
          'a long-form port entry needs target, the container port: e.g. target: 80',
          0,
          0,
        ),
        'target',
      ),
    );
  } else {
    container = readPortRange(entries, 'target', errors);
  }
  const host = entries.has('published') ? readPortRange(entries, 'published', errors) : null;

  let hostAddress: string | null = null;
  let hostFamily: Family | null = null;
  if (entries.has('host_ip')) {
    const value = read(entries, 'host_ip');
    if (typeof value !== 'string') {
      errors.push(wrongType('host_ip', value));
    } else {
      const parsed = parseAddress(value);
      if (parsed === null) {
        const reason = describeAddressProblem(value) ?? 'it is not an IP address';
        errors.push(
          keyed(
            err('port-address-invalid', `host_ip ${quoteText(value)} is not valid: ${reason}`, 0, value.length),
            'host_ip',
          ),
        );
      } else {
        hostAddress = parsed.text;
        hostFamily = parsed.family;
      }
    }
  }

  let protocol: Protocol = 'tcp';
  if (entries.has('protocol')) {
    const value = read(entries, 'protocol');
    if (typeof value !== 'string') {
      errors.push(wrongType('protocol', value));
    } else {
      const parsed = parseProtocol(value, 0, LONG_PROTOCOLS);
      if (parsed.ok) protocol = parsed.protocol;
      else errors.push(...parsed.errors.map((e) => keyed(e, 'protocol')));
    }
  }

  const interfaces = readInterfaces(entries, errors);
  if (entries.has('host_ip') && (entries.has('interface') || entries.has('interfaces'))) {
    errors.push(
      keyed(
        err(
          'port-long-conflict',
          'host_ip and interface(s) exclude each other: listen on an address (host_ip) or on interfaces, not both',
          0,
          0,
        ),
        'host_ip',
      ),
    );
  }

  if (entries.has('mode')) {
    const value = read(entries, 'mode');
    if (value !== 'host') {
      const message =
        value === 'ingress'
          ? "mode ingress is Docker Swarm's routing mesh, which pf cannot provide: write mode: host or leave mode out"
          : `mode ${typeof value === 'string' ? quoteText(value) : describeValue(value)} is unknown: write mode: host or leave mode out`;
      errors.push(keyed(err('port-mode', message, 0, typeof value === 'string' ? value.length : 0), 'mode'));
    }
  }
  if (entries.has('app_protocol')) {
    // Accepted for Compose compatibility; it only names the protocol for tools and changes nothing here.
    const value = read(entries, 'app_protocol');
    if (typeof value !== 'string') errors.push(wrongType('app_protocol', value));
  }

  const extras = readExtras(entries, errors);
  if (extras !== null && extras.family !== null && hostFamily !== null && extras.family !== hostFamily) {
    errors.push(
      keyed(
        err(
          'port-family-mismatch',
          `host_ip ${hostAddress ?? ''} is ${hostFamily === 'inet' ? 'an IPv4' : 'an IPv6'} address but family is ` +
            `${extras.family}: write family: ${hostFamily} or remove family`,
          0,
          0,
        ),
        'host_ip',
      ),
    );
  }
  if (extras !== null) errors.push(...fromFamilyErrors(extras.from, extras.family ?? hostFamily));

  let hostPort: PortRange | null = null;
  let hostPortIsPool = false;
  if (container !== null && host !== null) {
    const paired = pairPortRanges(host, container, 'long', 0, 0);
    if (paired.ok) {
      hostPort = paired.hostPort;
      hostPortIsPool = paired.hostPortIsPool;
    } else {
      errors.push(...paired.errors.map((e) => keyed(e, 'published')));
    }
  }

  if (errors.length > 0 || container === null || extras === null || interfaces === null) return { ok: false, errors };
  return {
    ok: true,
    spec: {
      syntax: 'long',
      protocol,
      containerPort: container,
      hostPort,
      hostPortIsPool,
      interfaces: interfaces.length === 0 ? NO_TEXTS : interfaces,
      hostAddress,
      from: sourceTexts(extras),
      family: extras.family,
      name: extras.name,
    },
  };
}

/** The sources' texts; the shared empty list when there are none. */
function sourceTexts(extras: Extras): readonly string[] {
  return extras.from.length === 0 ? NO_TEXTS : extras.from.map((n) => n.text);
}

interface Extras {
  from: { text: string; family: Family; index: number }[];
  family: Family | null;
  name: string | null;
}

/** `from`, `family` and `name`, shared by both object kinds; null when any of them is wrong. */
function readExtras(entries: Entries, errors: PortSpecError[]): Extras | null {
  const before = errors.length;
  const extras: Extras = { from: [], family: null, name: null };

  if (entries.has('from')) {
    const value = read(entries, 'from');
    if (!Array.isArray(value)) {
      errors.push(wrongType('from', value));
    } else if (value.length === 0) {
      errors.push(
        keyed(
          err(
            'port-long-empty',
            'from is empty, which would allow no source at all: list networks, or remove from to allow any source',
            0,
            0,
          ),
          'from',
        ),
      );
    } else {
      const seen = new Map<string, number>();
      value.forEach((item: unknown, index) => {
        if (typeof item !== 'string') {
          errors.push(indexed(wrongType('from', item), index));
          return;
        }
        const network = parseNetwork(item);
        if (network === null) {
          const reason = describeNetworkProblem(item) ?? 'it is not a network';
          errors.push(
            indexed(
              keyed(
                err(
                  'port-address-invalid',
                  `source network ${quoteText(item)} is not valid: ${reason}`,
                  0,
                  item.length,
                ),
                'from',
              ),
              index,
            ),
          );
          return;
        }
        if (network.hostBitsSet) {
          const host = parseAddress(item.slice(0, item.indexOf('/')))?.text ?? item;
          errors.push(
            indexed(
              keyed(
                err(
                  'port-from-host-bits',
                  `source network ${quoteText(item)} has bits set beyond its /${network.prefix} prefix: ` +
                    `write ${network.text} for the network, or ${host} for the single host`,
                  0,
                  item.length,
                ),
                'from',
              ),
              index,
            ),
          );
          return;
        }
        const first = seen.get(network.text);
        if (first !== undefined) {
          errors.push(
            indexed(
              keyed(
                err(
                  'port-long-duplicate',
                  `source network ${network.text} is listed twice (items ${first + 1} and ${index + 1}): remove one`,
                  0,
                  item.length,
                ),
                'from',
              ),
              index,
            ),
          );
          return;
        }
        seen.set(network.text, index);
        extras.from.push({ text: network.text, family: network.family, index });
      });
      extras.from.sort((a, b) => compareStrings(a.text, b.text));
    }
  }

  if (entries.has('family')) {
    const value = read(entries, 'family');
    if (value === 'inet' || value === 'inet6') {
      extras.family = value;
    } else {
      const shown = typeof value === 'string' ? quoteText(value) : describeValue(value);
      const lower = typeof value === 'string' ? value.toLowerCase() : '';
      const hint =
        lower === 'ipv4' || lower === '4'
          ? ' (IPv4 is inet)'
          : lower === 'ipv6' || lower === '6'
            ? ' (IPv6 is inet6)'
            : '';
      errors.push(
        keyed(
          err(
            'port-family',
            `family ${shown} is unknown: write inet or inet6${hint}`,
            0,
            typeof value === 'string' ? value.length : 0,
          ),
          'family',
        ),
      );
    }
  }

  if (entries.has('name')) {
    const value = read(entries, 'name');
    if (typeof value === 'string' && NAME.test(value)) {
      extras.name = value;
    } else {
      const shown = typeof value === 'string' ? quoteText(value) : describeValue(value);
      errors.push(
        keyed(
          err(
            'port-name',
            `name ${shown} is not allowed: a name starts with a letter or digit and has at most 32 letters, digits, "_", "." or "-", e.g. web-http`,
            0,
            typeof value === 'string' ? value.length : 0,
          ),
          'name',
        ),
      );
    }
  }
  return errors.length > before ? null : extras;
}

function fromFamilyErrors(from: Extras['from'], family: Family | null): PortSpecError[] {
  if (family === null) return [];
  const wrong = from.filter((n) => n.family !== family).sort((a, b) => a.index - b.index);
  return wrong.map((n) =>
    indexed(
      keyed(
        err(
          'port-family-mismatch',
          `source network ${n.text} is ${n.family === 'inet' ? 'IPv4' : 'IPv6'} but this entry listens on ${family === 'inet' ? 'IPv4' : 'IPv6'} only, so it could never match: remove it or change the entry's family`,
          0,
          0,
        ),
        'from',
      ),
      n.index,
    ),
  );
}

function readInterfaces(entries: Entries, errors: PortSpecError[]): string[] | null {
  const before = errors.length;
  if (entries.has('interface') && entries.has('interfaces')) {
    errors.push(
      keyed(
        err(
          'port-long-conflict',
          'interface and interfaces exclude each other: list every interface under interfaces',
          0,
          0,
        ),
        'interfaces',
      ),
    );
    return null;
  }
  const names: string[] = [];
  if (entries.has('interface')) {
    const value = read(entries, 'interface');
    if (typeof value !== 'string') {
      errors.push(wrongType('interface', value));
    } else {
      const problem = describeInterfaceNameProblem(value);
      if (problem !== null) {
        errors.push(keyed(err('port-interface-name', problem, 0, value.length), 'interface'));
      } else {
        names.push(value);
      }
    }
  }
  if (entries.has('interfaces')) {
    const value = read(entries, 'interfaces');
    if (!Array.isArray(value)) {
      errors.push(wrongType('interfaces', value));
    } else if (value.length === 0) {
      errors.push(
        keyed(
          err(
            'port-long-empty',
            'interfaces is empty: list at least one interface, or remove it to use the gateway interface',
            0,
            0,
          ),
          'interfaces',
        ),
      );
    } else {
      value.forEach((item: unknown, index) => {
        if (typeof item !== 'string') {
          errors.push(indexed(wrongType('interfaces', item), index));
          return;
        }
        const problem = describeInterfaceNameProblem(item);
        if (problem !== null) {
          errors.push(indexed(keyed(err('port-interface-name', problem, 0, item.length), 'interfaces'), index));
          return;
        }
        if (names.includes(item)) {
          errors.push(
            indexed(
              keyed(
                err('port-long-duplicate', `interface ${item} is listed twice: remove one`, 0, item.length),
                'interfaces',
              ),
              index,
            ),
          );
          return;
        }
        names.push(item);
      });
    }
  }
  return errors.length > before ? null : names.sort(compareStrings);
}

function readPortRange(entries: Entries, key: 'target' | 'published', errors: PortSpecError[]): PortRange | null {
  const value = read(entries, key);
  const text = scalarText(value);
  if (text === null) {
    errors.push(wrongType(key, value));
    return null;
  }
  const parsed = parsePortRange(text);
  if (!parsed.ok) {
    errors.push(...parsed.errors.map((e) => keyed(e, key)));
    return null;
  }
  return parsed.range;
}

/** Strings as they are, numbers as String() writes them; anything else null. */
function scalarText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return null;
}

function read(entries: Entries, key: string): unknown {
  const entry = entries.get(key);
  // A getter is not data a manifest can hold; reading it could run code, so it counts as no value.
  return entry?.isData === true ? entry.value : undefined;
}

function unknownKeys(entries: Entries, known: readonly string[]): string[] {
  return [...entries.keys()].filter((k) => !known.includes(k)).sort(compareStrings);
}

function suggestKey(key: string): string | null {
  const normal = key.toLowerCase().replace(/-/g, '_');
  if ((LONG_KEYS as readonly string[]).includes(normal)) return normal;
  return KEY_HINTS.get(normal) ?? null;
}

/** The guard for a value of the wrong type (see the header: the schema's message is the one shown). */
function wrongType(key: string, value: unknown): PortSpecError {
  return keyed(err('port-long-type', `${key} cannot be ${describeValue(value)}`, 0, 0), key);
}

function keyed(error: PortSpecError, key: string): PortSpecError {
  return { ...error, key };
}

function indexed(error: PortSpecError, index: number): PortSpecError {
  return { ...error, index };
}

function failWith(error: PortSpecError): PortSpecResult {
  return { ok: false, errors: [error] };
}
