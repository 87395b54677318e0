// Reference only (a test oracle): exposuresFromRules as it was before pairing went through keyed
// queues, scanning every rdr rule for every pass rule (and every pass out rule for every pair). The tests check that the indexed pairing in
// src/plan/exposures-from-rules.ts gives the same result; nothing in src/ may import this file.
// Rebuilds the exposures of a deployed anchor from its rules: FreeBSD's rdr + pass pairs, or
// OpenBSD's single `pass ... rdr-to` rules. Anything pfexpose would not have written, or cannot
// pair, is returned as unmanaged: shown to the reviewer, never dropped, never a crash.
import { compareStrings } from '../../../src/text/compare-strings.js';
import { compareExposures } from '../../../src/model/compare-exposures.js';
import { formatRange } from '../../../src/model/spans.js';
import type { Family, PortRange, Protocol } from '../../../src/ports/port-spec.js';
import { isRedirectTag } from '../../../src/pf/render-ruleset.js';
import type { Endpoint, FilterRule, ParsedRule, PortMatch, RuleMatch, TranslationRule } from '../../../src/pf/rule.js';
import type { DeployedExposure } from '../../../src/plan/plan.js';

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
  outboundMissing?: boolean;
}

/** A FreeBSD pass out rule of pfexpose's shape, by its fields. */
interface Out {
  rule: ParsedRule;
  tag: string;
  label: string;
  family: Family;
  protocol: Protocol;
  from: string | null;
  address: string;
  port: PortRange;
  used: boolean;
}

