// Builds the typed ManifestDocument from a document's data once the schema has judged it: port
// entries go through the grammars of src/ports, whose errors are placed on the exact characters
// of the file. Values the schema flagged are skipped, so nothing is reported twice.
import type { LineCounter } from 'yaml';
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import { located } from '../diagnostics/diagnostic.js';
import { compareStrings } from '../text/compare-strings.js';
import {
  describeAddressProblem,
  describeNetworkProblem,
  describeUnusableContainerAddress,
  parseAddress,
  parseNetwork,
} from '../ports/address.js';
import { parsePortObject, parsePortSpec } from '../ports/parse-long-port.js';
import { parsePortRange } from '../ports/port-number.js';
import type { Family, PortSpecError } from '../ports/port-spec.js';
import { quoteText } from '../text/quote-text.js';
import type { ManifestSources } from './check-manifest.js';
import type {
  DeclaredNetwork,
  DeclaredStack,
  HostDeclaration,
  ManifestContainer,
  ManifestDocument,
  ManifestExpose,
  ManifestLink,
  ManifestPortEntry,
  ShortSyntax,
} from './manifest.js';
import { parseExpose } from './parse-expose.js';
import {
  findPair,
  headSpan,
  joinPointer,
  locateFrom,
  locatePointer,
  nodeSpan,
  spanAt,
  spanInScalar,
} from './source-span.js';
import type { LocatedNode } from './source-span.js';
import type { TreeNode } from './yaml-tree.js';

export interface BuildInput {
  file: string;
  text: string;
  lineCounter: LineCounter;
  /** The document's top node (positions), null for an empty document. */
  root: TreeNode | null;
  index: number;
  data: unknown;
  /** Pointers the schema found wrong. */
  flagged: readonly string[];
  sources: ManifestSources;
}

export interface BuildResult {
  document: ManifestDocument;
  diagnostics: Diagnostic[];
}

type Data = Record<string, unknown>;

export function buildManifestDocument(input: BuildInput): BuildResult {
  const diagnostics: Diagnostic[] = [];
  const root = asRecord(input.data) ?? {};
  // Spelled out rather than spread: a spread per document cost more than the rest of a small one.
  const ctx: BuildInput & { diagnostics: Diagnostic[] } = {
    file: input.file,
    text: input.text,
    lineCounter: input.lineCounter,
    root: input.root,
    index: input.index,
    data: input.data,
    flagged: input.flagged,
    sources: input.sources,
    diagnostics,
  };
  const syntax = readSyntax(root['syntax'], 'kleene');
  const documentHost = ok(ctx, '/host') && typeof root['host'] === 'string' ? root['host'] : null;

  const hosts: HostDeclaration[] = [];
  const hostsData = ok(ctx, '/hosts') ? asRecord(root['hosts']) : null;
  for (const name of sortedKeys(hostsData)) {
    const pointer = joinPointer(['hosts', name]);
    const value = asRecord(hostsData?.[name]);
    if (value === null || !ok(ctx, pointer)) continue;
    const gateway = ok(ctx, `${pointer}/gateway`) && typeof value['gateway'] === 'string' ? value['gateway'] : null;
    const interfaces =
      ok(ctx, `${pointer}/interfaces`) && Array.isArray(value['interfaces'])
        ? value['interfaces'].filter((i): i is string => typeof i === 'string').sort(compareStrings)
        : null;
    hosts.push({
      name,
      gateway,
      interfaces,
      pool: readPool(ctx, `${pointer}/pool`, value['pool']),
      stack: readStack(ctx, `${pointer}/stack`, value['stack']),
      networks: readNetworks(ctx, `${pointer}/networks`, value['networks']),
      source: keySpan(ctx, pointer),
    });
  }

  const containers: ManifestContainer[] = [];
  const containersData = ok(ctx, '/containers') ? asRecord(root['containers']) : null;
  // Nodes are found walking down from the containers mapping, not from the root per entry.
  const containersNode = containersData === null ? null : locatePointer(ctx.root, ['containers']).value;
  for (const name of sortedKeys(containersData)) {
    const pointer = joinPointer(['containers', name]);
    const value = asRecord(containersData?.[name]);
    if (value === null || !ok(ctx, pointer)) continue;
    const found = locateFrom(containersNode, [name]);
    containers.push(buildContainer(ctx, name, pointer, found, value, syntax, documentHost));
  }

  return {
    document: {
      file: input.file,
      index: input.index,
      host: documentHost,
      ...(documentHost === null ? {} : { hostSource: valueSpan(ctx, '/host') }),
      hosts,
      containers,
    },
    diagnostics,
  };
}

