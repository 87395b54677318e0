// A typed model of the pf rules pfexpose writes and reads back: translation rules (rdr, nat, binat),
// filter rules (pass, block, match), anchor calls with optional inline bodies, and a catch-all for
// any line outside that subset, so that reading a ruleset never drops or misreads a line.
import type { Family } from '../ports/port-spec.js';

/** Comparison operators of pf port and user/group matches, spelled as pfctl prints them. */
export type MatchOperator = '=' | '!=' | '<' | '<=' | '>' | '>=' | ':' | '><' | '<>';

/** `port = 80`, `port 8000:8010`, `port > 1023`; start === end for the unary operators. */
export interface PortMatch {
  op: MatchOperator;
  start: number;
  end: number;
  /** The service name the text used instead of a number (`port = ssh`), or null. */
  name: string | null;
}

/** `user = 0`, `group >= 1000`; name is set when the text named the user instead of a number. */
export interface IdMatch {
  op: MatchOperator;
  start: number | null;
  end: number | null;
  name: string | null;
}

export type Address =
  | { kind: 'any' }
  /** A literal address or network in pfctl's printed form (`192.0.2.0/24`, `2001:db8::1`). */
  | { kind: 'network'; family: Family; text: string }
  /** `(em0)`, `(self)`, `(em0:network)`: follows the interface's addresses at run time. */
  | { kind: 'dynamic'; name: string; modifiers: string[] }
  /** `<name>` */
  | { kind: 'table'; name: string }
  /** `192.0.2.1 - 192.0.2.9` */
  | { kind: 'range'; family: Family; from: string; to: string }
  /** `no-route`, `urpf-failed`, or a bare word pfctl resolves at load time (host or interface name). */
  | { kind: 'word'; text: string };

export interface Endpoint {
  negated: boolean;
  address: Address;
  port: PortMatch | null;
}

export interface InterfaceSpec {
  name: string;
  negated: boolean;
}

/** `log` with its optional parenthesised options kept as written (`all, to pflog1`). */
export interface LogSpec {
  options: string | null;
}

export interface TcpFlags {
  /** Flags that must be set, e.g. `S`; `any` is represented by check === '' and mask === ''. */
  check: string;
  mask: string;
  any: boolean;
}

/** The redirect target after `->` (legacy) or `rdr-to` (OpenBSD syntax). */
export interface RedirectTarget {
  /** One address, or a pool printed as `{ a, b }`. */
  addresses: Address[];
  /** Target port or range; end === start for a single port. null: keep the original port. */
  port: { start: number; end: number } | null;
  /** Pool options as printed (`round-robin`, `sticky-address`, `static-port`, ...). */
  options: string[];
}

/** Fields shared by every rule kind, in the order pfctl prints them. */
export interface RuleMatch {
  direction: 'in' | 'out' | null;
  log: LogSpec | null;
  quick: boolean;
  interface: InterfaceSpec | null;
  family: Family | null;
  /** Protocol name as printed (`tcp`, `udp`, `sctp`, `icmp`) or its number as text. */
  protocol: string | null;
  from: Endpoint;
  to: Endpoint;
  user: IdMatch | null;
  group: IdMatch | null;
  flags: TcpFlags | null;
  /** `icmp-type echoreq [code x]` / `icmp6-type ...`, kept as printed after the keyword. */
  icmpType: { keyword: 'icmp-type' | 'icmp6-type'; text: string } | null;
  tag: string | null;
  tagged: { name: string; negated: boolean } | null;
}

export interface FilterRule extends RuleMatch {
  kind: 'filter';
  action: 'pass' | 'block' | 'match';
  /** `drop`, `return`, `return-rst` for block rules as written; null: the default policy. */
  blockPolicy: string | null;
  state: 'keep' | 'modulate' | 'synproxy' | 'no' | null;
  /** Parenthesised state options as printed (`max 100, no-sync`), or null. */
  stateOptions: string | null;
  /** Single-word options printed after the state (`allow-opts`, `fragment`, ...). */
  extraOptions: string[];
  labels: string[];
  /** OpenBSD-style translation on a filter rule. */
  rdrTo: RedirectTarget | null;
  line: number;
}

export interface TranslationRule extends RuleMatch {
  kind: 'translation';
  type: 'nat' | 'rdr' | 'binat';
  /** `no rdr` / `no nat`: an exception, without target. */
  negated: boolean;
  /** `rdr pass`: the translated packet skips the filter rules. */
  pass: boolean;
  target: RedirectTarget | null;
  line: number;
}

export interface AnchorRule extends RuleMatch {
  kind: 'anchor';
  type: 'anchor' | 'nat-anchor' | 'rdr-anchor' | 'binat-anchor';
  /** Anchor path as written inside the quotes; null for an unnamed inline anchor. */
  name: string | null;
  /** Rules of an inline anchor (`{ ... }`), or null for a plain anchor call. */
  body: ParsedRule[] | null;
  line: number;
}

/** A line outside the modelled subset, kept verbatim (without `@N` numbering) and never dropped. */
export interface UnparsedRule {
  kind: 'unparsed';
  text: string;
  reason: string;
  line: number;
}

export type ParsedRule = FilterRule | TranslationRule | AnchorRule | UnparsedRule;

export function anyEndpoint(): Endpoint {
  return { negated: false, address: { kind: 'any' }, port: null };
}

/** A RuleMatch with nothing restricted: the starting point for building rules by hand. */
export function emptyMatch(): RuleMatch {
  return {
    direction: null,
    log: null,
    quick: false,
    interface: null,
    family: null,
    protocol: null,
    from: anyEndpoint(),
    to: anyEndpoint(),
    user: null,
    group: null,
    flags: null,
    icmpType: null,
    tag: null,
    tagged: null,
  };
}

/** The address family an address pins down, or null when it fits either (any, tables, interfaces). */
export function addressFamily(address: Address): Family | null {
  return address.kind === 'network' || address.kind === 'range' ? address.family : null;
}
