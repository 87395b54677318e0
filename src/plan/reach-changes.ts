// Links and network reaches in a plan (model/reach.ts): read back from deployed rules, and compared
// with the desired ones by label. A reach's label names its link or container, protocol and port
// run, so a reach whose ports change is one removed and one added; a reach whose sources or
// addresses change under the same label is changed, and widened when the desired side admits a
// source, address or port the deployed side did not.
import type { Reach, ReachKind } from '../model/reach.js';
import { compareReaches } from '../model/reach.js';
import { reachJson } from '../model/exposure-json.js';
import { formatRange } from '../model/spans.js';
import { isReachRule } from '../pf/check-own-ruleset.js';
import type { FilterRule, ParsedRule } from '../pf/rule.js';
import type { Family, PortRange, Protocol } from '../ports/port-spec.js';
import { compareStrings } from '../text/compare-strings.js';

/** What a deployed reach rule says; the names behind it are known only on the desired side. */
export interface DeployedReach {
  label: string;
  family: Family;
  protocol: Protocol;
  from: string;
  containerAddress: string;
  port: PortRange;
}

export type ReachFlagCode = 'reach-opened' | 'reach-widened';

export interface ReachFlag {
  code: ReachFlagCode;
  message: string;
}

export interface ReachChange {
  kind: 'added' | 'removed' | 'changed';
  label: string;
  /** From the label when only the deployed side has it (`link:` or `net:`). */
  reachKind: ReachKind;
  /** The desired rules of the label (empty when removed). */
  desired: Reach[];
  /** The deployed rules of the label (empty when added). */
  deployed: DeployedReach[];
  flags: ReachFlag[];
}

/** Splits the reach rules (pfexpose's `pass quick` rules between containers) from the rest. */
export function reachesFromRules(rules: readonly ParsedRule[]): { reaches: DeployedReach[]; rest: ParsedRule[] } {
  const reaches: DeployedReach[] = [];
  const rest: ParsedRule[] = [];
  for (const rule of rules) {
    const reach = rule.kind === 'filter' && isReachRule(rule) ? deployedReach(rule) : null;
    if (reach === null) rest.push(rule);
    else reaches.push(reach);
  }
  return { reaches, rest };
}

function deployedReach(rule: FilterRule): DeployedReach | null {
  const label = rule.labels[0];
  const port = rule.to.port;
  if (label === undefined || port === null || rule.family === null) return null;
  if (rule.from.address.kind !== 'network' || rule.to.address.kind !== 'network') return null;
  if (rule.protocol !== 'tcp' && rule.protocol !== 'udp' && rule.protocol !== 'sctp') return null;
  return {
    label,
    family: rule.family,
    protocol: rule.protocol,
    from: rule.from.address.text,
    containerAddress: rule.to.address.text,
    port: { start: port.start, end: port.end },
  };
}

/** The changes between the desired and the deployed reaches, by label; unchanged labels are left out. */
export function reachChanges(desired: readonly Reach[], deployed: readonly DeployedReach[]): ReachChange[] {
  const want = groupByLabel(desired);
  const have = groupByLabel(deployed);
  const labels = [...new Set([...want.keys(), ...have.keys()])].sort(compareStrings);
  const changes: ReachChange[] = [];
  for (const label of labels) {
    const d = [...(want.get(label) ?? [])].sort(compareReaches);
    const p = have.get(label) ?? [];
    const kind: ReachKind = d[0]?.kind ?? (label.startsWith('net:') ? 'network' : 'link');
    const wanted = new Set(d.map(tupleOf));
    const held = new Set(p.map(tupleOf));
    if (wanted.size === held.size && [...wanted].every((t) => held.has(t))) continue;
    if (p.length === 0) {
      changes.push({ kind: 'added', label, reachKind: kind, desired: d, deployed: [], flags: [openedFlag(d)] });
    } else if (d.length === 0) {
      changes.push({ kind: 'removed', label, reachKind: kind, desired: [], deployed: p, flags: [] });
    } else {
      const extra = d.filter((r) => !held.has(tupleOf(r)));
      const flags: ReachFlag[] =
        extra.length === 0
          ? []
          : [
              {
                code: 'reach-widened',
                message: `now also admits ${extra.map((r) => `${r.from} -> ${r.containerAddress} ${r.protocol} ${formatRange(r.port)}`).join(', ')}`,
              },
            ];
      changes.push({ kind: 'changed', label, reachKind: kind, desired: d, deployed: p, flags });
    }
  }
  return changes;
}

