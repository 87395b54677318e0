// Compares the desired exposures and ruleset with the deployed ones and says what applying would
// change, in two views: exposures (paired, with the changed fields and the flags a reviewer must
// not miss) and ruleset lines (a unified diff).
import { compareStrings } from '../text/compare-strings.js';
import { compareExposures } from '../model/compare-exposures.js';
import type { Exposure } from '../model/exposure.js';
import type { Reach } from '../model/reach.js';
import { parsePfctlOutput, printRuleLines } from '../pf/parse-pfctl.js';
import { printRule } from '../pf/print-rule.js';
import { renderedRuleLines } from '../pf/render-ruleset.js';
import type { ParsedRule } from '../pf/rule.js';
import { parseAddress, parseNetwork } from '../ports/address.js';
import { listenText, portsText, sourcesText } from './describe-exposure.js';
import { diffLineHunks } from './diff-lines.js';
import { exposuresFromRules, unmanagedReason } from './exposures-from-rules.js';
import { KeyedQueues } from './keyed-queues.js';
import { type DeployedReach, reachChanges, reachesFromRules } from './reach-changes.js';
import { widenedSources } from './network-covers.js';
import {
  PLAN_FLAG_CODES,
  type ChangedField,
  type DeployedExposure,
  type ExposureChange,
  type FieldChange,
  type Plan,
  type PlanFlag,
  type PlanFlagCode,
  type RuleDiff,
  type UnmanagedRule,
} from './plan.js';

export interface DesiredState {
  exposures: readonly Exposure[];
  /** Links and network reaches; absent: none. */
  reaches?: readonly Reach[];
  /** Normalized ruleset lines (see rulesetLines): no comments, ports as numbers. */
  lines: readonly string[];
}

export interface DeployedState {
  exposures: readonly DeployedExposure[];
  /** Links and network reaches read back (or compiled at another revision); absent: none. */
  reaches?: readonly DeployedReach[];
  lines: readonly string[];
  unmanaged: readonly ParsedRule[];
  /** Table names in the anchor (`pfctl -a ANCHOR -s Tables`): pfexpose never writes tables. */
  tables: readonly string[];
}

/** The desired side from a compiled ruleset text and its exposures. */
export function desiredState(
  exposures: readonly Exposure[],
  ruleset: string,
  reaches: readonly Reach[] = [],
): DesiredState {
  return { exposures, reaches, lines: rulesetTextLines(ruleset) };
}

/**
 * The deployed side from pfctl's printed form (-sn then -sr, -v or not) or a compiled ruleset, and
 * the names of the anchor's tables when pf was asked (every one of them is unmanaged).
 */
export function deployedFromText(text: string, tables: readonly string[] = []): DeployedState {
  return deployedFromRules(text, parsePfctlOutput(text).rules, tables);
}

/** deployedFromText for a caller that has parsed the text already (once is enough at 76,000 rules). */
export function deployedFromRules(
  text: string,
  rules: readonly ParsedRule[],
  tables: readonly string[] = [],
): DeployedState {
  const { reaches, rest } = reachesFromRules(rules);
  const { exposures, unmanaged } = exposuresFromRules(rest);
  const lines = renderedRuleLines(text) ?? normalizedLines(rules);
  return { exposures, reaches, lines, unmanaged, tables: [...tables].sort(compareStrings) };
}

/** The deployed side from exposures compiled at another revision: all of them are known. */
export function deployedFromCompiled(
  exposures: readonly Exposure[],
  ruleset: string,
  reaches: readonly Reach[] = [],
): DeployedState {
  return { exposures, reaches, lines: rulesetTextLines(ruleset), unmanaged: [], tables: [] };
}

/**
 * The compared lines of a ruleset text. A ruleset as compile wrote it (its digest intact) is
 * already in that form, which the tests check; anything else is parsed and printed.
 */
function rulesetTextLines(text: string): string[] {
  return renderedRuleLines(text) ?? normalizedLines(parsePfctlOutput(text).rules);
}

/** Rule lines as compared: pfctl's printed form with port numbers, whatever the text used. */
export function normalizedLines(rules: readonly ParsedRule[]): string[] {
  return rules.flatMap((rule) => printRuleLines(rule, { ports: 'numeric' }));
}

/**
 * Pairs desired with deployed exposures and describes the differences. Pairing, in order:
 * 1. identical exposures (every field below equal) are unchanged;
 * 2. same container, container port, protocol and family: a change of listen side, host port,
 *    container address or sources (same listen side preferred, then same host port);
 * 3. same listen side and host port: a change of container, container port, protocol or family
 *    (same family preferred, then same protocol);
 * what is left is added (desired only) or removed (deployed only).
 */
