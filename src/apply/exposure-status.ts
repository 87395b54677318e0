// What `pfexpose status` (and the agent's per-exposure metrics) say about each exposure: where it
// listens and leads, whether pf holds it as the manifests say (drift), what pf counted for its label,
// and the state of its container. Pure: takes the plan of manifests against the live anchor, the
// label counters pfctl printed and the containers as observed.
import type { Exposure } from '../model/exposure.js';
import { formatListen } from '../model/format-listen.js';
import type { LabelCounters } from '../pf/pfctl-output.js';
import type { DeployedExposure, Plan } from '../plan/plan.js';
import { formatPortRange } from '../ports/port-number.js';
import { compareStrings } from '../text/compare-strings.js';
import type { ContainerState } from './check-containers.js';

/**
 * in-sync: pf holds the exposure as compiled; not-loaded: the manifests have it, pf does not;
 * differs: pf holds it otherwise (another port, address, sources...); not-in-manifests: pf holds an
 * exposure the manifests no longer have.
 */
export type Drift = 'in-sync' | 'not-loaded' | 'differs' | 'not-in-manifests';

/** The counts pf keeps for a label (see parseLabelCounters), without the label. */
export type Counters = Omit<LabelCounters, 'label'>;

export interface ExposureStatus {
  /** The label pf counts under: the deployed rule's when pf holds one, else the compiled one. */
  label: string;
  container: string;
  protocol: string;
  family: 'inet' | 'inet6';
  /** formatListen(): interface, host address or `any`. */
  listen: string;
  /** Host port or range. */
  port: string;
  containerAddress: string;
  containerPort: string;
  drift: Drift;
  /** The container's jail as jls shows it; unknown: no jls was asked, or it gave no answer. */
  containerState: ContainerState | 'unknown';
  /** null: pf holds no rule with this label (not loaded), or its counters could not be read. */
  counters: Counters | null;
}

type Side = Pick<
  Exposure,
  | 'container'
  | 'protocol'
  | 'family'
  | 'interface'
  | 'hostAddress'
  | 'hostPort'
  | 'containerAddress'
  | 'containerPort'
  | 'label'
>;

/**
 * One entry per exposure of the manifests, plus one per exposure pf holds that the manifests do
 * not, in the compiler's order then the extra ones by label. counters null: none could be read.
 */
export function exposureStatuses(
  desired: readonly Exposure[],
  plan: Plan,
  counters: readonly LabelCounters[] | null,
  stateOf: (container: string) => ContainerState | 'unknown' = () => 'unknown',
): ExposureStatus[] {
  const byLabel = new Map((counters ?? []).map((entry) => [entry.label, entry]));
  const countersOf = (label: string): Counters | null => {
    if (counters === null) return null;
    const found = byLabel.get(label);
    if (found === undefined) return null;
    const { label: _label, ...rest } = found;
    return rest;
  };
  const changeOf = new Map<string, Plan['exposures'][number]>();
  const extra: DeployedExposure[] = [];
  for (const change of plan.exposures) {
    if (change.desired !== null) changeOf.set(change.desired.label, change);
    else extra.push(change.deployed);
  }
  const rows = desired.map((exposure): ExposureStatus => {
    const change = changeOf.get(exposure.label);
    if (change === undefined) return row(exposure, 'in-sync', countersOf(exposure.label));
    if (change.kind === 'added') return row(exposure, 'not-loaded', null);
    const label = change.deployed?.label ?? exposure.label;
    return { ...row(exposure, 'differs', countersOf(label)), label };
  });
  const extraRows = extra
    .map((deployed) => row(deployed, 'not-in-manifests', countersOf(deployed.label)))
    .sort((a, b) => compareStrings(a.label, b.label));
  return [...rows, ...extraRows].map((status) => ({ ...status, containerState: stateOf(status.container) }));
}

function row(side: Side, drift: Drift, counters: Counters | null): ExposureStatus {
  return {
    label: side.label,
    container: side.container,
    protocol: side.protocol,
    family: side.family,
    listen: formatListen(side),
    port: formatPortRange(side.hostPort),
    containerAddress: side.containerAddress,
    containerPort: formatPortRange(side.containerPort),
    drift,
    containerState: 'unknown',
    counters,
  };
}

/** One exposure's counters as the agent exports them in /metrics. */
export interface ExposureSample {
  container: string;
  protocol: string;
  listen: string;
  port: string;
  counters: Counters;
}

/**
 * The counters of the exposures pf holds by their labels, in the compiler's order, at most limit
 * of them (the agent's /metrics stays bounded); dropped: how many more there were.
 */
export function exposureSamples(
  exposures: readonly Exposure[],
  counters: readonly LabelCounters[],
  limit: number,
): { samples: ExposureSample[]; dropped: number } {
  const byLabel = new Map(counters.map((entry) => [entry.label, entry]));
  const samples: ExposureSample[] = [];
  for (const exposure of exposures) {
    const found = byLabel.get(exposure.label);
    if (found === undefined) continue;
    const { label: _label, ...rest } = found;
    samples.push({
      container: exposure.container,
      protocol: exposure.protocol,
      listen: formatListen(exposure),
      port: formatPortRange(exposure.hostPort),
      counters: rest,
    });
  }
  return { samples: samples.slice(0, limit), dropped: Math.max(0, samples.length - limit) };
}