/** One line for a reach label's rules: `link client -> server (alias db): tcp 6379-6381 from 172.0.17.3`. */
export function reachText(change: ReachChange): string {
  const first = change.desired[0];
  const rules: readonly DeployedReach[] = change.desired.length > 0 ? change.desired : change.deployed;
  const sources = [...new Set(rules.map((r) => r.from))].join(', ');
  const targets = [...new Set(rules.map((r) => r.containerAddress))].join(', ');
  const sample = rules[0];
  const ports = sample === undefined ? '' : `${sample.protocol} ${formatRange(sample.port)}`;
  if (first === undefined) return `${deployedName(change.label)}: ${ports} from ${sources} to ${targets}`;
  if (first.kind === 'link')
    return `link ${first.client ?? ''} -> ${first.container}${first.alias === first.container ? '' : ` (alias ${first.alias ?? ''})`}: ${ports} from ${sources} to ${targets}`;
  return `networks -> ${first.container}: ${ports} from ${sources} to ${targets}`;
}

/**
 * What a deployed label says of its reach: container names hold no `:`, so a readable label splits
 * into its parts (the server's name is not in a link's label: the alias is); a hashed one is shown as is.
 */
function deployedName(label: string): string {
  const link = /^link:([^:~]+):([^:]+):(?:tcp|udp|sctp):[0-9-]+$/.exec(label);
  if (link !== null) return `link ${link[1] ?? ''} (alias ${link[2] ?? ''})`;
  const network = /^net:([^:~]+):(?:tcp|udp|sctp):[0-9-]+$/.exec(label);
  if (network !== null) return `networks -> ${network[1] ?? ''}`;
  return label;
}

function openedFlag(desired: readonly Reach[]): ReachFlag {
  const first = desired[0];
  const what =
    first?.kind === 'link'
      ? `container ${first.client ?? ''} can now reach ${first.container}`
      : `the container networks can now reach ${first?.container ?? ''}`;
  return {
    code: 'reach-opened',
    message: `${what} on ${first?.protocol ?? ''} ${first === undefined ? '' : formatRange(first.port)}`,
  };
}

function tupleOf(r: DeployedReach): string {
  return JSON.stringify([r.family, r.protocol, r.from, r.containerAddress, r.port.start, r.port.end]);
}

function groupByLabel<T extends { label: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(item.label);
    if (list === undefined) groups.set(item.label, [item]);
    else list.push(item);
  }
  return groups;
}

/** The sign a change line starts with in text and markdown. */
export const REACH_SIGN: Record<ReachChange['kind'], string> = { added: '+', removed: '-', changed: '~' };

/** Reach changes as plan JSON writes them (a `reaches` key, present when there are any). */
export function reachChangeJson(change: ReachChange): unknown {
  return {
    change: change.kind,
    label: change.label,
    kind: change.reachKind,
    desired: change.desired.map(reachJson),
    deployed: change.deployed.map((r) => ({
      family: r.family,
      protocol: r.protocol,
      from: r.from,
      containerAddress: r.containerAddress,
      port: formatRange(r.port),
    })),
    flags: change.flags.map((f) => ({ code: f.code, message: f.message })),
  };
}

/** The text lines of the reach changes (no colour): a line per change, its place, its flags. */
export function reachChangeLines(changes: readonly ReachChange[]): string[] {
  const lines: string[] = [];
  for (const change of changes) {
    lines.push(`  ${REACH_SIGN[change.kind]} ${reachText(change)}`);
    const source = change.desired[0]?.source;
    if (source !== undefined) lines.push(`      at ${source.file}:${source.line}:${source.column}`);
    for (const flag of change.flags) lines.push(`      ! ${flag.message}`);
  }
  return lines;
}