export function planChanges(desired: DesiredState, deployed: DeployedState): Plan {
  const forms = new CanonicalForms();
  const want = [...desired.exposures].sort(compareExposures).map((e) => ({ e, n: normalize(e, forms), paired: false }));
  const have = [...deployed.exposures]
    .map((e) => ({ e, n: normalize(e, forms), paired: false, sortable: sortable(e) }))
    .sort((a, b) => compareExposures(a.sortable, b.sortable));
  const changes: ExposureChange[] = [];
  let unchanged = 0;

  type Want = (typeof want)[number];
  type Have = (typeof have)[number];
  // Each pass pairs every unpaired desired exposure, in order, with the first unpaired deployed
  // one of the same key; a preference, when one matches, picks the first of the key that also
  // agrees on its fields. Queues by key (and by key and preference) find those without a scan.
  // Keys are JSON (no raw newline), so a newline joins a key and a preference unambiguously.
  const pass = (
    sameKey: (n: Normalized) => string,
    preferences: ((n: Normalized) => string)[],
    onPair: (d: Want, p: Have) => void,
  ): void => {
    const byKey = new KeyedQueues<Have>((p) => p.paired);
    const byPreference = preferences.map(() => new KeyedQueues<Have>((p) => p.paired));
    for (const p of have) {
      if (p.paired) continue;
      const key = sameKey(p.n);
      byKey.add(key, p);
      preferences.forEach((prefer, i) => byPreference[i]?.add(`${key}\n${prefer(p.n)}`, p));
    }
    for (const d of want) {
      if (d.paired) continue;
      const key = sameKey(d.n);
      let choice = byKey.first(key);
      if (choice === undefined) continue;
      for (const [i, prefer] of preferences.entries()) {
        const better = byPreference[i]?.first(`${key}\n${prefer(d.n)}`);
        if (better !== undefined) {
          choice = better;
          break;
        }
      }
      d.paired = true;
      choice.paired = true;
      onPair(d, choice);
    }
  };
  const pairChanged = (d: Want, p: Have): void => {
    const fields = changedFields(d.n, p.n);
    if (fields.length === 0) unchanged += 1;
    else
      changes.push({ kind: 'changed', desired: d.e, deployed: p.e, fields, flags: flagsOfChange(d.e, d.n, p.e, p.n) });
  };

  const json = (...fields: string[]): string => JSON.stringify(fields);
  pass(
    (n) => n.identity,
    [],
    () => {
      unchanged += 1;
    },
  );
  pass(
    (n) => json(n.container, n.containerPort, n.protocol, n.family),
    [(n) => json(n.listen, n.hostPort), (n) => json(n.listen), (n) => json(n.hostPort)],
    pairChanged,
  );
  pass(
    (n) => json(n.listen, n.hostPort),
    [(n) => json(n.family, n.protocol), (n) => json(n.family), (n) => json(n.protocol)],
    pairChanged,
  );
  for (const d of want) {
    if (!d.paired)
      changes.push({ kind: 'added', desired: d.e, deployed: null, fields: [], flags: flagsOfAddition(d.e, d.n) });
  }
  for (const p of have) {
    if (!p.paired) changes.push({ kind: 'removed', desired: null, deployed: p.e, fields: [], flags: [] });
  }
  // Sorted by the desired (else deployed) exposure made sortable once, not at every comparison.
  const exposureChanges = changes
    .map((change) => ({ change, sortable: change.desired ?? sortable(change.deployed) }))
    .sort((a, b) => compareExposures(a.sortable, b.sortable) || kindRank[a.change.kind] - kindRank[b.change.kind])
    .map(({ change }) => change);

  const rules = diffRules(deployed.lines, desired.lines);
  const unmanaged: UnmanagedRule[] = [
    ...deployed.unmanaged.map((rule): UnmanagedRule => ({
      kind: 'rule',
      line: rule.line,
      text: printRule(rule, { ports: 'numeric' }),
      reason: unmanagedReason(rule),
    })),
    ...deployed.tables.map((name): UnmanagedRule => ({
      kind: 'table',
      line: 0,
      text: `table <${name}>`,
      reason:
        'a table in the anchor: pfexpose never writes tables, so it was made by hand or by another tool, and no plan manages it',
    })),
  ];
  const flags = Object.fromEntries(PLAN_FLAG_CODES.map((code) => [code, 0])) as Record<PlanFlagCode, number>;
  for (const change of exposureChanges) for (const flag of change.flags) flags[flag.code] += 1;
  const counts = { added: 0, removed: 0, changed: 0 };
  for (const change of exposureChanges) counts[change.kind] += 1;
  const reaches = reachChanges(desired.reaches ?? [], deployed.reaches ?? []);
  return {
    exposures: exposureChanges,
    reaches,
    rules,
    unmanaged,
    summary: {
      added: counts.added,
      removed: counts.removed,
      changed: counts.changed,
      unchanged,
      rulesAdded: rules.added.length,
      rulesRemoved: rules.removed.length,
      unmanaged: unmanaged.length,
      flags,
      // Unmanaged rules are in the rule diff already; tables have no lines there but count too.
      changes:
        exposureChanges.length > 0 ||
        reaches.length > 0 ||
        rules.added.length > 0 ||
        rules.removed.length > 0 ||
        unmanaged.length > 0,
    },
  };
}

