// The types of a plan: what would change between the deployed state and the desired ruleset, seen
// as exposures (what a reviewer judges) and as ruleset lines (what pf will actually get).
import type { Exposure, SourceLocation } from '../model/exposure.js';
import type { ReachChange } from './reach-changes.js';

/**
 * An exposure as found in the deployed state. Read back from pf rules, the dynamic flag and the
 * manifest location are unknown (null); compiled from a git revision, they are known.
 */
export interface DeployedExposure extends Omit<Exposure, 'dynamic' | 'source'> {
  dynamic: boolean | null;
  source: SourceLocation | null;
  /**
   * Set when read back from FreeBSD rules whose rdr and pass in rules are deployed without the
   * pass out rule pfexpose now writes beside them (an anchor loaded by an older pfexpose): under a
   * default `block` the exposure does not reach a VNET container, so it is never unchanged.
   */
  outboundMissing?: true;
}

/** What a reviewer must not miss. */
export type PlanFlagCode =
  /**
   * Newly reachable from any source: a new exposure open to every source, one whose source
   * restriction was dropped, or one that listened only on a loopback address and now listens on
   * the network. An exposure that listens only on a loopback address is reachable from nowhere.
   */
  | 'open-to-all'
  /** Sources that the deployed exposure did not admit are now admitted. */
  | 'sources-widened'
  /** IPv6 traffic reaches a container where it did not before. */
  | 'ipv6-exposed'
  /** A host port below 1024 is exposed where it was not before. */
  | 'privileged-port'
  /** A host port the allocator chose is not the one deployed: clients that knew it lose it. */
  | 'dynamic-port-moved'
  /** The listen side and host port now lead to another container (another took the port over). */
  | 'container-changed'
  /** The exposure changed protocol: the old protocol's clients lose it, the new one is exposed. */
  | 'protocol-changed';

export const PLAN_FLAG_CODES: readonly PlanFlagCode[] = [
  'open-to-all',
  'sources-widened',
  'ipv6-exposed',
  'privileged-port',
  'dynamic-port-moved',
  'container-changed',
  'protocol-changed',
];

export interface PlanFlag {
  code: PlanFlagCode;
  message: string;
}

/** A property of an exposure that differs between the deployed and the desired side. */
export type ChangedField =
  | 'container'
  | 'listen'
  | 'family'
  | 'protocol'
  | 'hostPort'
  | 'containerAddress'
  | 'containerPort'
  | 'from'
  /** The deployed exposure lacks its pass out rule (see DeployedExposure.outboundMissing). */
  | 'outbound';

export const CHANGED_FIELDS: readonly ChangedField[] = [
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

export interface FieldChange {
  field: ChangedField;
  /** Display text of the deployed and the desired value. */
  before: string;
  after: string;
}

export type ExposureChange =
  | { kind: 'added'; desired: Exposure; deployed: null; fields: []; flags: PlanFlag[] }
  | { kind: 'removed'; desired: null; deployed: DeployedExposure; fields: []; flags: PlanFlag[] }
  | { kind: 'changed'; desired: Exposure; deployed: DeployedExposure; fields: FieldChange[]; flags: PlanFlag[] };

export interface RuleDiff {
  /** Unified diff (`--- deployed` / `+++ desired`), empty when the lines are equal. */
  unified: string;
  /** Lines only the desired ruleset has, in its order. */
  added: string[];
  /** Lines only the deployed ruleset has, in its order. */
  removed: string[];
}

export interface UnmanagedRule {
  /** A rule pfexpose did not write, or a table (pfexpose never writes tables). */
  kind: 'rule' | 'table';
  /** Line of the deployed text where the rule starts (1-based), or 0 when unknown (tables). */
  line: number;
  /** The rule as pfctl prints it, or `table <NAME>`. */
  text: string;
  reason: string;
}

export interface PlanSummary {
  added: number;
  removed: number;
  changed: number;
  unchanged: number;
  rulesAdded: number;
  rulesRemoved: number;
  /** Unmanaged rules and tables. */
  unmanaged: number;
  /** How many changes carry each flag. */
  flags: Record<PlanFlagCode, number>;
  /** True when applying would change anything: exposures, ruleset lines or unmanaged tables. */
  changes: boolean;
}

export interface Plan {
  /** Removed, changed and added exposures, sorted by the desired (else deployed) exposure. */
  exposures: ExposureChange[];
  /** Links and network reaches that change, by label (plan/reach-changes.ts). */
  reaches: ReachChange[];
  rules: RuleDiff;
  /**
   * Rules in the deployed anchor that pfexpose did not write (loading the plan replaces them), then
   * the anchor's tables (pfexpose never writes any).
   */
  unmanaged: UnmanagedRule[];
  summary: PlanSummary;
}

/** How the deployed state was obtained, for headers and the plan file. */
export type DeployedSource =
  { kind: 'live'; anchor: string } | { kind: 'file'; path: string } | { kind: 'base'; ref: string; commit: string };
