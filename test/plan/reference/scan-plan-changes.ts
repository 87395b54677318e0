// Reference only (a test oracle): planChanges and diffRules as they were before pairing went through
// keyed queues and the line diff was bounded (the `diff` package's structuredPatch over the whole
// texts). The tests check that src/plan/plan-changes.ts gives the same plans where that one could
// finish; nothing in src/ may import this file.
// Compares the desired exposures and ruleset with the deployed ones and says what applying would
// change, in two views: exposures (paired, with the changed fields and the flags a reviewer must
// not miss) and ruleset lines (a unified diff).
import { structuredPatch } from 'diff';
import { compareStrings } from '../../../src/text/compare-strings.js';
import { compareExposures } from '../../../src/model/compare-exposures.js';
import type { Exposure } from '../../../src/model/exposure.js';
import { parsePfctlOutput, printRuleLines } from '../../../src/pf/parse-pfctl.js';
import { printRule } from '../../../src/pf/print-rule.js';
import type { ParsedRule } from '../../../src/pf/rule.js';
import { parseAddress, parseNetwork } from '../../../src/ports/address.js';
import { listenText, portsText, sourcesText } from '../../../src/plan/describe-exposure.js';
import { exposuresFromRules, unmanagedReason } from './nested-scan-pairing.js';
import { widenedSources } from '../../../src/plan/network-covers.js';
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
} from '../../../src/plan/plan.js';

export interface DesiredState {
  exposures: readonly Exposure[];
  /** Normalized ruleset lines (see rulesetLines): no comments, ports as numbers. */
  lines: readonly string[];
}

export interface DeployedState {
  exposures: readonly DeployedExposure[];
  lines: readonly string[];
  unmanaged: readonly ParsedRule[];
  /** Table names in the anchor (`pfctl -a ANCHOR -s Tables`): pfexpose never writes tables. */
  tables: readonly string[];
}

/** The desired side from a compiled ruleset text and its exposures. */
export function desiredState(exposures: readonly Exposure[], ruleset: string): DesiredState {
  return { exposures, lines: normalizedLines(parsePfctlOutput(ruleset).rules) };
}

/**
 * The deployed side from pfctl's printed form (-sn then -sr, -v or not) or a compiled ruleset, and
 * the names of the anchor's tables when pf was asked (every one of them is unmanaged).
 */
export function deployedFromText(text: string, tables: readonly string[] = []): DeployedState {
  const rules = parsePfctlOutput(text).rules;
  const { exposures, unmanaged } = exposuresFromRules(rules);
  return { exposures, lines: normalizedLines(rules), unmanaged, tables: [...tables].sort(compareStrings) };
}

