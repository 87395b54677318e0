// Compiles exposures into the text of pfexpose's pf anchor, written exactly as pfctl prints rules
// back, so that the deployed and the desired ruleset compare line by line. The text loads with
// `pfctl -o none -a ANCHOR -f FILE` (see host/ruleset-file.ts).
import { createHash } from 'node:crypto';
import { compareStrings } from '../text/compare-strings.js';
import type { Exposure } from '../model/exposure.js';
import type { Reach } from '../model/reach.js';
import { parseAddress, parseNetwork } from '../ports/address.js';
import { PF_KEYWORDS } from '../ports/interface-name.js';
import type { Family, PortRange, Protocol } from '../ports/port-spec.js';
import { printAddress } from './print-rule.js';
import {
  anyEndpoint,
  emptyMatch,
  type Address,
  type Endpoint,
  type FilterRule,
  type InterfaceSpec,
  type PortMatch,
  type RedirectTarget,
  type TranslationRule,
} from './rule.js';

export type Dialect = 'freebsd' | 'openbsd';

/**
 * The tag every FreeBSD rdr rule puts on the packets it redirects, and every pass rule requires.
 * pf filters after translation, so a pass rule sees the container's address and port; without
 * the tag it would also admit packets sent to that address directly (routed through the host)
 * rather than through the published port. With it, only redirected packets pass.
 */
export const REDIRECT_TAG = 'pfexpose';

/**
 * Tags of exposures whose pass rules would otherwise be identical but for their labels (two
 * published ports leading to the same container port: their out rules name no interface):
 * with `quick`, the first such rule would take every packet and the other exposure's label would
 * never count anything nor name its connections for `pfctl -k label`. Each of those exposures
 * gets a tag of its own, `pfexpose_` and hex digits of its label's sha256.
 */
const OWN_TAG = /^pfexpose_[0-9a-f]{12,54}$/;

/** A tag pfexpose writes: the shared one, or an exposure's own. */
export function isRedirectTag(name: string): boolean {
  return name === REDIRECT_TAG || OWN_TAG.test(name);
}

export interface RenderOptions {
  dialect: Dialect;
  /** Anchor the text is meant for; named in the header comment only. */
  anchor?: string;
  /** Links and network reaches (model/reach.ts): one pass rule each. */
  reaches?: readonly Reach[];
}

/**
 * The whole ruleset text: header comments, then every translation rule, then every filter rule,
 * each group sorted so that pf's skip steps can jump over runs of similar rules.
 */
export function renderRuleset(exposures: readonly Exposure[], options: RenderOptions): string {
  const reaches = options.reaches ?? [];
  const table = new RuleTable(exposures, options.dialect, reaches);
  const order = table.order();
  const target = options.anchor === undefined ? '' : ` for anchor "${checkAnchor(options.anchor)}"`;
  // The body is hashed and joined in chunks of lines, each ended by a newline: hashing one string
  // of many megabytes first copied it whole into a fresh UTF-8 buffer, and header + body made a
  // two-piece string that every writer then flattened into yet another copy. The text returned is
  // one flat string, built by a single join.
  const hash = createHash('sha256');
  const parts: string[] = ['', '', '', ''];
  for (let start = 0; start < order.length; start += BODY_CHUNK_LINES) {
    const end = Math.min(order.length, start + BODY_CHUNK_LINES);
    const lines = new Array<string>(end - start + 1);
    for (let i = start; i < end; i += 1) lines[i - start] = table.line(order[i] as number);
    lines[end - start] = '';
    const chunk = lines.join('\n');
    hash.update(chunk);
    parts.push(chunk);
  }
  parts[0] = `# pfexpose ruleset${target} (${options.dialect} dialect)\n`;
  parts[1] = `# sha256: ${hash.digest('hex')}\n`;
  parts[2] = `# exposures: ${exposures.length}\n`;
  parts[3] = reaches.length === 0 ? '' : `# reaches: ${reaches.length}\n`;
  return parts.join('');
}

/** Rule lines per piece of the body (see renderRuleset): about 120 kB of text. */
const BODY_CHUNK_LINES = 1024;

/**
 * The rule lines of a ruleset this renderer wrote, when its header's digest still matches them:
 * they are already in pfctl's printed form, so callers can skip parsing and printing thousands of
 * lines again. null for anything else (pfctl output, an edited file), which must be parsed.
 */
