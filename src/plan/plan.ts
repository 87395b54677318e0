// The types of a plan: what would change between the deployed state and the desired ruleset, seen
// as exposures (what a reviewer judges) and as ruleset lines (what pf will actually get).
import type { Exposure, SourceLocation } from '../model/exposure.js';

/**
 * An exposure as found in the deployed state. Read back from pf rules, the dynamic flag and the
 * manifest location are unknown (null); compiled from a git revision, they are known.
 */
export interface DeployedExposure extends Omit<Exposure, 'dynamic' | 'source'> {
  dynamic: boolean | null;
  source: SourceLocation | null;
}

/** What a reviewer must not miss. */
export type PlanFlagCode =
  /** A new exposure open to every source, or one whose source restriction was dropped. */
  | 'open-to-all'
  /** Sources that the deployed exposure did not admit are now admitted. */
  | 'sources-widened'
  /** IPv6 traffic reaches a container where it did not before. */
  | 'ipv6-exposed'
  /** A host port below 1024 is exposed where it was not before. */
  | 'privileged-port'
  /** A host port the allocator chose is not the one deployed: clients that knew it lose it. */
  | 'dynamic-port-moved';

export const PLAN_FLAG_CODES: readonly PlanFlagCode[] = [
  'open-to-all',
  'sources-widened',
  'ipv6-exposed',
  'privileged-port',
  'dynamic-port-moved',
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
  | 'from';

export const CHANGED_FIELDS: readonly ChangedField[] = [
  'container',
  'listen',
  'family',
  'protocol',
  'hostPort',
  'containerAddress',
  'containerPort',
  'from',
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
  /** Line of the deployed text where the rule starts (1-based), or 0 when unknown. */
  line: number;
  /** The rule as pfctl prints it. */
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
  unmanaged: number;
  /** How many changes carry each flag. */
  flags: Record<PlanFlagCode, number>;
  /** True when applying would change anything: exposures or ruleset lines. */
  changes: boolean;
}

export interface Plan {
  /** Removed, changed and added exposures, sorted by the desired (else deployed) exposure. */
  exposures: ExposureChange[];
  rules: RuleDiff;
  /** Rules in the deployed anchor that pfexpose did not write; loading the plan replaces them. */
  unmanaged: UnmanagedRule[];
  summary: PlanSummary;
}

/** How the deployed state was obtained, for headers and the plan file. */
export type DeployedSource =
  | { kind: 'live'; anchor: string }
  | { kind: 'file'; path: string }
  | { kind: 'base'; ref: string; commit: string };