/** The deployed side from exposures compiled at another revision: all of them are known. */
export function deployedFromCompiled(exposures: readonly Exposure[], ruleset: string): DeployedState {
  return { exposures, lines: normalizedLines(parsePfctlOutput(ruleset).rules), unmanaged: [], tables: [] };
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
  const want = [...desired.exposures].sort(compareExposures).map((e) => ({ e, n: normalize(e), paired: false }));
  const have = [...deployed.exposures]
    .map((e) => ({ e, n: normalize(e), paired: false }))
    .sort((a, b) => compareExposures(sortable(a.e), sortable(b.e)));
  const changes: ExposureChange[] = [];
  let unchanged = 0;

  const pass = (
    sameKey: (d: Normalized, p: Normalized) => boolean,
    preferences: ((d: Normalized, p: Normalized) => boolean)[],
    onPair: (d: (typeof want)[number], p: (typeof have)[number]) => void,
  ): void => {
    for (const d of want) {
      if (d.paired) continue;
      const candidates = have.filter((p) => !p.paired && sameKey(d.n, p.n));
      let choice = candidates[0];
      for (const prefer of preferences) {
        const better = candidates.find((p) => prefer(d.n, p.n));
        if (better !== undefined) {
          choice = better;
          break;
        }
      }
      if (choice === undefined) continue;
      d.paired = true;
      choice.paired = true;
      onPair(d, choice);
    }
  };
  const pairChanged = (d: (typeof want)[number], p: (typeof have)[number]): void => {
    const fields = changedFields(d.n, p.n);
    if (fields.length === 0) unchanged += 1;
    else
      changes.push({ kind: 'changed', desired: d.e, deployed: p.e, fields, flags: flagsOfChange(d.e, d.n, p.e, p.n) });
  };

  pass(
    (d, p) => d.identity === p.identity,
    [],
    () => {
      unchanged += 1;
    },
  );
  pass(
    (d, p) =>
      d.container === p.container &&
      d.containerPort === p.containerPort &&
      d.protocol === p.protocol &&
      d.family === p.family,
    [
      (d, p) => d.listen === p.listen && d.hostPort === p.hostPort,
      (d, p) => d.listen === p.listen,
      (d, p) => d.hostPort === p.hostPort,
    ],
    pairChanged,
  );
  pass(
    (d, p) => d.listen === p.listen && d.hostPort === p.hostPort,
    [
      (d, p) => d.family === p.family && d.protocol === p.protocol,
      (d, p) => d.family === p.family,
      (d, p) => d.protocol === p.protocol,
    ],
    pairChanged,
  );
  for (const d of want) {
    if (!d.paired)
      changes.push({ kind: 'added', desired: d.e, deployed: null, fields: [], flags: flagsOfAddition(d.e, d.n) });
  }
  for (const p of have) {
    if (!p.paired) changes.push({ kind: 'removed', desired: null, deployed: p.e, fields: [], flags: [] });
  }
  changes.sort(compareChanges);

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
  for (const change of changes) for (const flag of change.flags) flags[flag.code] += 1;
  const count = (kind: ExposureChange['kind']): number => changes.filter((c) => c.kind === kind).length;
  return {
    exposures: changes,
    reaches: [],
    rules,
    unmanaged,
    summary: {
      added: count('added'),
      removed: count('removed'),
      changed: count('changed'),
      unchanged,
      rulesAdded: rules.added.length,
      rulesRemoved: rules.removed.length,
      unmanaged: unmanaged.length,
      flags,
      // Unmanaged rules are in the rule diff already; tables have no lines there but count too.
      changes: changes.length > 0 || rules.added.length > 0 || rules.removed.length > 0 || unmanaged.length > 0,
    },
  };
}

/** A unified diff of ruleset lines, deployed to desired, three lines of context. */
export function diffRules(deployed: readonly string[], desired: readonly string[]): RuleDiff {
  const text = (lines: readonly string[]): string => lines.map((line) => `${line}\n`).join('');
  const patch = structuredPatch('deployed', 'desired', text(deployed), text(desired), '', '', { context: 3 });
  const added: string[] = [];
  const removed: string[] = [];
  const out: string[] = [];
  const range = (start: number, count: number): string =>
    count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`;
  for (const hunk of patch.hunks) {
    out.push(`@@ -${range(hunk.oldStart, hunk.oldLines)} +${range(hunk.newStart, hunk.newLines)} @@`);
    for (const line of hunk.lines) {
      if (line.startsWith('\\')) continue;
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
> & {
  outboundMissing?: true;
};

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
  outbound: string;
  identity: string;
}

function canonicalAddress(text: string | null): string | null {
  return text === null ? null : (parseAddress(text)?.text ?? text);
}

function normalize(e: Comparable): Normalized {
  const listen = listenText({ interface: e.interface, hostAddress: canonicalAddress(e.hostAddress) });
  const from = [...new Set(e.from.map((n) => parseNetwork(n)?.text ?? n))].sort(compareStrings);
  const n = {
    container: e.container,
    listen: e.interface === null ? listen : `if:${listen}`,
    family: e.family,
    protocol: e.protocol,
    hostPort: portsText(e.hostPort),
    containerAddress: canonicalAddress(e.containerAddress) ?? e.containerAddress,
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

function compareChanges(a: ExposureChange, b: ExposureChange): number {
  const ea = a.desired ?? sortable(a.deployed);
  const eb = b.desired ?? sortable(b.deployed);
  return compareExposures(ea, eb) || kindRank[a.kind] - kindRank[b.kind];
}
