// The plan as JSON, a documented and stable contract (formatVersion 1): summary, both views,
// unmanaged rules and what the plan was computed against. Keys are written in a fixed order.
import { exposureJson } from '../model/exposure-json.js';
import type { DeployedSource, ExposureChange, Plan } from './plan.js';
import { reachChangeJson } from './reach-changes.js';

export const PLAN_JSON_VERSION = 1;

export interface PlanJsonOptions {
  deployed: DeployedSource;
  /** sha256 of the normalized deployed state (see fingerprintDeployed). */
  fingerprint: string;
}

export function planToJson(plan: Plan, options: PlanJsonOptions): unknown {
  const s = plan.summary;
  return {
    formatVersion: PLAN_JSON_VERSION,
    changes: s.changes,
    summary: {
      added: s.added,
      changed: s.changed,
      removed: s.removed,
      unchanged: s.unchanged,
      rulesAdded: s.rulesAdded,
      rulesRemoved: s.rulesRemoved,
      unmanaged: s.unmanaged,
      flags: { ...s.flags },
    },
    deployed: { ...deployedSourceJson(options.deployed), fingerprint: options.fingerprint },
    exposures: plan.exposures.map(changeJson),
    // Present only when links or network reaches change, so plans without them read as before.
    ...(plan.reaches.length === 0 ? {} : { reaches: plan.reaches.map(reachChangeJson) }),
    rules: { diff: plan.rules.unified, added: [...plan.rules.added], removed: [...plan.rules.removed] },
    unmanaged: plan.unmanaged.map((rule) => ({
      kind: rule.kind,
      line: rule.line,
      rule: rule.text,
      reason: rule.reason,
    })),
  };
}

export function formatPlanJson(plan: Plan, options: PlanJsonOptions): string {
  return `${JSON.stringify(planToJson(plan, options), null, 2)}\n`;
}

export function deployedSourceJson(source: DeployedSource): Record<string, string> {
  switch (source.kind) {
    case 'live':
      return { source: 'live', anchor: source.anchor };
    case 'file':
      return { source: 'file', path: source.path };
    case 'base':
      return { source: 'base', ref: source.ref, commit: source.commit };
  }
}

function changeJson(change: ExposureChange): unknown {
  return {
    change: change.kind,
    desired: change.desired === null ? null : exposureJson(change.desired),
    deployed: change.deployed === null ? null : exposureJson(change.deployed),
    fields: change.fields.map((f) => ({ field: f.field, before: f.before, after: f.after })),
    flags: change.flags.map((f) => ({ code: f.code, message: f.message })),
  };
}