type Context = BuildInput & { diagnostics: Diagnostic[] };

function buildContainer(
  ctx: Context,
  name: string,
  pointer: string,
  found: LocatedNode,
  value: Data,
  documentSyntax: ShortSyntax,
  documentHost: string | null,
): ManifestContainer {
  let addressInvalid = false;
  const readAddress = (key: 'ip' | 'ip6', family: Family): string | null => {
    const text = value[key];
    const at = `${pointer}/${key}`;
    if (typeof text !== 'string') return null;
    if (!ok(ctx, at)) {
      addressInvalid = true;
      return null;
    }
    const parsed = parseAddress(text);
    const unusable = parsed !== null && parsed.family === family ? describeUnusableContainerAddress(parsed) : null;
    if (parsed !== null && parsed.family === family && unusable === null) return parsed.text;
    addressInvalid = true;
    if (unusable !== null) {
      report(
        ctx,
        'invalid-address',
        `${key} ${quoteText(text)} cannot be a container's address: ${unusable}; write the address the container listens on`,
        valueSpan(ctx, at),
      );
      return null;
    }
    const problem =
      parsed !== null
        ? `it is an ${parsed.family === 'inet' ? 'IPv4' : 'IPv6'} address: put it in ${parsed.family === 'inet' ? 'ip' : 'ip6'}`
        : (describeAddressProblem(text) ?? 'it is not an address');
    report(
      ctx,
      'invalid-address',
      `${key} ${quoteText(text)} is not an ${family === 'inet' ? 'IPv4' : 'IPv6'} address: ${problem}`,
      valueSpan(ctx, at),
    );
    return null;
  };
  const ip = readAddress('ip', 'inet');
  const ip6 = readAddress('ip6', 'inet6');
  const ownHost = ok(ctx, `${pointer}/host`) && typeof value['host'] === 'string' ? value['host'] : null;
  const host = ownHost ?? documentHost;
  const syntax = ok(ctx, `${pointer}/syntax`) ? readSyntax(value['syntax'], documentSyntax) : documentSyntax;

  // How many address families the family checks will see (none when an address is invalid).
  const families = addressInvalid ? 0 : (ip === null ? 0 : 1) + (ip6 === null ? 0 : 1);
  const ports: ManifestPortEntry[] = [];
  const portsData = ok(ctx, `${pointer}/ports`) && Array.isArray(value['ports']) ? value['ports'] : [];
  const portsNode = portsData.length === 0 ? null : locateFrom(found.value, ['ports']).value;
  portsData.forEach((item: unknown, i) => {
    const at = `${pointer}/ports/${i}`;
    if (!ok(ctx, at)) return;
    // An entry with a schema error inside still gets its other problems reported (a bad
    // interface name does not hide a bad port), but it is not built.
    const flaggedInside = !okTree(ctx, at);
    const entry = buildPortEntry(
      ctx,
      locateFrom(portsNode, [String(i)]),
      item,
      syntax,
      families,
      flaggedInside ? at : null,
    );
    if (entry !== null && !flaggedInside) ports.push(entry);
  });

  const expose: ManifestExpose[] = [];
  const exposeData = ok(ctx, `${pointer}/expose`) && Array.isArray(value['expose']) ? value['expose'] : [];
  const exposeNode = exposeData.length === 0 ? null : locateFrom(found.value, ['expose']).value;
  const containerSpan = keySpanOf(ctx, found);
  exposeData.forEach((item: unknown, i) => {
    if (!okTree(ctx, `${pointer}/expose/${i}`) || (typeof item !== 'string' && typeof item !== 'number')) return;
    const node = locateFrom(exposeNode, [String(i)]).value;
    const parsed = parseExpose(item);
    if (parsed.ok) {
      expose.push({
        port: parsed.port,
        protocol: parsed.protocol,
        source: node === null ? containerSpan : nodeSpan(ctx.lineCounter, ctx.file, node),
      });
      return;
    }
    for (const error of parsed.errors) {
      const span =
        node === null ? containerSpan : spanInScalar(ctx.lineCounter, ctx.file, ctx.text, node, error.start, error.end);
      report(ctx, error.code, `expose entry: ${error.message}`, span);
    }
  });

  const links = readLinks(ctx, `${pointer}/links`, value['links'], found, containerSpan);
  const publishAll = ok(ctx, `${pointer}/publishAll`) && value['publishAll'] === true;
  const jail = ok(ctx, `${pointer}/jail`) && typeof value['jail'] === 'string' ? value['jail'] : null;
  const container: ManifestContainer = {
    name,
    host,
    ...(jail === null ? {} : { jail }),
    ...(ownHost === null ? {} : { hostSource: valueSpan(ctx, `${pointer}/host`) }),
    ip,
    ip6,
    syntax,
    ports,
    expose: expose.sort(
      (a, b) => a.port.start - b.port.start || a.port.end - b.port.end || compareStrings(a.protocol, b.protocol),
    ),
    ...(links.length === 0 ? {} : { links }),
    publishAll,
    stack: readStack(ctx, `${pointer}/stack`, value['stack']),
    source: containerSpan,
  };
  // Absent reads as valid: an entry per container only cost the garbage collector.
  if (addressInvalid) ctx.sources.containers.set(container, { addressInvalid });
  return container;
}

