// Rebuilds the exposures of a deployed anchor from its rules: FreeBSD's rdr + pass in pairs with
// the pass out rule of their forwarded leg, or OpenBSD's single `pass ... rdr-to` rules. Anything
// pfexpose would not have written, or cannot pair, is returned as unmanaged: shown to the
// reviewer, never dropped, never a crash. An rdr + pass in pair whose pass out rule is missing
// (an anchor loaded by an older pfexpose) is still its exposure, marked outboundMissing, so that
// the plan shows it as changed rather than unchanged.
import { compareStrings } from '../text/compare-strings.js';
import { compareExposures } from '../model/compare-exposures.js';
import { EVERY_ADDRESS_TEXT } from '../model/format-listen.js';
import { formatRange } from '../model/spans.js';
import type { Family, PortRange, Protocol } from '../ports/port-spec.js';
import { isRedirectTag } from '../pf/render-ruleset.js';
import type { Endpoint, FilterRule, ParsedRule, PortMatch, RuleMatch, TranslationRule } from '../pf/rule.js';
import { KeyedQueues } from './keyed-queues.js';
import type { DeployedExposure } from './plan.js';

export interface RulesExposures {
  exposures: DeployedExposure[];
  /** In the order of the input. */
  unmanaged: ParsedRule[];
}

/** The listen and container sides one rdr rule (or one OpenBSD pass rule) describes. */
interface Redirect {
  interface: string | null;
  hostAddress: string | null;
  family: Family;
  protocol: Protocol;
  /** A network in pf's printed form, or null for any source. */
  from: string | null;
  hostPort: PortRange;
  containerAddress: string;
  containerPort: PortRange;
}

interface Labelled extends Redirect {
  label: string;
  container: string;
  /** FreeBSD: the tag its rules share, which its pass out rule must require too; null for OpenBSD. */
  tag: string | null;
  /** FreeBSD: the pass out rule written beside the rdr and pass in rules is not deployed. */
  outboundMissing: boolean;
}

export function exposuresFromRules(rules: readonly ParsedRule[]): RulesExposures {
  const unmanaged = new Set<ParsedRule>();
  const rdrs = new RdrIndex();
  const passes: { rule: ParsedRule; key: string; label: string; tag: string }[] = [];
  // Pass out rules by what they share with their exposure's rules (see outKey); each pairs once.
  const outs = new KeyedQueues<OutEntry>((out) => out.used);
  const outList: OutEntry[] = [];
  const found: Labelled[] = [];
  for (const rule of rules) {
    const rdr = rule.kind === 'translation' ? redirectOfRdr(rule) : null;
    if (rdr !== null) {
      rdrs.add(rule, rdr, rule.kind === 'translation' ? rule.tag : null);
      continue;
    }
    const openbsd = rule.kind === 'filter' ? redirectOfOpenbsdPass(rule) : null;
    if (openbsd !== null) {
      found.push(openbsd);
      continue;
    }
    const pass = rule.kind === 'filter' ? passOf(rule) : null;
    if (pass !== null) {
      passes.push({ rule, ...pass });
      continue;
    }
    const out = rule.kind === 'filter' ? passOutKey(rule) : null;
    if (out !== null) {
      const entry = { rule, used: false };
      outs.add(out, entry);
      outList.push(entry);
    } else unmanaged.add(rule);
  }
  for (const pass of passes) {
    const choice = rdrs.take(pass.key, pass.label);
    if (choice === null) {
      unmanaged.add(pass.rule);
      continue;
    }
    const out = outs.first(outKey({ ...choice, tag: pass.tag }));
    if (out !== undefined) out.used = true;
    found.push({ ...choice, tag: pass.tag, outboundMissing: out === undefined });
  }
  for (const rule of rdrs.unused()) unmanaged.add(rule);
  for (const out of outList) if (!out.used) unmanaged.add(out.rule);
  return { exposures: groupSources(found), unmanaged: rules.filter((rule) => unmanaged.has(rule)) };
}

interface OutEntry {
  rule: ParsedRule;
  used: boolean;
}

interface RdrEntry {
  rule: ParsedRule;
  redirect: Redirect;
  used: boolean;
}

