// Tells whether a ruleset is pfexpose's own: every rule of one of the shapes the compiler emits
// (render-ruleset.ts), and nothing else. Whatever pfexpose is about to load from a record in its
// state directory, or to put back from what pf printed, passes this first: `pass in quick all`, a
// truncated rule or a hand-written line is never loaded by pfexpose on its own initiative.
import { parsePfctlOutput, normalizeAsLoaded } from './parse-pfctl.js';
import { isRedirectTag } from './render-ruleset.js';
import type {
  Address,
  Endpoint,
  FilterRule,
  ParsedRule,
  PortMatch,
  RedirectTarget,
  RuleMatch,
  TranslationRule,
} from './rule.js';
import { quoteText, quoteWhole } from '../text/quote-text.js';

export interface ForeignLine {
  /** 1-based line of the text. */
  line: number;
  /** The line as written (trimmed, at most 200 characters). */
  text: string;
  reason: string;
}

export type OwnRulesetCheck = { ok: true; rules: number } | { ok: false; foreign: ForeignLine[] };

/**
 * Checks a ruleset text (pfexpose's compiled form with its header comments, or pfctl's printed
 * form) against the shapes pfexpose writes, for the named anchor. The empty ruleset is pfexpose's
 * own (it is what an anchor without exposures holds). A header comment naming another anchor makes
 * the text foreign too: a record of one anchor is never loaded into another.
 */
export function checkOwnRuleset(text: string, anchor: string): OwnRulesetCheck {
  const foreign: ForeignLine[] = [];
  const lines = text.split('\n');
  const quote = (line: number): string => (lines[line - 1] ?? '').trim().slice(0, 200);
  if (!/^[A-Za-z0-9_./-]{1,1023}$/.test(anchor)) {
    foreign.push({
      line: 1,
      text: quote(1),
      reason: `${quoteText(anchor)} is not an anchor name pfexpose loads`,
    });
  }
  const header = /^# pfexpose ruleset for anchor "([^"]*)"/.exec(lines[0] ?? '');
  if (header !== null && header[1] !== anchor) {
    foreign.push({
      line: 1,
      text: quote(1),
      reason: `the ruleset was compiled for anchor "${header[1] ?? ''}", not "${anchor}"`,
    });
  }
  const parsed = parsePfctlOutput(text);
  const rules = normalizeAsLoaded(parsed.rules);
  for (const rule of rules) {
    const why = foreignReason(rule);
    if (why !== null) foreign.push({ line: rule.line, text: quote(rule.line), reason: why });
  }
  if (foreign.length > 0) return { ok: false, foreign: foreign.sort((a, b) => a.line - b.line) };
  return { ok: true, rules: rules.length };
}

/** One line for a message: the first offending lines, and how many more. */
export function describeForeign(foreign: readonly ForeignLine[], limit = 3): string {
  const shown = foreign.slice(0, limit).map((f) => `line ${f.line} ${quoteWhole(f.text)}: ${f.reason}`);
  const more = foreign.length > limit ? `, and ${foreign.length - limit} more` : '';
  return `${shown.join('; ')}${more}`;
}

/** null when the rule is of a shape pfexpose writes; else why not. */
function foreignReason(rule: ParsedRule): string | null {
  switch (rule.kind) {
    case 'unparsed':
      return `not a pf rule pfexpose reads (${rule.reason})`;
    case 'anchor':
      return 'pfexpose writes no anchor rules';
    case 'translation':
      return rdrReason(rule);
    default:
      return passReason(rule);
  }
}

/** `rdr [on IF] FAMILY proto P from SRC to LISTEN port P tag pfexpose[_H] -> CONTAINER port P` */
function rdrReason(rule: TranslationRule): string | null {
  if (rule.type !== 'rdr' || rule.negated || rule.pass)
    return `pfexpose writes only plain rdr translation rules, not this ${rule.type}`;
  if (rule.direction !== null || rule.quick || rule.flags !== null)
    return 'an rdr rule pfexpose writes has no direction, quick or flags';
  if (rule.tag === null || !isRedirectTag(rule.tag) || rule.tagged !== null)
    return 'an rdr rule pfexpose writes tags its packets "pfexpose"';
  const common = commonReason(rule);
  if (common !== null) return common;
  if (!isListen(rule.to.address, rule)) return 'an rdr rule pfexpose writes is to (self), (IF) or one host address';
  return targetReason(rule.target, rule);
}

/**
 * FreeBSD: `pass in quick [on IF] FAMILY proto P from SRC to CONTAINER port P [flags S/SA] keep
 * state label "L" tagged pfexpose[_H]`, and the same `pass out quick` on no interface (the
 * forwarded leg towards the container); OpenBSD: `pass in quick` to the listen side, with `rdr-to`.
 */