export function renderedRuleLines(text: string): string[] | null {
  if (!text.startsWith('# pfexpose ruleset')) return null;
  const all = text.split('\n');
  const digest = /^# sha256: ([0-9a-f]{64})$/.exec(all[1] ?? '')?.[1];
  if (digest === undefined) return null;
  const lines = all.filter((line) => line !== '' && !line.startsWith('#'));
  return digestRules(lines) === digest ? lines : null;
}

/** The digest the header carries: sha256 over the rule lines, each ended by a newline. */
export function digestRules(lines: readonly string[]): string {
  const hash = createHash('sha256');
  for (const line of lines) hash.update(`${line}\n`);
  return hash.digest('hex');
}

/** The rules of a ruleset in emission order: translation rules first, then filter rules. */
export function rulesetRules(
  exposures: readonly Exposure[],
  dialect: Dialect,
  reaches: readonly Reach[] = [],
): (TranslationRule | FilterRule)[] {
  const table = new RuleTable(exposures, dialect, reaches);
  const addresses = new Map<string, Address & { kind: 'network' }>();
  return Array.from(table.order(), (id) => {
    const reach = table.reachOf(id);
    if (reach !== null) return reachRule(reach, dialect);
    const { exposure, kind, fromText } = table.exposureRule(id);
    const shape = exposureShape(exposure, addresses);
    shape.tag = table.tagOf(exposure);
    const from: Endpoint =
      fromText === ''
        ? anyEndpoint()
        : { negated: false, address: { kind: 'network', family: exposure.family, text: fromText }, port: null };
    if (kind === 'rdr') return freebsdRdr(shape, from);
    if (kind === 'pass-out') return freebsdPassOut(shape, from);
    return kind === 'pass' ? freebsdPass(shape, from) : openbsdPass(shape, from);
  });
}

type ExposureRuleKind = 'rdr' | 'pass' | 'pass-out' | 'openbsd-pass';

/** Set in the sort key of every filter rule (see RuleTable.sortKeys): translation rules sort first. */
const FILTER_BIT = 2 ** 31;

const FREEBSD_KINDS: readonly ExposureRuleKind[] = ['rdr', 'pass', 'pass-out'];
const OPENBSD_KINDS: readonly ExposureRuleKind[] = ['openbsd-pass'];

/**
 * Every rule of a ruleset as a number, with what sorts and prints it. An exposure makes one rule
 * of each kind (FreeBSD: rdr, pass in, pass out; OpenBSD: one pass) per source it admits (one rule
 * per source instead of a `{ }` list or a table: pfctl expands lists into one rule per element
 * anyway, so the printed form stays a fixed point, and no table contents need reading back); the
 * rules of source `s` are numbered `s * kinds + k`; reaches come after them.
 *
 * Sorting works on small integers in typed arrays and printing builds each line only when the
 * text is written: a rule object and its line per rule, carried through the sort, were most of
 * what the garbage collector copied into the old generation at large sizes.
 */
class RuleTable {
  private readonly kinds: readonly ExposureRuleKind[];
  /** Per exposure, from the checks: what its rules print for the container, the listen side, the interface. */
  private readonly containerText: string[] = [];
  private readonly listenText: string[] = [];
  private readonly interfaceName: string[] = [];
  /** Per source (an exposure's `from` entry, or its one "any"): its exposure and the source as printed ('' for any). */
  private readonly sourceExposure: number[] = [];
  private readonly sourceText: string[] = [];
  /** Per reach: its line, and its source and destination as printed (sort fields). */
  private readonly reachTexts: { line: string; from: string; to: string }[];
  /** How many rules the exposures make: the first reach's number. */
  private readonly exposureRules: number;
  private readonly ownTags: Map<string, string> | null;
  /** Lines built before their turn: for ties in the sort, and reaches. */
  private readonly early = new Map<number, string>();
  private readonly singlePorts = new Map<number, string>();