/**
 * The rdr rules a pass rule may pair with, by the tag and container side they share (the pass
 * rule's key), then within those by the host port, and by the listen side and host port, that a
 * readable label names. Pairing through these queues gives what scanning every rdr rule for every
 * pass rule gave: the first unused rdr rule whose listen side and host port the label names, else
 * the first unused one of the key. Most keys hold one rdr rule, whose label agrees: the queues by
 * port and listen side are built for a key only when its first rule does not.
 */
class RdrIndex {
  private readonly all: RdrEntry[] = [];
  private readonly byKey = new KeyedQueues<RdrEntry>((entry) => entry.used);
  private readonly byNamed = new Map<string, { byPort: KeyedQueues<RdrEntry>; byListenPort: KeyedQueues<RdrEntry> }>();

  /** Every rdr rule is added before the first take: the queues of a key are built from them. */
  add(rule: ParsedRule, redirect: Redirect, tag: string | null): void {
    const entry: RdrEntry = { rule, redirect, used: false };
    this.all.push(entry);
    // A pass rule's tag is a string: an rdr rule without a tag pairs with none.
    if (tag !== null) this.byKey.add(redirectKey(redirect, tag), entry);
  }

  /** Pairs a pass rule with an unused rdr rule and marks it used; null when none pairs. */
  take(key: string, label: string): Omit<Labelled, 'tag' | 'outboundMissing'> | null {
    const first = this.byKey.first(key);
    if (first === undefined) return null;
    // Every rdr rule of one key has the protocol the label is checked against: the label fits
    // all of them or none.
    const container = labelContainer(label, first.redirect.protocol);
    if (container === null) return null;
    const named = labelNames(label);
    let choice = first;
    if (
      named !== null &&
      !(
        formatRange(first.redirect.hostPort) === named.port &&
        (named.listen === null || named.listen === listenName(first.redirect))
      )
    ) {
      const queues = this.namedQueues(key);
      choice =
        (named.listen === null
          ? queues.byPort.first(named.port)
          : queues.byListenPort.first(`${named.port}\n${named.listen}`)) ?? first;
    }
    choice.used = true;
    return { ...choice.redirect, label, container };
  }

  /** The rdr rules of one key by host port, and by host port and listen side (built once). */
  private namedQueues(key: string): { byPort: KeyedQueues<RdrEntry>; byListenPort: KeyedQueues<RdrEntry> } {
    let queues = this.byNamed.get(key);
    if (queues === undefined) {
      queues = {
        byPort: new KeyedQueues<RdrEntry>((entry) => entry.used),
        byListenPort: new KeyedQueues<RdrEntry>((entry) => entry.used),
      };
      for (const entry of this.byKey.items(key)) {
        const port = formatRange(entry.redirect.hostPort);
        queues.byPort.add(port, entry);
        // Ports and listen sides hold no newline.
        queues.byListenPort.add(`${port}\n${listenName(entry.redirect)}`, entry);
      }
      this.byNamed.set(key, queues);
    }
    return queues;
  }

  unused(): ParsedRule[] {
    return this.all.filter((entry) => !entry.used).map((entry) => entry.rule);
  }
}

/** Why a rule of the deployed state is unmanaged, in words for the reviewer. */
export function unmanagedReason(rule: ParsedRule): string {
  if (rule.kind === 'unparsed') return rule.reason;
  if (rule.kind === 'translation' && redirectOfRdr(rule) !== null)
    return 'rdr rule without the pass rule pfexpose writes beside it';
  if (rule.kind === 'filter' && passOf(rule) !== null)
    return 'pass rule without the rdr rule pfexpose writes beside it';
  if (rule.kind === 'filter' && passOutKey(rule) !== null)
    return 'pass out rule without the rdr and pass in rules pfexpose writes beside it';
  if (rule.kind === 'filter' && redirectOfOpenbsdPass(rule) !== null) return 'pass rule without a pfexpose label';
  return 'not a rule pfexpose writes';
}

// -------------------------------------------------------------------------------------------------

/**
 * Nothing matched beyond what pfexpose writes, and the tags of the rule's role: FreeBSD rdr rules
 * tag what they redirect, FreeBSD pass rules admit only that tag, OpenBSD rules carry no tag.
 */
