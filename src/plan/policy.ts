// `plan --fail-on POLICY[,POLICY]`: gates a pipeline on what a reviewer must not let through. Each
// policy names the plan flags (or any change) it fails on; a violation names the policy and the
// changes that broke it, in every output format.
import { exposureText } from './describe-exposure.js';
import type { Plan, PlanFlagCode } from './plan.js';
import { reachText } from './reach-changes.js';

export type Policy = 'open-to-all' | 'privileged-port' | 'widened' | 'any-change';

export const POLICIES: readonly Policy[] = ['open-to-all', 'privileged-port', 'widened', 'any-change'];

/** What each policy fails on, for --help and docs/guide/operating.md. */
export const POLICY_MEANING: Record<Policy, string> = {
  'open-to-all': 'an exposure newly reachable from every source (flag open-to-all)',
  'privileged-port': 'a host port below 1024 newly exposed (flag privileged-port)',
  widened:
    'anything newly admitted: sources widened, IPv6 newly exposed, a link or network reach opened or widened, or open-to-all',
  'any-change': 'any change at all (what exit code 2 says, as a failure)',
};

const EXPOSURE_FLAGS: Record<Exclude<Policy, 'any-change'>, readonly PlanFlagCode[]> = {
  'open-to-all': ['open-to-all'],
  'privileged-port': ['privileged-port'],
  widened: ['open-to-all', 'sources-widened', 'ipv6-exposed'],
};

export interface PolicyViolation {
  policy: Policy;
  /** One line per change that breaks it (at most a few are named; `count` says how many). */
  changes: string[];
  count: number;
}

/** Parses `a,b` into policies, or says which word is not one. */
export function parsePolicies(text: string): { ok: true; policies: Policy[] } | { ok: false; message: string } {
  const words = text
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w !== '');
  if (words.length === 0) return { ok: false, message: `--fail-on needs a policy: ${POLICIES.join(', ')}` };
  const policies: Policy[] = [];
  for (const word of words) {
    const policy = POLICIES.find((p) => p === word);
    if (policy === undefined)
      return { ok: false, message: `--fail-on ${JSON.stringify(word)} is not a policy: use ${POLICIES.join(', ')}` };
    if (!policies.includes(policy)) policies.push(policy);
  }
  return { ok: true, policies };
}

const NAMED = 5;

/** The policies the plan breaks, in the order given. */
export function policyViolations(plan: Plan, policies: readonly Policy[]): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  for (const policy of policies) {
    const lines =
      policy === 'any-change'
        ? plan.summary.changes
          ? [
              ...plan.exposures.map((c) => `${c.kind} ${exposureText(c.desired ?? c.deployed)}`),
              ...plan.reaches.map((c) => `${c.kind} ${reachText(c)}`),
              ...(plan.exposures.length + plan.reaches.length === 0 ? ['the ruleset lines or unmanaged rules'] : []),
            ]
          : []
        : [
            ...plan.exposures
              .filter((c) => c.flags.some((f) => EXPOSURE_FLAGS[policy].includes(f.code)))
              .map((c) => `${c.kind} ${exposureText(c.desired ?? c.deployed)}`),
            ...(policy === 'widened'
              ? plan.reaches.filter((c) => c.flags.length > 0).map((c) => `${c.kind} ${reachText(c)}`)
              : []),
          ];
    if (lines.length > 0) violations.push({ policy, changes: lines.slice(0, NAMED), count: lines.length });
  }
  return violations;
}

/** The text lines of the violations, for text, markdown and github outputs. */
export function violationLines(violations: readonly PolicyViolation[]): string[] {
  return violations.flatMap((v) => [
    `policy ${v.policy} violated by ${v.count} change(s):`,
    ...v.changes.map((c) => `  ${c}`),
    ...(v.count > v.changes.length ? [`  ... and ${v.count - v.changes.length} more`] : []),
  ]);
}