/** A unified diff of ruleset lines, deployed to desired, three lines of context. */
export function diffRules(deployed: readonly string[], desired: readonly string[]): RuleDiff {
  const added: string[] = [];
  const removed: string[] = [];
  const out: string[] = [];
  const range = (start: number, count: number): string =>
    count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`;
  for (const hunk of diffLineHunks(deployed, desired, { context: 3 })) {
    out.push(`@@ -${range(hunk.oldStart, hunk.oldLines)} +${range(hunk.newStart, hunk.newLines)} @@`);
    for (const line of hunk.lines) {
      out.push(line);
      if (line.startsWith('+')) added.push(line.slice(1));
      else if (line.startsWith('-')) removed.push(line.slice(1));
    }
  }
  if (out.length === 0) return { unified: '', added, removed };
  return { unified: ['--- deployed', '+++ desired', ...out].map((line) => `${line}\n`).join(''), added, removed };
}

// -------------------------------------------------------------------------------------------------

type Comparable = Pick<
  Exposure,
  | 'container'
  | 'protocol'
  | 'family'
  | 'interface'
  | 'hostAddress'
  | 'hostPort'
  | 'containerAddress'
  | 'containerPort'
  | 'from'
> &
  Pick<DeployedExposure, 'outboundMissing'>;

/** Display texts of the compared fields, in canonical form so that equal means equal. */
interface Normalized {
  container: string;
  listen: string;
  family: string;
  protocol: string;
  hostPort: string;
  containerAddress: string;
  containerPort: string;
  from: string;
  /** `missing` when a deployed exposure lacks its pass out rule, else `present`. */
  outbound: string;
  identity: string;
}

function canonicalAddress(text: string | null): string | null {
  return text === null ? null : (parseAddress(text)?.text ?? text);
}

/**
 * Canonical forms of the addresses and networks of one plan, each parsed once: a container's
 * address is on both sides of a plan, and at 38,000 exposures the parsing shows.
 */
class CanonicalForms {
  private readonly addresses = new Map<string, string>();
  private readonly networks = new Map<string, string>();

  address(text: string): string {
    let canonical = this.addresses.get(text);
    if (canonical === undefined) {
      canonical = canonicalAddress(text) ?? text;
      this.addresses.set(text, canonical);
    }
    return canonical;
  }

  network(text: string): string {
    let canonical = this.networks.get(text);
    if (canonical === undefined) {
      canonical = parseNetwork(text)?.text ?? text;
      this.networks.set(text, canonical);
    }
    return canonical;
  }
}

function normalize(e: Comparable, forms: CanonicalForms): Normalized {
  const listen = listenText({
    interface: e.interface,
    hostAddress: e.hostAddress === null ? null : forms.address(e.hostAddress),
  });
  const from = [...new Set(e.from.map((n) => forms.network(n)))].sort(compareStrings);
  const n = {
    container: e.container,
    listen: e.interface === null ? listen : `if:${listen}`,
    family: e.family,
    protocol: e.protocol,
    hostPort: portsText(e.hostPort),
    containerAddress: forms.address(e.containerAddress),
    containerPort: portsText(e.containerPort),
    from: sourcesText(from),
    outbound: e.outboundMissing === true ? 'missing' : 'present',
  };
  return { ...n, identity: JSON.stringify(n) };
}

const fieldOrder: readonly ChangedField[] = [
  'container',
  'listen',
  'family',
  'protocol',
  'hostPort',
  'containerAddress',
  'containerPort',
  'from',
  'outbound',
];

function changedFields(d: Normalized, p: Normalized): FieldChange[] {
  const shown = (field: ChangedField, n: Normalized): string =>
    field === 'listen' ? n.listen.replace(/^if:/, '') : n[field];
  return fieldOrder
    .filter((field) => d[field] !== p[field])
    .map((field) => ({ field, before: shown(field, p), after: shown(field, d) }));
}

function flag(code: PlanFlagCode, message: string): PlanFlag {
  return { code, message };
}

/**
 * True when the exposure listens only on a loopback address (127.0.0.0/8, ::1): the renderer binds
 * those to lo0, so only the host itself reaches them, whatever the sources say.
 */
export function isLoopbackOnly(e: Pick<Exposure, 'interface' | 'hostAddress'>): boolean {
  if (e.interface !== null || e.hostAddress === null) return false;
  const address = canonicalAddress(e.hostAddress) ?? e.hostAddress;
  return address === '::1' || (parseAddress(address)?.family === 'inet' && address.startsWith('127.'));
}

function flagsOfAddition(e: Exposure, n: Normalized): PlanFlag[] {
  const flags: PlanFlag[] = [];
  if (e.from.length === 0 && !isLoopbackOnly(e)) flags.push(flag('open-to-all', 'newly reachable from any source'));
  if (e.family === 'inet6') flags.push(flag('ipv6-exposed', 'newly exposed over IPv6'));
  if (e.hostPort.start < 1024)
    flags.push(flag('privileged-port', `privileged host port ${n.hostPort} (below 1024) newly exposed`));
  return flags;
}

function flagsOfChange(d: Exposure, dn: Normalized, p: DeployedExposure, pn: Normalized): PlanFlag[] {
  const flags: PlanFlag[] = [];
  const wasLoopback = isLoopbackOnly(p);
  if (isLoopbackOnly(d)) {
    // Only the host itself reaches a loopback address: no source is newly admitted.
  } else if (wasLoopback) {
    // Listening on the network where only the host reached it before: every source is new.
    if (d.from.length === 0) {
      flags.push(flag('open-to-all', `newly reachable from any source (was loopback only, ${pn.listen})`));
    } else {
      flags.push(
        flag('sources-widened', `sources widened: ${dn.from} newly admitted (was loopback only, ${pn.listen})`),
      );
    }
  } else if (d.from.length === 0 && p.from.length > 0) {
    flags.push(flag('open-to-all', `newly reachable from any source (was ${pn.from})`));
  } else if (d.family === p.family) {
    // Across families the sources cannot be compared; the IPv6 flag says what matters then.
    const widened = widenedSources(p.from, d.from);
    if (widened.length > 0)
      flags.push(flag('sources-widened', `sources widened: ${widened.join(', ')} newly admitted`));
  }
  if (d.family === 'inet6' && p.family !== 'inet6') flags.push(flag('ipv6-exposed', 'newly exposed over IPv6'));
  const sameListenSide = dn.listen === pn.listen && dn.protocol === pn.protocol && dn.family === pn.family;
  const lowEnd = Math.min(d.hostPort.end, 1023);
  const newlyPrivileged =
    d.hostPort.start < 1024 && (!sameListenSide || d.hostPort.start < p.hostPort.start || lowEnd > p.hostPort.end);
  if (newlyPrivileged)
    flags.push(flag('privileged-port', `privileged host port ${dn.hostPort} (below 1024) newly exposed`));
  if (dn.hostPort !== pn.hostPort && (d.dynamic || p.dynamic === true)) {
    flags.push(
      flag(
        'dynamic-port-moved',
        `dynamic host port moved from ${pn.hostPort} to ${dn.hostPort}: clients that knew the old port lose it`,
      ),
    );
  }
  if (dn.container !== pn.container) {
    flags.push(
      flag(
        'container-changed',
        `host port ${hostSide(dn)} now leads to container ${dn.container} (was ${pn.container})`,
      ),
    );
  }
  if (dn.protocol !== pn.protocol) {
    flags.push(
      flag(
        'protocol-changed',
        `protocol changed from ${pn.protocol} to ${dn.protocol}: ${pn.protocol} clients lose the exposure, ${dn.protocol} is newly exposed`,
      ),
    );
  }
  return flags;
}

function hostSide(n: Normalized): string {
  return `${n.listen.replace(/^if:/, '')}:${n.hostPort}`;
}

function sortable(e: DeployedExposure): Exposure {
  return { ...e, dynamic: e.dynamic === true, source: e.source ?? { file: '', line: 0, column: 0 } };
}

const kindRank: Record<ExposureChange['kind'], number> = { removed: 0, changed: 1, added: 2 };
