// The lock file: every host port the compiler chose for a dynamic entry, keyed by an identity that
// names only the entry itself (host, container, protocol, listen side, container ports, kind, and a
// pick-one entry's own range), so that other containers coming and going never move an allocation.
// Parsing and printing are pure.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { compareStrings } from '../text/compare-strings.js';
import { quoteText } from '../text/quote-text.js';
import type { PortRange, Protocol } from '../ports/port-spec.js';
import type { JsonNode, JsonPosition } from './parse-json-with-positions.js';
import { parseJsonWithPositions } from './parse-json-with-positions.js';

/** JSON on purpose: the manifest finder reads only *.yaml / *.yml, so it never takes the lock for a manifest. */
export const LOCKFILE_NAME = 'pfexpose.lock.json';

/**
 * Why the compiler chose the host port: Docker's ephemeral forms (`80`, `127.0.0.1::80`), Docker's
 * pick-one ranges (`8000-8010:80`), or `expose:` items published by `publishAll: true`.
 */
export type AllocationKind = 'ephemeral' | 'pick' | 'publish-all';

const KINDS: readonly AllocationKind[] = ['ephemeral', 'pick', 'publish-all'];
const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp'];

/** The identity of one dynamic request; it never mentions another container. */
export interface AllocationKey {
  /** null: the anonymous host of a repository that names no host. */
  host: string | null;
  container: string;
  protocol: Protocol;
  /** Interface the entry listens on, or null. */
  interface: string | null;
  /** Host address as written in the entry (`0.0.0.0` and `::` included), or null. Both null: every address. */
  hostAddress: string | null;
  containerPort: PortRange;
  kind: AllocationKind;
  /**
   * A pick-one entry's own host port range (`8000-8010` of `8000-8010:80`): two such entries of one
   * container port are told apart by it. Null (or absent) for the other kinds, and in pick entries
   * written before ranges were recorded; those are matched by the range that holds their host port.
   */
  range?: PortRange | null;
}

export interface LockEntry extends AllocationKey {
  /** Same length as containerPort. */
  hostPort: PortRange;
}

export interface Lockfile {
  version: 1;
  entries: LockEntry[];
}

export function emptyLockfile(): Lockfile {
  return { version: 1, entries: [] };
}

/** A string that is equal for two keys exactly when the keys are equal. */
export function allocationKeyId(key: AllocationKey): string {
  return JSON.stringify([key.host, ...keyWithoutHost(key)]);
}

/** As allocationKeyId, without the host: equal for the same entry recorded under another host name. */
export function allocationKeyIdWithoutHost(key: AllocationKey): string {
  return JSON.stringify(keyWithoutHost(key));
}

/** As allocationKeyIdWithoutHost, without the range either: the same container port of one container and kind. */
export function allocationBaseId(key: AllocationKey): string {
  return JSON.stringify(keyWithoutHost(key).slice(0, -2));
}

function keyWithoutHost(key: AllocationKey): (string | number | null)[] {
  const range = key.range ?? null;
  return [
    key.container,
    key.protocol,
    key.interface,
    key.hostAddress,
    key.containerPort.start,
    key.containerPort.end,
    key.kind,
    range === null ? null : range.start,
    range === null ? null : range.end,
  ];
}

function compareNullable(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return compareStrings(a, b);
}

/** Total order on keys; new requests are served in this order. */
export function compareAllocationKeys(a: AllocationKey, b: AllocationKey): number {
  return (
    compareNullable(a.host, b.host) ||
    compareStrings(a.container, b.container) ||
    compareStrings(a.protocol, b.protocol) ||
    compareNullable(a.interface, b.interface) ||
    compareNullable(a.hostAddress, b.hostAddress) ||
    a.containerPort.start - b.containerPort.start ||
    a.containerPort.end - b.containerPort.end ||
    compareStrings(a.kind, b.kind) ||
    compareRanges(a.range ?? null, b.range ?? null)
  );
}

function compareRanges(a: PortRange | null, b: PortRange | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  return a.start - b.start || a.end - b.end;
}

export function compareLockEntries(a: LockEntry, b: LockEntry): number {
  return compareAllocationKeys(a, b) || a.hostPort.start - b.hostPort.start || a.hostPort.end - b.hostPort.end;
}

/**
 * Deterministic text: entries sorted, fixed key order, 2-space indentation, trailing newline, no
 * timestamps. `range` appears in pick entries only.
 */