  constructor(
    private readonly exposures: readonly Exposure[],
    dialect: Dialect,
    private readonly reaches: readonly Reach[],
  ) {
    this.kinds = dialect === 'openbsd' ? OPENBSD_KINDS : FREEBSD_KINDS;
    this.ownTags = dialect === 'freebsd' ? assignOwnTags(exposures) : null;
    // Thousands of exposures share a few container and host addresses: check and parse each once.
    const addresses = new Map<string, Address & { kind: 'network' }>();
    exposures.forEach((exposure, index) => {
      const checked = checkedExposure(exposure, addresses);
      this.containerText.push(checked.container.text);
      this.listenText.push(checked.host === null ? `(${exposure.interface ?? 'self'})` : checked.host.text);
      this.interfaceName.push(checked.interfaceName ?? '');
      if (exposure.from.length === 0) {
        this.sourceExposure.push(index);
        this.sourceText.push('');
      }
      for (const source of exposure.from) {
        this.sourceExposure.push(index);
        this.sourceText.push(sourceEndpointText(source, exposure));
      }
    });
    this.exposureRules = this.sourceExposure.length * this.kinds.length;
    this.reachTexts = reaches.map((reach) => {
      const rule = reachRule(reach, dialect);
      const from = printAddress(rule.from.address);
      const to = printAddress(rule.to.address);
      return { line: reachLine(reach, from, to, dialect), from, to };
    });
  }

  /** Rule numbers in emission order: translation rules, then filter rules, each in skip-step order. */
  order(): number[] {
    const count = this.exposureRules + this.reaches.length;
    const keys = this.sortKeys(count);
    const ids = new Array<number>(count);
    for (let id = 0; id < count; id += 1) ids[id] = id;
    // Translation rules first (their key's top bit is clear, see sortKeys), then in skip-step
    // order: interface, direction, family, protocol, source, destination address, destination
    // port (each compared as its rank or number); the printed line breaks the remaining ties, so
    // any permutation of the input sorts the same.
    return ids.sort(
      (a, b) =>
        (keys.group[a] as number) - (keys.group[b] as number) ||
        (keys.from[a] as number) - (keys.from[b] as number) ||
        (keys.to[a] as number) - (keys.to[b] as number) ||
        (keys.ports[a] as number) - (keys.ports[b] as number) ||
        compareStrings(this.earlyLine(a), this.earlyLine(b)),
    );
  }

  /**
   * The sort fields of every rule as integers: interface, direction, family and protocol in one
   * (`group`), the source and the destination address as ranks among all the texts of their field
   * (ranked in compareStrings order, so comparing ranks orders as comparing the texts; no source
   * and no interface are the empty text, which comes first), and the destination port range as
   * start * 65536 + end.
   */
  private sortKeys(count: number): { group: Uint32Array; from: Uint32Array; to: Uint32Array; ports: Uint32Array } {
    const exposureRules = this.exposureRules;
    const reachFrom = this.reachTexts.map((texts) => texts.from);
    const reachTo = this.reachTexts.map((texts) => texts.to);
    const protocols = rank(['sctp', 'tcp', 'udp'] satisfies Protocol[]);
    const interfaces = rank([''], this.interfaceName);
    const froms = rank(this.sourceText, reachFrom);
    const tos = rank(this.containerText, this.listenText, reachTo);
    const keys = {
      group: new Uint32Array(count),
      from: new Uint32Array(count),
      to: new Uint32Array(count),
      ports: new Uint32Array(count),
    };
    const set = (id: number, iface: string, direction: number, family: Family, protocol: string): void => {
      const group = ((interfaces.get(iface) as number) * 3 + direction) * 2 + (family === 'inet' ? 0 : 1);
      // The top bit sets filter rules after every translation (rdr) rule.
      keys.group[id] =
        (direction === 0 && id < exposureRules ? 0 : FILTER_BIT) + group * 4 + (protocols.get(protocol) as number);
    };
    for (let id = 0; id < exposureRules; id += 1) {
      const source = this.sourceOf(id);
      const kind = this.kindOf(id);
      const index = this.sourceExposure[source] as number;
      const exposure = this.exposures[index] as Exposure;
      const containerSide = kind === 'pass' || kind === 'pass-out';
      const port = containerSide ? exposure.containerPort : exposure.hostPort;
      const iface = kind === 'pass-out' ? '' : (this.interfaceName[index] as string);
      set(id, iface, kind === 'rdr' ? 0 : kind === 'pass-out' ? 2 : 1, exposure.family, exposure.protocol);
      keys.from[id] = froms.get(this.sourceText[source] as string) as number;
      const to = containerSide ? this.containerText[index] : this.listenText[index];
      keys.to[id] = tos.get(to as string) as number;
      keys.ports[id] = port.start * 65536 + port.end;
    }
    this.reaches.forEach((reach, r) => {
      const id = exposureRules + r;
      set(id, '', 0, reach.family, reach.protocol);
      keys.from[id] = froms.get(reachFrom[r] as string) as number;
      keys.to[id] = tos.get(reachTo[r] as string) as number;
      keys.ports[id] = reach.port.start * 65536 + reach.port.end;
    });
    return keys;
  }