function plainMatch(rule: RuleMatch, role: 'rdr' | 'pass' | 'openbsd'): boolean {
  if (rule.log !== null || rule.user !== null || rule.group !== null || rule.icmpType !== null) return false;
  if (role === 'rdr') return rule.tag !== null && isRedirectTag(rule.tag) && rule.tagged === null;
  if (role === 'pass')
    return rule.tag === null && rule.tagged !== null && isRedirectTag(rule.tagged.name) && !rule.tagged.negated;
  return rule.tag === null && rule.tagged === null;
}

function protocolOf(rule: RuleMatch): Protocol | null {
  return rule.protocol === 'tcp' || rule.protocol === 'udp' || rule.protocol === 'sctp' ? rule.protocol : null;
}

function sourceOf(endpoint: Endpoint, family: Family): string | null | false {
  if (endpoint.negated || endpoint.port !== null) return false;
  if (endpoint.address.kind === 'any') return null;
  if (endpoint.address.kind === 'network' && endpoint.address.family === family) return endpoint.address.text;
  return false;
}

function rangeOf(port: PortMatch | null): PortRange | null {
  if (port === null || (port.op !== '=' && port.op !== ':') || port.start < 1) return null;
  return { start: port.start, end: port.end };
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}

/** The listen side of a destination: `(IF)`, `(self)`, or a host address (lo0 for loopback). */
function listenOf(rule: RuleMatch): { interface: string | null; hostAddress: string | null } | null {
  const to = rule.to;
  if (to.negated) return null;
  const onInterface = rule.interface === null ? null : rule.interface.negated ? false : rule.interface.name;
  if (onInterface === false) return null;
  if (to.address.kind === 'dynamic' && to.address.modifiers.length === 0) {
    if (to.address.name === 'self') return onInterface === null ? { interface: null, hostAddress: null } : null;
    return onInterface === to.address.name ? { interface: onInterface, hostAddress: null } : null;
  }
  if (to.address.kind === 'network' && to.address.family === rule.family && !to.address.text.includes('/')) {
    const address = to.address.text;
    if (onInterface === null || (onInterface === 'lo0' && isLoopback(address)))
      return { interface: null, hostAddress: address };
  }
  return null;
}

function targetOf(rule: TranslationRule | FilterRule): { address: string; port: PortRange } | null {
  const target = rule.kind === 'translation' ? rule.target : rule.rdrTo;
  if (target === null || target.addresses.length !== 1 || target.port === null || target.options.length > 0)
    return null;
  const address = target.addresses[0];
  if (address?.kind !== 'network' || address.family !== rule.family || address.text.includes('/')) return null;
  return { address: address.text, port: target.port };
}

function redirectFrom(rule: TranslationRule | FilterRule, role: 'rdr' | 'openbsd'): Redirect | null {
  const protocol = protocolOf(rule);
  const family = rule.family;
  if (protocol === null || family === null || !plainMatch(rule, role)) return null;
  const listen = listenOf(rule);
  const hostPort = rangeOf(rule.to.port);
  const from = sourceOf(rule.from, family);
  const target = targetOf(rule);
  if (listen === null || hostPort === null || from === false || target === null) return null;
  const containerLength = target.port.end - target.port.start;
  if (containerLength !== 0 && containerLength !== hostPort.end - hostPort.start) return null;
  return {
    interface: listen.interface,
    hostAddress: listen.hostAddress,
    family,
    protocol,
    from,
    hostPort,
    containerAddress: target.address,
    containerPort: target.port,
  };
}

function redirectOfRdr(rule: TranslationRule): Redirect | null {
  if (rule.type !== 'rdr' || rule.negated || rule.pass || rule.direction !== null || rule.quick || rule.flags !== null)
    return null;
  return redirectFrom(rule, 'rdr');
}