export function exposuresFromRules(rules: readonly ParsedRule[]): RulesExposures {
  const unmanaged = new Set<ParsedRule>();
  const rdrs: { rule: ParsedRule; redirect: Redirect; tag: string | null; used: boolean }[] = [];
  const passes: { rule: ParsedRule; key: string; label: string; tag: string }[] = [];
  const found: Labelled[] = [];
  const outs: Out[] = [];
  for (const rule of rules) {
    const rdr = rule.kind === 'translation' ? redirectOfRdr(rule) : null;
    if (rdr !== null) {
      rdrs.push({ rule, redirect: rdr, tag: rule.kind === 'translation' ? rule.tag : null, used: false });
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
    const out = rule.kind === 'filter' ? outOf(rule) : null;
    if (out !== null) outs.push(out);
    else unmanaged.add(rule);
  }
  for (const pass of passes) {
    // A pass rule admits what the rdr rules with its tag redirect.
    const candidates = rdrs.filter((r) => !r.used && r.tag === pass.tag && redirectKey(r.redirect) === pass.key);
    const labelled = candidates
      .map((candidate) => ({ candidate, labelled: withLabel(candidate.redirect, pass.label) }))
      .filter((c) => c.labelled !== null);
    // Several rdr rules may lead to the same container port; the label's listen side and host
    // port say which one this pass rule belongs to.
    const choice = labelled.find((c) => c.labelled !== null && labelAgrees(c.labelled)) ?? labelled[0];
    if (choice?.labelled == null) {
      unmanaged.add(pass.rule);
      continue;
    }
    choice.candidate.used = true;
    const l = choice.labelled;
    const out = outs.find(
      (o) =>
        !o.used &&
        o.tag === pass.tag &&
        o.label === l.label &&
        o.family === l.family &&
        o.protocol === l.protocol &&
        o.from === l.from &&
        o.address === l.containerAddress &&
        o.port.start === l.containerPort.start &&
        o.port.end === l.containerPort.end,
    );
    if (out !== undefined) out.used = true;
    found.push({ ...l, outboundMissing: out === undefined });
  }
  for (const rdr of rdrs) if (!rdr.used) unmanaged.add(rdr.rule);
  for (const out of outs) if (!out.used) unmanaged.add(out.rule);
  return { exposures: groupSources(found), unmanaged: rules.filter((rule) => unmanaged.has(rule)) };
}

/** Why a rule of the deployed state is unmanaged, in words for the reviewer. */
export function unmanagedReason(rule: ParsedRule): string {
  if (rule.kind === 'unparsed') return rule.reason;
  if (rule.kind === 'translation' && redirectOfRdr(rule) !== null)
    return 'rdr rule without the pass rule pfexpose writes beside it';
  if (rule.kind === 'filter' && passOf(rule) !== null)
    return 'pass rule without the rdr rule pfexpose writes beside it';
  if (rule.kind === 'filter' && outOf(rule) !== null)
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
  return rule.protocol === 'tcp' || rule.protocol === 'udp' ? rule.protocol : null;
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
    ...listen,
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

/** A FreeBSD pass rule of pfexpose's shape: the key its rdr rule must have, and its label. */
function passOf(rule: FilterRule): { key: string; label: string; tag: string } | null {
  if (rule.rdrTo !== null || !isPfexposePass(rule, ['keep'], 'pass')) return null;
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
  if (rule.interface?.negated === true) return null;
  return {
    key: JSON.stringify([rule.interface?.name ?? null, family, protocol, from, to.text, port.start, port.end]),
    label: rule.labels[0] ?? '',
    tag: rule.tagged?.name ?? '',
  };
}

function outOf(rule: FilterRule): Out | null {
  if (rule.rdrTo !== null || rule.interface !== null || !isPfexposePass(rule, ['keep'], 'pass', 'out')) return null;
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
  return {
    rule,
    tag: rule.tagged?.name ?? '',
    label: rule.labels[0] ?? '',
    family,
    protocol,
    from,
    address: to.text,
    port,
    used: false,
  };
}

/** What the pass rule written beside this rdr rule must match: filtering sees the container side. */
function redirectKey(redirect: Redirect): string {
  const interfaceName =
    redirect.interface ?? (redirect.hostAddress !== null && isLoopback(redirect.hostAddress) ? 'lo0' : null);
  return JSON.stringify([
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
  if (!/^[A-Za-z0-9_.:~-]{1,63}$/.test(label)) return null;
  const parts = label.split(':');
  if (parts.length === 1) {
    // A long container name cut short before the hash: all that is left is its beginning.
    const head = /^([A-Za-z0-9_.-]+)~[0-9a-f]+$/.exec(label);
    return head?.[1] === undefined ? null : { ...redirect, label, container: head[1] };
  }
  const container = parts[0] ?? '';
  const protocol = parts[1] ?? '';
  if (!/^[A-Za-z0-9_.-]+$/.test(container)) return null;
  // A shortened label may have lost part of its protocol to the hash.
  if (protocol !== redirect.protocol && !protocol.includes('~')) return null;
  return { ...redirect, label, container };
}

/** True when a readable label names this listen side and host port; hashed labels cannot tell. */
function labelAgrees(labelled: Labelled): boolean {
  const parts = labelled.label.split(':');
  if (parts.length < 4) return false;
  const port = parts[parts.length - 1] ?? '';
  const listen = parts.slice(2, -1).join(':');
  const expected = labelled.interface ?? labelled.hostAddress ?? 'self';
  return (listen.startsWith('~') || listen === expected) && port === formatRange(labelled.hostPort);
}

/** One exposure per label and redirect, its sources gathered from its rules (any wins). */
function groupSources(found: readonly Labelled[]): DeployedExposure[] {
  const groups = new Map<string, { first: Labelled; from: Set<string>; any: boolean; outboundMissing: boolean }>();
  for (const item of found) {
    const key = JSON.stringify([
      item.label,
      item.container,
      item.interface,
      item.hostAddress,
      item.family,
      item.protocol,
      item.hostPort.start,
      item.hostPort.end,
      item.containerAddress,
      item.containerPort.start,
      item.containerPort.end,
    ]);
    const group = groups.get(key) ?? { first: item, from: new Set<string>(), any: false, outboundMissing: false };
    if (item.outboundMissing === true) group.outboundMissing = true;
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
  return exposures.sort((a, b) => compareExposures(asSortable(a), asSortable(b)));
}

function asSortable(e: DeployedExposure): Parameters<typeof compareExposures>[0] {
  return { ...e, dynamic: e.dynamic === true, source: e.source ?? { file: '', line: 0, column: 0 } };
}