function passReason(rule: FilterRule): string | null {
  if (rule.action === 'pass' && rule.direction === null && rule.quick) return reachReason(rule);
  const out = rule.direction === 'out';
  if (rule.action !== 'pass' || (rule.direction !== 'in' && !out) || !rule.quick)
    return 'pfexpose writes only "pass quick", "pass in quick" and "pass out quick" filter rules';
  if (out && rule.interface !== null) return 'a pass out rule pfexpose writes names no interface';
  if (out && rule.rdrTo !== null) return 'a pass out rule pfexpose writes redirects nothing';
  if (rule.blockPolicy !== null || rule.stateOptions !== null || rule.extraOptions.length > 0)
    return 'a pass rule pfexpose writes has no options';
  if (rule.state !== 'keep') return 'a pass rule pfexpose writes keeps state';
  if (rule.labels.length !== 1 || !/^[A-Za-z0-9_.:/@+=~-]{1,63}$/.test(rule.labels[0] ?? ''))
    return 'a pass rule pfexpose writes carries one pfexpose label';
  const common = commonReason(rule);
  if (common !== null) return common;
  const flags = flagsReason(rule);
  if (flags !== null) return flags;
  if (rule.tag !== null) return 'a pass rule pfexpose writes sets no tag';
  if (rule.rdrTo === null) {
    // FreeBSD: filtering sees the container side, and only packets pfexpose's rdr rules tagged.
    if (rule.tagged === null || rule.tagged.negated || !isRedirectTag(rule.tagged.name))
      return 'a pass rule pfexpose writes admits only packets tagged "pfexpose"';
    if (!isHost(rule.to.address, rule)) return 'a pass rule pfexpose writes is to one container address';
    return null;
  }
  if (rule.tagged !== null) return 'an rdr-to pass rule pfexpose writes uses no tags';
  if (!isListen(rule.to.address, rule))
    return 'an rdr-to pass rule pfexpose writes is to (self), (IF) or one host address';
  return targetReason(rule.rdrTo, rule);
}

/** True for a rule of the shape pfexpose writes for a link or network reach (see reachReason). */
export function isReachRule(rule: FilterRule): boolean {
  return rule.action === 'pass' && rule.direction === null && rule.quick && reachReason(rule) === null;
}

/**
 * A link or network reach (model/reach.ts): `pass quick FAMILY proto P from ADDRESS-OR-NETWORK to
 * CONTAINER port P [flags S/SA] keep state label "L"`, on no interface, without tags. Its source is
 * never `any` nor a /0 network: a reach opens one container to named containers or networks only.
 */
function reachReason(rule: FilterRule): string | null {
  if (rule.interface !== null) return 'a pass quick rule pfexpose writes (a link or network reach) names no interface';
  if (rule.rdrTo !== null || rule.tag !== null || rule.tagged !== null)
    return 'a pass quick rule pfexpose writes (a link or network reach) redirects nothing and uses no tags';
  if (rule.blockPolicy !== null || rule.stateOptions !== null || rule.extraOptions.length > 0)
    return 'a pass rule pfexpose writes has no options';
  if (rule.state !== 'keep') return 'a pass rule pfexpose writes keeps state';
  if (rule.labels.length !== 1 || !/^[A-Za-z0-9_.:~-]{1,63}$/.test(rule.labels[0] ?? ''))
    return 'a pass rule pfexpose writes carries one pfexpose label';
  const common = commonReason(rule);
  if (common !== null) return common;
  if (rule.from.address.kind !== 'network' || /\/0$/.test(rule.from.address.text))
    return 'a pass quick rule pfexpose writes (a link or network reach) is from one address or network, never from any';
  const flags = flagsReason(rule);
  if (flags !== null) return flags;
  if (!isHost(rule.to.address, rule)) return 'a pass rule pfexpose writes is to one container address';
  return null;
}

/** Every pass rule pfexpose writes: flags S/SA for tcp, none otherwise. */
function flagsReason(rule: FilterRule): string | null {
  const flagsOk =
    rule.protocol === 'tcp'
      ? rule.flags !== null && !rule.flags.any && rule.flags.check === 'S' && rule.flags.mask === 'SA'
      : rule.flags === null;
  return flagsOk ? null : 'a pass rule pfexpose writes uses flags S/SA for tcp and none otherwise';
}

/** What both kinds share: tcp, udp or sctp of one family, a plain source, a port, nothing else matched. */
function commonReason(rule: RuleMatch): string | null {
  if (rule.log !== null || rule.user !== null || rule.group !== null || rule.icmpType !== null)
    return 'pfexpose writes no log, user, group or icmp-type';
  if (rule.family === null) return 'a rule pfexpose writes names its address family (inet or inet6)';
  if (rule.protocol !== 'tcp' && rule.protocol !== 'udp' && rule.protocol !== 'sctp')
    return 'a rule pfexpose writes is for tcp, udp or sctp';
  if (rule.interface?.negated === true) return 'a rule pfexpose writes never negates its interface';
  if (!isSource(rule.from, rule)) return 'a rule pfexpose writes is from any or from one network, without a port';
  if (rule.to.negated || !isPort(rule.to.port)) return 'a rule pfexpose writes is to one port or port range';
  return null;
}

function isSource(from: Endpoint, rule: RuleMatch): boolean {
  if (from.negated || from.port !== null) return false;
  return from.address.kind === 'any' || (from.address.kind === 'network' && from.address.family === rule.family);
}

function isPort(port: PortMatch | null): boolean {
  return (
    port !== null &&
    (port.op === '=' || port.op === ':') &&
    port.start >= 1 &&
    port.end <= 65535 &&
    port.start <= port.end
  );
}

function isHost(address: Address, rule: RuleMatch): boolean {
  return address.kind === 'network' && address.family === rule.family && !address.text.includes('/');
}

function isListen(address: Address, rule: RuleMatch): boolean {
  if (address.kind === 'dynamic') return address.modifiers.length === 0;
  return isHost(address, rule);
}

function targetReason(target: RedirectTarget | null, rule: RuleMatch): string | null {
  const address = target?.addresses[0];
  if (
    target === null ||
    target.addresses.length !== 1 ||
    address === undefined ||
    target.options.length > 0 ||
    target.port === null
  ) {
    return 'a redirect pfexpose writes goes to one container address and port';
  }
  if (
    !isHost(address, rule) ||
    target.port.start < 1 ||
    target.port.end > 65535 ||
    target.port.start > target.port.end
  ) {
    return 'a redirect pfexpose writes goes to one container address and port';
  }
  return null;
}