function isPfexposePass(
  rule: FilterRule,
  states: readonly FilterRule['state'][],
  role: 'pass' | 'openbsd',
  direction: 'in' | 'out' = 'in',
): boolean {
  const protocol = protocolOf(rule);
  const flagsOk =
    protocol === 'tcp'
      ? rule.flags !== null && !rule.flags.any && rule.flags.check === 'S' && rule.flags.mask === 'SA'
      : rule.flags === null;
  return (
    rule.action === 'pass' &&
    rule.direction === direction &&
    rule.quick &&
    plainMatch(rule, role) &&
    flagsOk &&
    states.includes(rule.state) &&
    rule.stateOptions === null &&
    rule.extraOptions.length === 0 &&
    rule.labels.length === 1
  );
}

function redirectOfOpenbsdPass(rule: FilterRule): Labelled | null {
  if (rule.rdrTo === null || !isPfexposePass(rule, [null, 'keep'], 'openbsd')) return null;
  const redirect = redirectFrom(rule, 'openbsd');
  return redirect === null ? null : withLabel(redirect, rule.labels[0] ?? '');
}

/** A FreeBSD pass in rule of pfexpose's shape: the key (tag and container side) its rdr rule must have, its label and tag. */
function passOf(rule: FilterRule): { key: string; label: string; tag: string } | null {
  if (rule.rdrTo !== null || rule.interface?.negated === true || !isPfexposePass(rule, ['keep'], 'pass')) return null;
  const side = containerSide(rule);
  if (side === null) return null;
  const { family, protocol, from, address, port } = side;
  return {
    key: JSON.stringify([
      rule.tagged?.name ?? '',
      rule.interface?.name ?? null,
      family,
      protocol,
      from,
      address,
      port.start,
      port.end,
    ]),
    label: rule.labels[0] ?? '',
    tag: rule.tagged?.name ?? '',
  };
}

/**
 * A FreeBSD pass out rule of pfexpose's shape (the forwarded leg: on no interface, to the
 * container side): the key its exposure's rules must have (outKey); null for any other rule.
 */
function passOutKey(rule: FilterRule): string | null {
  if (rule.rdrTo !== null || rule.interface !== null || !isPfexposePass(rule, ['keep'], 'pass', 'out')) return null;
  const side = containerSide(rule);
  if (side === null) return null;
  return outKey({
    tag: rule.tagged?.name ?? '',
    label: rule.labels[0] ?? '',
    family: side.family,
    protocol: side.protocol,
    from: side.from,
    containerAddress: side.address,
    containerPort: side.port,
  });
}

/** What a pass rule of either direction matches: one container address and port, from any or one network. */
function containerSide(
  rule: FilterRule,
): { family: Family; protocol: Protocol; from: string | null; address: string; port: PortRange } | null {
  const protocol = protocolOf(rule);
  const family = rule.family;
  if (protocol === null || family === null) return null;
  const from = sourceOf(rule.from, family);
  const port = rangeOf(rule.to.port);
  const to = rule.to.address;
  if (
    from === false ||
    port === null ||
    rule.to.negated ||
    to.kind !== 'network' ||
    to.family !== family ||
    to.text.includes('/')
  )
    return null;
  return { family, protocol, from, address: to.text, port };
}

/**
 * What an exposure's pass out rule shares with its rdr and pass in rules: the tag, the label, the
 * family, protocol and source, and the container side (not the interface: it names none).
 */
function outKey(
  item: Pick<Labelled, 'label' | 'family' | 'protocol' | 'from' | 'containerAddress' | 'containerPort'> & {
    tag: string;
  },
): string {
  return JSON.stringify([
    item.tag,
    item.label,
    item.family,
    item.protocol,
    item.from,
    item.containerAddress,
    item.containerPort.start,
    item.containerPort.end,
  ]);
}

/**
 * What the pass rule written beside this rdr rule must match (filtering sees the container side),
 * with the tag they share: the same array as a pass rule's key (passOf).
 */
function redirectKey(redirect: Redirect, tag: string): string {
  const interfaceName =
    redirect.interface ?? (redirect.hostAddress !== null && isLoopback(redirect.hostAddress) ? 'lo0' : null);
  return JSON.stringify([
    tag,
    interfaceName,
    redirect.family,
    redirect.protocol,
    redirect.from,
    redirect.containerAddress,
    redirect.containerPort.start,
    redirect.containerPort.end,
  ]);
}

