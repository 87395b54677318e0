// The agent's health, computed in one place from the facts the agent and its metrics hold. The
// statuses are a closed set; when several facts hold at once the most severe decides the status
// (see HEALTH_STATUSES), and the other problems are named in its reason after "; also, ".

/** Every status /healthz can answer, most severe first; healthy ones answer 200, the others 503. */
export const HEALTH_STATUSES = [
  'stalled',
  'manifests-unsettled',
  'confirm-revert-failed',
  'apply-failed',
  'apply-refused',
  'preflight-failed',
  'anchor-unreadable',
  'pull-failed',
  'drift',
  'held',
  'awaiting-confirmation',
  'manifests-invalid',
  'starting',
  'ok',
] as const;

export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** What stops the agent from keeping the anchor as it should be (503), set by a cycle. */
export type AnchorProblemStatus = Extract<
  HealthStatus,
  'confirm-revert-failed' | 'apply-failed' | 'apply-refused' | 'preflight-failed' | 'anchor-unreadable'
>;

/** What the last cycle found about the anchor: null before any cycle has said. */
export type AnchorFact =
  | { status: 'ok' }
  | { status: 'held' | 'awaiting-confirmation' | 'drift'; reason: string }
  | { status: AnchorProblemStatus; reason: string };

export interface AgentHealth {
  healthy: boolean;
  status: HealthStatus;
  /** Why it is not ok, for people; null while ok or starting. */
  reason: string | null;
}

export interface HealthFacts {
  anchor: AnchorFact | null;
  /** The manifests as they are now do not compile (the deployed ruleset stays). */
  manifestsInvalid: boolean;
  /** Why the last git pull failed; null: none failed since the last that worked. */
  pullFailure?: string | null;
  /** A cycle or pull has been running longer than it may: how long, rounded for people. */
  stalledFor?: string | null;
  /** Files have kept changing longer than they may: how many and how long. */
  unsettled?: { files: number; for: string } | null;
}

export const MANIFESTS_INVALID = 'the manifests are invalid; the deployed ruleset stays';

/** The least severe status that answers 503: it and those before it in HEALTH_STATUSES are unhealthy. */
const LEAST_SEVERE_UNHEALTHY = HEALTH_STATUSES.indexOf('pull-failed');

export function isHealthy(status: HealthStatus): boolean {
  return HEALTH_STATUSES.indexOf(status) > LEAST_SEVERE_UNHEALTHY;
}

/** Orders statuses by severity: negative when a is more severe than b. */
export function compareSeverity(a: HealthStatus, b: HealthStatus): number {
  return HEALTH_STATUSES.indexOf(a) - HEALTH_STATUSES.indexOf(b);
}

/**
 * The health the facts add up to. A stuck cycle or unsettled files say only that (nothing else is
 * current). An anchor problem names invalid manifests and a failing pull beside it; a failing pull
 * alone outranks the healthy states; of those, a drift left in place, a hold and an open confirm
 * window outrank invalid manifests, which the anchor's state then implies.
 */
export function agentHealth(facts: HealthFacts): AgentHealth {
  if (facts.stalledFor != null) {
    return unhealthy(
      'stalled',
      `the agent's current cycle has been running for ${facts.stalledFor}: nothing is being reconciled`,
    );
  }
  if (facts.unsettled != null) {
    return unhealthy(
      'manifests-unsettled',
      `${facts.unsettled.files} manifest file(s) have kept changing for ${facts.unsettled.for}: nothing is applied until they stay unchanged for the settle period`,
    );
  }
  const pull =
    facts.pullFailure == null
      ? null
      : `the last git pull failed (the agent goes on with the checkout it has): ${facts.pullFailure}`;
  const anchor = facts.anchor;
  if (anchor !== null && anchor.status !== 'ok' && !isHealthy(anchor.status)) {
    const reasons = [anchor.reason];
    if (facts.manifestsInvalid) reasons.push(MANIFESTS_INVALID);
    if (pull !== null) reasons.push(pull);
    return unhealthy(anchor.status, reasons.join('; also, '));
  }
  if (pull !== null) return unhealthy('pull-failed', pull);
  if (anchor !== null && anchor.status !== 'ok') return { healthy: true, status: anchor.status, reason: anchor.reason };
  if (facts.manifestsInvalid) return { healthy: true, status: 'manifests-invalid', reason: MANIFESTS_INVALID };
  return { healthy: true, status: anchor === null ? 'starting' : 'ok', reason: null };
}

function unhealthy(status: HealthStatus, reason: string): AgentHealth {
  return { healthy: false, status, reason };
}