  reachOf(id: number): Reach | null {
    return id < this.exposureRules ? null : (this.reaches[id - this.exposureRules] ?? null);
  }

  exposureRule(id: number): { exposure: Exposure; kind: ExposureRuleKind; fromText: string } {
    const source = this.sourceOf(id);
    return {
      exposure: this.exposures[this.sourceExposure[source] as number] as Exposure,
      kind: this.kindOf(id),
      fromText: this.sourceText[source] as string,
    };
  }

  /** The source (an exposure's `from` entry, or its "any") an exposure rule is made for. */
  private sourceOf(id: number): number {
    return Math.floor(id / this.kinds.length);
  }

  private kindOf(id: number): ExposureRuleKind {
    return this.kinds[id % this.kinds.length] as ExposureRuleKind;
  }

  tagOf(exposure: Exposure): string {
    return this.ownTags === null ? REDIRECT_TAG : (this.ownTags.get(exposure.label) ?? REDIRECT_TAG);
  }

  /** portText, each single port's text made once: most rules name one port, and few distinct ones. */
  private portText(range: PortRange): string {
    if (range.start !== range.end) return portText(range);
    let text = this.singlePorts.get(range.start);
    if (text === undefined) this.singlePorts.set(range.start, (text = portText(range)));
    return text;
  }

  private earlyLine(id: number): string {
    let line = this.early.get(id);
    if (line === undefined) this.early.set(id, (line = this.line(id)));
    return line;
  }

  /**
   * The printed rule: exactly what printRule prints for the rule rulesetRules builds (a property
   * test holds the two together), built straight from the exposure's texts; the generic printer
   * cost a rule object and a word list per rule, tens of thousands of times.
   */
  line(id: number): string {
    const early = this.early.get(id);
    if (early !== undefined) return early;
    if (id >= this.exposureRules) return (this.reachTexts[id - this.exposureRules] as { line: string }).line;
    const source = this.sourceOf(id);
    const kind = this.kindOf(id);
    const index = this.sourceExposure[source] as number;
    const exposure = this.exposures[index] as Exposure;
    const from = (this.sourceText[source] as string) || 'any';
    const { family, protocol, label } = exposure;
    const iface = this.interfaceName[index] as string;
    const on = kind === 'pass-out' || iface === '' ? '' : ` on ${iface}`;
    const flags = protocol === 'tcp' ? ' flags S/SA' : '';
    // One template per kind, of only the pieces that kind prints.
    if (kind === 'pass' || kind === 'pass-out') {
      const to = `${this.containerText[index]} ${this.portText(exposure.containerPort)}`;
      const tag = this.tagOf(exposure);
      return `pass ${kind === 'pass' ? 'in' : 'out'} quick${on} ${family} proto ${protocol} from ${from} to ${to}${flags} keep state label "${label}" tagged ${tag}`;
    }
    const to = `${this.listenText[index]} ${this.portText(exposure.hostPort)}`;
    const { start, end } = exposure.containerPort;
    const target = `${this.containerText[index]} port ${end === start ? start : `${start}:${end}`}`;
    if (kind === 'openbsd-pass')
      return `pass in quick${on} ${family} proto ${protocol} from ${from} to ${to}${flags} label "${label}" rdr-to ${target}`;
    return `rdr${on} ${family} proto ${protocol} from ${from} to ${to} tag ${this.tagOf(exposure)} -> ${target}`;
  }
}

/** Each distinct text's place in compareStrings order: comparing ranks orders as comparing the texts. */
function rank(...lists: (readonly string[])[]): Map<string, number> {
  const ranks = new Map<string, number>();
  for (const list of lists) for (const text of list) ranks.set(text, 0);
  [...ranks.keys()].sort(compareStrings).forEach((text, index) => ranks.set(text, index));
  return ranks;
}