export function serializeLockfile(lock: Lockfile): string {
  const entries = [...lock.entries].sort(compareLockEntries).map((e) => ({
    host: e.host,
    container: e.container,
    protocol: e.protocol,
    interface: e.interface,
    hostAddress: e.hostAddress,
    kind: e.kind,
    ...(e.range === undefined || e.range === null ? {} : { range: { start: e.range.start, end: e.range.end } }),
    containerPort: { start: e.containerPort.start, end: e.containerPort.end },
    hostPort: { start: e.hostPort.start, end: e.hostPort.end },
  }));
  return `${JSON.stringify({ version: 1, entries }, null, 2)}\n`;
}

export function lockfilesEqual(a: Lockfile, b: Lockfile): boolean {
  if (a.entries.length !== b.entries.length) return false;
  const x = [...a.entries].sort(compareLockEntries);
  const y = [...b.entries].sort(compareLockEntries);
  return x.every((entry, i) => compareLockEntries(entry, y[i] as LockEntry) === 0);
}

export interface LockfileParseResult {
  /** Empty when the text has errors, so that a broken lock is never half used. */
  lock: Lockfile;
  diagnostics: Diagnostic[];
}

export function parseLockfile(text: string, fileName: string): LockfileParseResult {
  const diagnostics: Diagnostic[] = [];
  const at = (position: JsonPosition, code: 'lock-syntax' | 'lock-schema', message: string, pointer?: string): void => {
    diagnostics.push({
      code,
      severity: 'error',
      message,
      file: fileName,
      line: position.line,
      column: position.column,
      endLine: position.endLine,
      endColumn: position.endColumn,
      ...(pointer === undefined ? {} : { pointer }),
      hint: `regenerate it: delete ${fileName} and run \`pfexpose compile\` (host ports may then change)`,
    });
  };
  const parsed = parseJsonWithPositions(text);
  if (!parsed.ok) {
    const { line, column, message } = parsed.error;
    at(
      { line, column, endLine: line, endColumn: column + 1 },
      'lock-syntax',
      `the lock file is not valid JSON: ${message}`,
    );
    return { lock: emptyLockfile(), diagnostics };
  }
  const root = parsed.node;
  if (root.kind !== 'object') {
    at(root.position, 'lock-schema', 'the lock file must be a JSON object with "version": 1 and "entries": [...]', '');
    return { lock: emptyLockfile(), diagnostics };
  }
  const fields = objectFields(root, ['version', 'entries'], '', at);
  const version = fields.get('version');
  if (version === undefined) {
    at(root.position, 'lock-schema', 'the lock file has no "version"; expected "version": 1', '');
  } else if (version.kind !== 'number' || version.value !== 1) {
    at(version.position, 'lock-schema', 'unsupported lock file version; this pfexpose reads "version": 1', '/version');
  }
  const entriesNode = fields.get('entries');
  const entries: LockEntry[] = [];
  if (entriesNode === undefined) {
    at(root.position, 'lock-schema', 'the lock file has no "entries"; expected "entries": [...]', '');
  } else if (entriesNode.kind !== 'array') {
    at(entriesNode.position, 'lock-schema', '"entries" must be an array of allocations', '/entries');
  } else {
    const seen = new Map<string, JsonPosition>();
    entriesNode.items.forEach((item, index) => {
      const entry = readEntry(item, `/entries/${index}`, at);
      if (entry === null) return;
      const id = allocationKeyId(entry);
      const first = seen.get(id);
      if (first !== undefined) {
        at(
          item.position,
          'lock-schema',
          `this allocation repeats the one at line ${first.line}; each entry may appear once`,
          `/entries/${index}`,
        );
        return;
      }
      seen.set(id, item.position);
      entries.push(entry);
    });
  }
  if (diagnostics.length > 0) return { lock: emptyLockfile(), diagnostics };
  return { lock: { version: 1, entries: entries.sort(compareLockEntries) }, diagnostics };
}

type Report = (position: JsonPosition, code: 'lock-schema', message: string, pointer?: string) => void;

function objectFields(
  node: Extract<JsonNode, { kind: 'object' }>,
  allowed: readonly string[],
  pointer: string,
  at: Report,
): Map<string, JsonNode> {
  const fields = new Map<string, JsonNode>();
  for (const member of node.members) {
    if (!allowed.includes(member.key)) {
      at(
        member.keyPosition,
        'lock-schema',
        `unknown key ${quoteText(member.key)}; allowed keys: ${allowed.join(', ')}`,
        `${pointer}/${member.key.replaceAll('~', '~0').replaceAll('/', '~1')}`,
      );
      continue;
    }
    fields.set(member.key, member.value);
  }
  return fields;
}