/**
 * Labels read `CONTAINER:PROTOCOL:LISTEN:HOSTPORT`, or end in `~HASH` when shortened. The
 * container name is the part before the first colon; a label that is not of this form (its
 * protocol disagreeing with the rule's, or unsafe characters) is not pfexpose's.
 */
function withLabel(redirect: Redirect, label: string): Labelled | null {
  const container = labelContainer(label, redirect.protocol);
  return container === null ? null : { ...redirect, label, container, tag: null, outboundMissing: false };
}

/** The container a label of pfexpose's form names, for a rule of this protocol; else null. */
function labelContainer(label: string, protocol: Protocol): string | null {
  if (!/^[A-Za-z0-9_.:~-]{1,63}$/.test(label)) return null;
  const parts = label.split(':');
  if (parts.length === 1) {
    // A long container name cut short before the hash: all that is left is its beginning.
    const head = /^([A-Za-z0-9_.-]+)~[0-9a-f]+$/.exec(label);
    return head?.[1] ?? null;
  }
  const container = parts[0] ?? '';
  const labelProtocol = parts[1] ?? '';
  if (!/^[A-Za-z0-9_.-]+$/.test(container)) return null;
  // A shortened label may have lost part of its protocol to the hash.
  if (labelProtocol !== protocol && !labelProtocol.includes('~')) return null;
  return container;
}

/** The listen side as a readable label names it: the interface, the host address, or `any`. */
function listenName(redirect: Redirect): string {
  return redirect.interface ?? redirect.hostAddress ?? EVERY_ADDRESS_TEXT;
}

/**
 * The listen side and host port a readable label names (`CONTAINER:PROTOCOL:LISTEN:HOSTPORT`);
 * listen is null when the hash stands in for it, and the whole is null when a hashed label
 * cannot tell.
 */
function labelNames(label: string): { listen: string | null; port: string } | null {
  const parts = label.split(':');
  if (parts.length < 4) return null;
  const port = parts[parts.length - 1] ?? '';
  const listen = parts.slice(2, -1).join(':');
  if (listen.startsWith('~')) return { listen: null, port };
  // Labels written before issue 11 spelled every address `self`: the same listen side.
  return { listen: listen === 'self' ? EVERY_ADDRESS_TEXT : listen, port };
}

/** One exposure per label and redirect, its sources gathered from its rules (any wins). */
function groupSources(found: readonly Labelled[]): DeployedExposure[] {
  const groups = new Map<string, { first: Labelled; from: Set<string>; any: boolean; outboundMissing: boolean }>();
  for (const item of found) {
    // None of these holds a newline (labels, names and addresses are checked words).
    const key = [
      item.label,
      item.container,
      item.interface ?? '',
      item.hostAddress ?? '',
      item.family,
      item.protocol,
      item.hostPort.start,
      item.hostPort.end,
      item.containerAddress,
      item.containerPort.start,
      item.containerPort.end,
    ].join('\n');
    const group = groups.get(key) ?? { first: item, from: new Set<string>(), any: false, outboundMissing: false };
    // One source's rules without their pass out rule are enough: that source is not served.
    if (item.outboundMissing) group.outboundMissing = true;
    if (item.from === null) group.any = true;
    else group.from.add(item.from);
    groups.set(key, group);
  }
  const exposures: DeployedExposure[] = [...groups.values()].map(({ first, from, any, outboundMissing }) => ({
    container: first.container,
    protocol: first.protocol,
    family: first.family,
    interface: first.interface,
    hostAddress: first.hostAddress,
    hostPort: first.hostPort,
    containerAddress: first.containerAddress,
    containerPort: first.containerPort,
    from: any ? [] : [...from].sort(compareStrings),
    label: first.label,
    dynamic: null,
    source: null,
    ...(outboundMissing ? { outboundMissing: true as const } : {}),
  }));
  // Each exposure is made sortable once, not at every comparison.
  return exposures
    .map((exposure) => ({ exposure, sortable: asSortable(exposure) }))
    .sort((a, b) => compareExposures(a.sortable, b.sortable))
    .map(({ exposure }) => exposure);
}

function asSortable(e: DeployedExposure): Parameters<typeof compareExposures>[0] {
  return { ...e, dynamic: e.dynamic === true, source: e.source ?? { file: '', line: 0, column: 0 } };
}