/**
 * Gives an own tag to every exposure whose pass rules could match a packet a pass rule of another
 * exposure matches (see OWN_TAG): same family, protocol and container address, and overlapping
 * container ports. The interface does not matter: the outbound pass rules name none (the packet
 * leaves towards the container on an interface pfexpose does not know), so two exposures on
 * different interfaces would still share their out rules but for the label. Sources are not
 * compared, so a rule from any source, which covers narrower ones, is caught too (an own tag more
 * than needed costs nothing). Depends only on the set of exposures, never on their order; tags
 * that would collide are lengthened until distinct.
 */
function assignOwnTags(exposures: readonly Exposure[]): Map<string, string> {
  // Exposure indices by container address, a string each exposure already holds (this runs over
  // every exposure of large repositories: no key built, no object per exposure); family and
  // protocol are compared within the group below.
  const groups = new Map<string, number[]>();
  exposures.forEach((e, index) => {
    const group = groups.get(e.containerAddress);
    if (group === undefined) groups.set(e.containerAddress, [index]);
    else group.push(index);
  });
  const shadowed = new Set<string>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const members = group.map((index) => exposures[index] as Exposure);
    members.sort((a, b) => a.containerPort.start - b.containerPort.start || a.containerPort.end - b.containerPort.end);
    for (let i = 0; i < members.length; i += 1) {
      const a = members[i] as Exposure;
      for (let j = i + 1; j < members.length; j += 1) {
        const b = members[j] as Exposure;
        if (b.containerPort.start > a.containerPort.end) break;
        if (a.label !== b.label && a.family === b.family && a.protocol === b.protocol) {
          shadowed.add(a.label);
          shadowed.add(b.label);
        }
      }
    }
  }
  const tags = new Map<string, string>();
  if (shadowed.size === 0) return tags;
  const labels = [...shadowed].sort(compareStrings);
  for (let digits = 12; tags.size === 0; digits += 6) {
    if (digits > 54) throw new Error('own tags collide at full length: sha256 is broken');
    const candidate = new Map(
      labels.map((label) => [label, `pfexpose_${createHash('sha256').update(label).digest('hex').slice(0, digits)}`]),
    );
    if (new Set(candidate.values()).size === labels.length) for (const [label, tag] of candidate) tags.set(label, tag);
  }
  return tags;
}

/** Everything the rules of one exposure need, checked and in pf's terms. */
interface ExposureShape {
  exposure: Exposure;
  /** The tag its rdr rules set and its pass rules require. */
  tag: string;
  /** Interface the rules are bound to; loopback host addresses imply lo0. */
  interface: InterfaceSpec | null;
  /** What the client connects to: a host address, `(IF)`, or `(self)`. */
  listen: Address;
  listenPort: PortMatch;
  container: Address;
  containerPort: PortMatch;
  target: RedirectTarget;
}

/** An exposure's addresses and interface, after the checks that stand between it and pf text. */
interface CheckedExposure {
  container: Address & { kind: 'network' };
  host: (Address & { kind: 'network' }) | null;
  /** The interface its rdr and pass in rules are bound to; loopback host addresses imply lo0. */
  interfaceName: string | null;
}

function checkedExposure(exposure: Exposure, addresses: Map<string, Address & { kind: 'network' }>): CheckedExposure {
  const where = `exposure ${exposure.label} of container ${exposure.container}`;
  checkLabel(exposure.label, where);
  checkRange(exposure.hostPort, `${where}: host port`);
  checkRange(exposure.containerPort, `${where}: container port`);
  const hostLength = exposure.hostPort.end - exposure.hostPort.start;
  const containerLength = exposure.containerPort.end - exposure.containerPort.start;
  if (containerLength !== 0 && containerLength !== hostLength) {
    throw new Error(`${where}: container port range does not match the host port range`);
  }
  const container = cachedAddress(addresses, exposure.containerAddress, exposure.family, `${where}: container address`);
  const host =
    exposure.hostAddress === null
      ? null
      : cachedAddress(addresses, exposure.hostAddress, exposure.family, `${where}: host address`);
  let interfaceName = exposure.interface;
  if (interfaceName !== null) checkInterface(interfaceName, where);
  else if (host !== null && isLoopback(host.text)) interfaceName = 'lo0';
  return { container, host, interfaceName };
}