function buildPortEntry(
  ctx: Context,
  found: LocatedNode,
  item: unknown,
  syntax: ShortSyntax,
  families: number,
  flaggedEntry: string | null,
): ManifestPortEntry | null {
  const node = found.value;
  const source = node === null ? keySpanOf(ctx, found) : nodeSpan(ctx.lineCounter, ctx.file, node);
  const result =
    typeof item === 'string' || typeof item === 'number' ? parsePortSpec(item, syntax) : parsePortObject(item);
  if (!result.ok) {
    for (const error of result.errors) {
      // Inside an entry the schema judged, the schema's word on the entry's shape (its keys, their
      // types) and on any key it flagged stands; problems of other values are still reported.
      if (
        flaggedEntry !== null &&
        (error.key === undefined || SHAPE_CODES.has(error.code) || !okKey(ctx, flaggedEntry, error.key, error.index))
      )
        continue;
      report(ctx, error.code, error.message, portErrorSpan(ctx, node, error, source));
    }
    return null;
  }
  if (flaggedEntry !== null) return null;
  const entry: ManifestPortEntry = { spec: result.spec, source };
  // Finer positions serve only the family checks of checkManifests, which can report on an entry
  // only when its container has exactly one family and the entry names a family, a host address
  // or sources; the YAML nodes are not kept, so they are found now for those entries alone.
  const spec = result.spec;
  if (families === 1 && (spec.family !== null || spec.hostAddress !== null || spec.from.length > 0)) {
    ctx.sources.ports.set(entry, entrySources(ctx, node, item, syntax, spec.hostAddress !== null));
  }
  return entry;
}

/** Where a port error lies: inside the string entry, or inside the value of the key at fault. */
function portErrorSpan(ctx: Context, node: TreeNode | null, error: PortSpecError, fallback: SourceSpan): SourceSpan {
  if (node === null) return fallback;
  if (error.key === undefined) return spanInScalar(ctx.lineCounter, ctx.file, ctx.text, node, error.start, error.end);
  if (node.kind !== 'map') return fallback;
  const pair = findPair(node, error.key);
  if (pair === undefined) return headSpan(ctx.lineCounter, ctx.file, ctx.text, node);
  const keyNode = pair.key;
  const valueNode = pair.value;
  const atKey = error.code === 'port-long-key' || error.code === 'port-long-conflict';
  if (atKey || valueNode === null) return keyNode !== null ? nodeSpan(ctx.lineCounter, ctx.file, keyNode) : fallback;
  if (error.index !== undefined && valueNode.kind === 'seq') {
    const itemNode = valueNode.items[error.index];
    if (itemNode !== undefined && itemNode !== null) {
      return spanInScalar(ctx.lineCounter, ctx.file, ctx.text, itemNode, error.start, error.end);
    }
  }
  return spanInScalar(ctx.lineCounter, ctx.file, ctx.text, valueNode, error.start, error.end);
}