const ENTRY_KEYS = [
  'host',
  'container',
  'protocol',
  'interface',
  'hostAddress',
  'kind',
  'range',
  'containerPort',
  'hostPort',
];

function readEntry(node: JsonNode, pointer: string, at: Report): LockEntry | null {
  if (node.kind !== 'object') {
    at(node.position, 'lock-schema', 'an allocation must be an object', pointer);
    return null;
  }
  const fields = objectFields(node, ENTRY_KEYS, pointer, at);
  let ok = true;
  const fail = (where: JsonPosition, message: string, key: string): void => {
    ok = false;
    at(where, 'lock-schema', message, `${pointer}/${key}`);
  };
  const required = (key: string): JsonNode | null => {
    const value = fields.get(key);
    if (value === undefined) {
      fail(node.position, `the allocation has no "${key}"`, key);
      return null;
    }
    return value;
  };
  const nullableString = (key: string): string | null => {
    const value = required(key);
    if (value === null || value.kind === 'null') return null;
    if (value.kind !== 'string' || value.value === '') {
      fail(value.position, `"${key}" must be a non-empty string or null`, key);
      return null;
    }
    return value.value;
  };
  const oneOf = <T extends string>(key: string, allowed: readonly T[]): T => {
    const value = required(key);
    if (value === null) return allowed[0] as T;
    if (value.kind !== 'string' || !(allowed as readonly string[]).includes(value.value)) {
      fail(value.position, `"${key}" must be one of ${allowed.join(', ')}`, key);
      return allowed[0] as T;
    }
    return value.value as T;
  };
  const range = (key: string, value: JsonNode | null = required(key)): PortRange => {
    const bad = { start: 1, end: 1 };
    if (value === null) return bad;
    if (value.kind !== 'object') {
      fail(value.position, `"${key}" must be {"start": PORT, "end": PORT}`, key);
      return bad;
    }
    const parts = objectFields(value, ['start', 'end'], `${pointer}/${key}`, at);
    const start = parts.get('start');
    const end = parts.get('end');
    const isPort = (n: JsonNode | undefined): n is Extract<JsonNode, { kind: 'number' }> =>
      n !== undefined && n.kind === 'number' && Number.isInteger(n.value) && n.value >= 1 && n.value <= 65535;
    if (!isPort(start) || !isPort(end) || start.value > end.value) {
      fail(value.position, `"${key}" must have integer "start" <= "end", both within 1-65535`, key);
      return bad;
    }
    return { start: start.value, end: end.value };
  };

  const host = nullableString('host');
  const containerNode = required('container');
  let container = '';
  if (containerNode !== null) {
    if (containerNode.kind === 'string' && containerNode.value !== '') container = containerNode.value;
    else fail(containerNode.position, '"container" must be a non-empty string', 'container');
  }
  const protocol = oneOf('protocol', PROTOCOLS);
  const iface = nullableString('interface');
  const hostAddress = nullableString('hostAddress');
  const kind = oneOf('kind', KINDS);
  const rangeNode = fields.get('range');
  let pickRange: PortRange | null = null;
  if (rangeNode !== undefined) {
    if (kind !== 'pick')
      fail(rangeNode.position, '"range" belongs to pick entries only (the entry\'s own host port range)', 'range');
    else pickRange = range('range', rangeNode);
  }
  const containerPort = range('containerPort');
  const hostPort = range('hostPort');
  if (iface !== null && hostAddress !== null) {
    fail(node.position, 'an allocation names an interface or a host address, not both', 'interface');
  }
  if (ok && hostPort.end - hostPort.start !== containerPort.end - containerPort.start) {
    fail(node.position, '"hostPort" must span as many ports as "containerPort"', 'hostPort');
  }
  if (ok && pickRange !== null && (hostPort.start < pickRange.start || hostPort.end > pickRange.end)) {
    fail(node.position, `"hostPort" must lie within "range" (${pickRange.start}-${pickRange.end})`, 'hostPort');
  }
  if (!ok) return null;
  return {
    host,
    container,
    protocol,
    interface: iface,
    hostAddress,
    kind,
    ...(pickRange === null ? {} : { range: pickRange }),
    containerPort,
    hostPort,
  };
}