function exposureShape(exposure: Exposure, addresses: Map<string, Address & { kind: 'network' }>): ExposureShape {
  const { container, host, interfaceName } = checkedExposure(exposure, addresses);
  const listen: Address = host ?? { kind: 'dynamic', name: exposure.interface ?? 'self', modifiers: [] };
  return {
    exposure,
    tag: REDIRECT_TAG,
    interface: interfaceName === null ? null : { name: interfaceName, negated: false },
    listen,
    listenPort: portMatch(exposure.hostPort),
    container,
    containerPort: portMatch(exposure.containerPort),
    target: {
      addresses: [container],
      port: { start: exposure.containerPort.start, end: exposure.containerPort.end },
      options: [],
    },
  };
}

// rdr on IF inet proto tcp from SRC to DST port = 8080 -> 10.0.0.2 port 80
// Without an interface `on` is left out (pf.conf(5): `on` is optional on rdr): the destination
// address, or (self), already says which packets are meant, on whichever interface they arrive.
function freebsdRdr(shape: ExposureShape, from: Endpoint): TranslationRule {
  const exposure = shape.exposure;
  return {
    kind: 'translation',
    type: 'rdr',
    negated: false,
    pass: false,
    ...emptyMatch(),
    interface: shape.interface,
    family: exposure.family,
    protocol: exposure.protocol,
    from,
    to: { negated: false, address: shape.listen, port: shape.listenPort },
    tag: shape.tag,
    target: shape.target,
    line: 0,
  };
}

// pass in quick on IF inet proto tcp from SRC to 10.0.0.2 port = 80 flags S/SA keep state label "L" tagged pfexpose
// Filtering sees the translated destination, so the pass rule names the container, and admits
// only packets its rdr rules tagged. Never `rdr pass`: an explicit pass rule keeps the operator's
// own block rules in charge.
function freebsdPass(shape: ExposureShape, from: Endpoint): FilterRule {
  const exposure = shape.exposure;
  return {
    kind: 'filter',
    action: 'pass',
    blockPolicy: null,
    ...emptyMatch(),
    direction: 'in',
    quick: true,
    interface: shape.interface,
    family: exposure.family,
    protocol: exposure.protocol,
    from,
    to: { negated: false, address: shape.container, port: shape.containerPort },
    flags: exposure.protocol === 'tcp' ? { check: 'S', mask: 'SA', any: false } : null,
    state: 'keep',
    stateOptions: null,
    extraOptions: [],
    labels: [exposure.label],
    tagged: { name: shape.tag, negated: false },
    rdrTo: null,
    line: 0,
  };
}

// pass out quick inet proto tcp from SRC to 10.0.0.2 port = 80 flags S/SA keep state label "L" tagged pfexpose
// The forwarded leg: a redirected packet bound for a VNET container (epair, bridge) is filtered
// again when it leaves the host towards the container, and the state its pass in rule made covers
// only the inbound direction; under a default `block` the packet would be dropped there. No `on`:
// the interface towards the container is not something pfexpose knows. The tag the rdr rule set
// stays on the packet through the host, so the rule passes redirected packets only; for a
// container sharing the host's stack the packet is delivered locally and never meets this rule.
function freebsdPassOut(shape: ExposureShape, from: Endpoint): FilterRule {
  return { ...freebsdPass(shape, from), direction: 'out', interface: null };
}

// pass in quick on IF inet proto tcp from SRC to DST port = 8080 flags S/SA label "L" rdr-to 10.0.0.2 port 80
// OpenBSD's pfctl prints `keep state` only with state options and prints rdr-to after the label.
function openbsdPass(shape: ExposureShape, from: Endpoint): FilterRule {
  return {
    ...freebsdPass(shape, from),
    to: { negated: false, address: shape.listen, port: shape.listenPort },
    state: null,
    tagged: null,
    rdrTo: shape.target,
  };
}

function sourceEndpointText(source: string, exposure: Exposure): string {
  const network = parseNetwork(source);
  if (network === null || network.family !== exposure.family) {
    throw new Error(`exposure ${exposure.label}: source ${source} is not an ${exposure.family} network`);
  }
  return network.text;
}