/** Positions of the parts the family checks may point at. */
function entrySources(
  ctx: Context,
  node: TreeNode | null,
  item: unknown,
  syntax: ShortSyntax,
  hasHostAddress: boolean,
) {
  const sources: { hostAddress?: SourceSpan; family?: SourceSpan; from: Map<string, SourceSpan> } = { from: new Map() };
  if (node === null) return sources;
  const dockerText = (scalar: TreeNode, text: string): SourceSpan | undefined => {
    // Docker's host address is the first field: `[::1]:...`, or everything before HOST:CONTAINER.
    if (!hasHostAddress) return undefined;
    if (text.startsWith('[')) {
      const close = text.indexOf(']');
      return spanInScalar(ctx.lineCounter, ctx.file, ctx.text, scalar, 1, close < 0 ? text.length : close);
    }
    const last = text.lastIndexOf(':');
    const split = text.lastIndexOf(':', last - 1);
    return split > 0 ? spanInScalar(ctx.lineCounter, ctx.file, ctx.text, scalar, 0, split) : undefined;
  };
  if (typeof item === 'string' && syntax === 'docker') {
    const span = dockerText(node, item);
    if (span !== undefined) sources.hostAddress = span;
    return sources;
  }
  if (node.kind !== 'map') return sources;
  const map = node;
  const valueOf = (key: string): TreeNode | null => findPair(map, key)?.value ?? null;
  const hostIp = valueOf('host_ip');
  if (hostIp !== null) sources.hostAddress = nodeSpan(ctx.lineCounter, ctx.file, hostIp);
  const docker = valueOf('docker');
  if (docker !== null && docker.kind === 'scalar' && typeof docker.value === 'string') {
    const span = dockerText(docker, docker.value);
    if (span !== undefined) sources.hostAddress = span;
  }
  const family = valueOf('family');
  if (family !== null) sources.family = nodeSpan(ctx.lineCounter, ctx.file, family);
  const from = valueOf('from');
  if (from !== null && from.kind === 'seq') {
    for (const fromItem of from.items) {
      if (fromItem !== null && fromItem.kind === 'scalar' && typeof fromItem.value === 'string') {
        sources.from.set(fromItem.value, nodeSpan(ctx.lineCounter, ctx.file, fromItem));
      }
    }
  }
  return sources;
}

function readPool(ctx: Context, pointer: string, value: unknown): { start: number; end: number } | null {
  if (typeof value !== 'string' || !ok(ctx, pointer)) return null;
  const parsed = parsePortRange(value, 0);
  if (parsed.ok) return parsed.range;
  const node = locatePointer(ctx.root, pointerParts(pointer)).value;
  for (const error of parsed.errors) {
    const span =
      node === null
        ? valueSpan(ctx, pointer)
        : spanInScalar(ctx.lineCounter, ctx.file, ctx.text, node, error.start, error.end);
    report(ctx, 'invalid-pool', `pool ${quoteText(value)}: ${error.message}`, span);
  }
  return null;
}

/** A container's `links:` as written: `SERVER`, `SERVER:ALIAS` or `{container, alias}`. */
function readLinks(
  ctx: Context,
  pointer: string,
  value: unknown,
  found: LocatedNode,
  containerSpan: SourceSpan,
): ManifestLink[] {
  if (!Array.isArray(value) || !ok(ctx, pointer)) return [];
  const listNode = value.length === 0 ? null : locateFrom(found.value, ['links']).value;
  const links: ManifestLink[] = [];
  value.forEach((item: unknown, i) => {
    if (!okTree(ctx, `${pointer}/${i}`)) return;
    const node = locateFrom(listNode, [String(i)]).value;
    const source = node === null ? containerSpan : nodeSpan(ctx.lineCounter, ctx.file, node);
    if (typeof item === 'string') {
      const colon = item.indexOf(':');
      links.push({
        container: colon < 0 ? item : item.slice(0, colon),
        alias: colon < 0 ? null : item.slice(colon + 1),
        source,
      });
      return;
    }
    const record = asRecord(item);
    if (record === null || typeof record['container'] !== 'string') return;
    const alias = record['alias'];
    links.push({ container: record['container'], alias: typeof alias === 'string' ? alias : null, source });
  });
  return links;
}

/** A host's `networks:`, canonical; an entry that is not a network without host bits is reported. */
function readNetworks(ctx: Context, pointer: string, value: unknown): DeclaredNetwork[] | null {
  if (!Array.isArray(value) || !ok(ctx, pointer)) return null;
  const networks: DeclaredNetwork[] = [];
  value.forEach((item: unknown, i) => {
    const at = `${pointer}/${i}`;
    if (typeof item !== 'string' || !ok(ctx, at)) return;
    const span = valueSpan(ctx, at);
    const parsed = parseNetwork(item);
    if (parsed === null || !item.includes('/')) {
      const problem = parsed === null ? (describeNetworkProblem(item) ?? 'it is not a network') : 'it has no /PREFIX';
      report(
        ctx,
        'invalid-container-network',
        `container network ${quoteText(item)}: ${problem}; write ADDRESS/PREFIX (e.g. 10.13.37.0/24)`,
        span,
      );
      return;
    }
    if (parsed.hostBitsSet || parsed.prefix === 0) {
      report(
        ctx,
        'invalid-container-network',
        parsed.prefix === 0
          ? `container network ${quoteText(item)} is every address: write the network the containers are on`
          : `container network ${quoteText(item)} has bits set past its prefix: write ${parsed.address}/${parsed.prefix}`,
        span,
      );
      return;
    }
    const text = `${parsed.address}/${parsed.prefix}`;
    const twin = networks.find((n) => n.text === text);
    if (twin !== undefined) {
      report(
        ctx,
        'invalid-container-network',
        `container network ${quoteText(item)} is listed already (line ${twin.source.line}); list each network once`,
        span,
      );
      return;
    }
    networks.push({ text, source: span });
  });
  return networks;
}

function readStack(ctx: Context, pointer: string, value: unknown): DeclaredStack | null {
  if ((value !== 'shared' && value !== 'vnet') || !ok(ctx, pointer)) return null;
  return { value, source: valueSpan(ctx, pointer) };
}

function readSyntax(value: unknown, fallback: ShortSyntax): ShortSyntax {
  return value === 'kleene' || value === 'docker' ? value : fallback;
}

function report(ctx: Context, code: Diagnostic['code'], message: string, span: SourceSpan): void {
  ctx.diagnostics.push(located(code, span, message));
}

/** Not flagged by the schema, nor inside something flagged. */
function ok(ctx: Context, pointer: string): boolean {
  if (ctx.flagged.length === 0) return true;
  return !ctx.flagged.some((f) => pointer === f || pointer.startsWith(`${f}/`));
}

/** Long-form grammar errors about the entry's shape, which the schema reports in its own words. */
const SHAPE_CODES: ReadonlySet<string> = new Set([
  'port-long-key',
  'port-long-missing-target',
  'port-long-type',
  'port-long-empty',
  'port-long-duplicate',
]);

/** A key of a port entry (or one item of its list) the schema said nothing about. */
function okKey(ctx: Context, entry: string, key: string, index: number | undefined): boolean {
  const at = `${entry}/${joinPointer([key]).slice(1)}`;
  return index === undefined ? okTree(ctx, at) : ok(ctx, `${at}/${index}`);
}

/** Neither flagged itself nor holding anything flagged (a port entry is judged whole). */
function okTree(ctx: Context, pointer: string): boolean {
  if (ctx.flagged.length === 0) return true;
  return ok(ctx, pointer) && !ctx.flagged.some((f) => f.startsWith(`${pointer}/`));
}

function pointerParts(pointer: string): string[] {
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function keySpan(ctx: Context, pointer: string): SourceSpan {
  return keySpanOf(ctx, locatePointer(ctx.root, pointerParts(pointer)));
}

function keySpanOf(ctx: Context, found: LocatedNode): SourceSpan {
  const node = found.key ?? found.value;
  if (node !== null) return nodeSpan(ctx.lineCounter, ctx.file, node);
  return spanAt(ctx.lineCounter, ctx.file, 0, 0);
}

function valueSpan(ctx: Context, pointer: string): SourceSpan {
  const found = locatePointer(ctx.root, pointerParts(pointer));
  const node = found.value ?? found.key;
  if (node !== null) return nodeSpan(ctx.lineCounter, ctx.file, node);
  return spanAt(ctx.lineCounter, ctx.file, 0, 0);
}

function asRecord(value: unknown): Data | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Data) : null;
}

function sortedKeys(record: Data | null): string[] {
  return record === null ? [] : Object.keys(record).sort(compareStrings);
}