function portMatch(range: PortRange): PortMatch {
  return range.start === range.end
    ? { op: '=', start: range.start, end: range.end, name: null }
    : { op: ':', start: range.start, end: range.end, name: null };
}

function cachedAddress(
  addresses: Map<string, Address & { kind: 'network' }>,
  text: string,
  family: Family,
  what: string,
): Address & { kind: 'network' } {
  const known = addresses.get(text);
  if (known !== undefined && known.family === family) return known;
  const address = literalAddress(text, family, what);
  addresses.set(text, address);
  return address;
}

function literalAddress(text: string, family: Family, what: string): Address & { kind: 'network' } {
  const parsed = parseAddress(text);
  if (parsed === null || parsed.family !== family) throw new Error(`${what} ${text} is not an ${family} address`);
  return { kind: 'network', family, text: parsed.text };
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}

function checkRange(range: PortRange, what: string): void {
  const valid = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (!valid(range.start) || !valid(range.end) || range.start > range.end) {
    throw new Error(`${what} ${range.start}:${range.end} is not a port range within 1-65535`);
  }
}

function checkLabel(label: string, where: string): void {
  if (!/^[A-Za-z0-9_.:/@+=~-]{1,63}$/.test(label)) throw new Error(`${where}: label is not pf-safe`);
}

function checkInterface(name: string, where: string): void {
  // The last guard before pf text: never a character that could start another token, nor a word
  // of pf's grammar (`on self` would mean every address).
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name) || PF_KEYWORDS.has(name))
    throw new Error(`${where}: interface name ${name} is not valid`);
}

function checkAnchor(anchor: string): string {
  if (!/^[A-Za-z0-9_./-]{1,1023}$/.test(anchor)) throw new Error(`anchor name ${anchor} is not valid`);
  return anchor;
}

// pass quick inet proto tcp from 172.0.17.3 to 172.0.17.2 port 6379:6381 flags S/SA keep state label "L"
// A reach is traffic between containers, routed by the host with no redirect: no direction, so one
// rule passes the packet both where it enters the host and where it leaves towards the server
// (under a default `block` in both directions, each leg needs a pass and makes its own state); no
// interface, since pfexpose does not know the containers' interfaces; no tag, since nothing was
// redirected. The source is one address or one container network, never `any`.
function reachRule(reach: Reach, dialect: Dialect): FilterRule {
  const where = `reach ${reach.label} to container ${reach.container}`;
  checkLabel(reach.label, where);
  checkRange(reach.port, `${where}: port`);
  const from = parseNetwork(reach.from);
  if (from === null || from.family !== reach.family || from.prefix === 0)
    throw new Error(`${where}: source ${reach.from} is not one ${reach.family} address or network`);
  return {
    kind: 'filter',
    action: 'pass',
    blockPolicy: null,
    ...emptyMatch(),
    direction: null,
    quick: true,
    interface: null,
    family: reach.family,
    protocol: reach.protocol,
    from: { negated: false, address: { kind: 'network', family: reach.family, text: from.text }, port: null },
    to: {
      negated: false,
      address: literalAddress(reach.containerAddress, reach.family, `${where}: container address`),
      port: portMatch(reach.port),
    },
    flags: reach.protocol === 'tcp' ? { check: 'S', mask: 'SA', any: false } : null,
    state: dialect === 'freebsd' ? 'keep' : null,
    stateOptions: null,
    extraOptions: [],
    labels: [reach.label],
    tagged: null,
    rdrTo: null,
    line: 0,
  };
}

/** A reach's printed rule, from the source and destination reachRule gives it as printed. */
function reachLine(reach: Reach, from: string, to: string, dialect: Dialect): string {
  const flags = reach.protocol === 'tcp' ? ' flags S/SA' : '';
  const state = dialect === 'freebsd' ? ' keep state' : '';
  const port = portText(reach.port);
  return `pass quick ${reach.family} proto ${reach.protocol} from ${from} to ${to} ${port}${flags}${state} label "${reach.label}"`;
}

/** A port match as pfctl prints one from a range: `port = N` for one port, `port N:M` for more. */
function portText(port: PortRange): string {
  return port.start === port.end ? `port = ${port.start}` : `port ${port.start}:${port.end}`;
}
