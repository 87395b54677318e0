// The plan for CI tools that read findings, not prose: SARIF 2.1.0 (code scanning) with a result
// per flag a change carries (and per policy it breaks), at the manifest line that makes the change,
// beside the compile's diagnostics; and JUnit XML with a test case per changed exposure or reach,
// failing when it carries a flag, beside a case per manifest file for the diagnostics.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { diagnosticCases, junitXml, type JunitCase } from '../diagnostics/format-junit.js';
import { sarifLog, type SarifResult, type SarifRule } from '../diagnostics/format-sarif.js';
import { exposureText } from './describe-exposure.js';
import { flagText } from './format-plan-markdown.js';
import { PLAN_FLAG_CODES, type Plan } from './plan.js';
import type { PolicyViolation } from './policy.js';
import { reachText } from './reach-changes.js';

export interface PlanCiOptions {
  version: string;
  /** A path as the CI tool should name it (from the repository root). */
  uri: (file: string) => string;
  diagnostics: readonly Diagnostic[];
  violations: readonly PolicyViolation[];
}

const REACH_FLAGS: [string, string][] = [
  ['reach-opened', 'a link or network reach opened'],
  ['reach-widened', 'a link or network reach widened'],
];

function location(source: { file: string; line: number; column: number }, uri: (file: string) => string): unknown[] {
  return [
    {
      physicalLocation: {
        artifactLocation: { uri: uri(source.file), uriBaseId: '%SRCROOT%' },
        region: { startLine: source.line, startColumn: source.column },
      },
    },
  ];
}

export function formatPlanSarif(plan: Plan, options: PlanCiOptions): string {
  const rules: SarifRule[] = [
    ...PLAN_FLAG_CODES.map((code) => ({
      id: `plan/${code}`,
      shortDescription: { text: flagText[code] },
      help: { text: `A plan flag: ${flagText[code]}. See README, "pfexpose plan".` },
    })),
    ...REACH_FLAGS.map(([code, text]) => ({
      id: `plan/${code}`,
      shortDescription: { text },
      help: { text: `A plan flag: ${text}.` },
    })),
    ...options.violations.map((v) => ({
      id: `policy/${v.policy}`,
      shortDescription: { text: `plan --fail-on ${v.policy}` },
      help: { text: `The plan breaks the policy ${v.policy} that --fail-on names.` },
    })),
  ];
  const results: SarifResult[] = [];
  for (const change of plan.exposures) {
    if (change.desired === null) continue;
    for (const flag of change.flags) {
      results.push({
        ruleId: `plan/${flag.code}`,
        level: 'warning',
        message: { text: `${exposureText(change.desired)}: ${flag.message}` },
        locations: location(change.desired.source, options.uri),
      });
    }
  }
  for (const change of plan.reaches) {
    const source = change.desired[0]?.source;
    for (const flag of change.flags) {
      results.push({
        ruleId: `plan/${flag.code}`,
        level: 'warning',
        message: { text: `${reachText(change)}: ${flag.message}` },
        ...(source === undefined ? {} : { locations: location(source, options.uri) }),
      });
    }
  }
  for (const v of options.violations) {
    results.push({
      ruleId: `policy/${v.policy}`,
      level: 'error',
      message: { text: `policy ${v.policy} violated by ${v.count} change(s): ${v.changes.join('; ')}` },
    });
  }
  const log = sarifLog(options.diagnostics, {
    version: options.version,
    uri: options.uri,
    extraRules: rules,
    extraResults: results,
  });
  return `${JSON.stringify(log, null, 2)}\n`;
}

export function formatPlanJunit(plan: Plan, files: readonly string[], options: PlanCiOptions): string {
  const cases: JunitCase[] = [
    ...diagnosticCases(files, options.diagnostics, options.uri),
    ...plan.exposures.map((change) => {
      const shown = change.desired ?? change.deployed;
      return {
        name: `${change.kind} ${shown.label}`,
        failures: change.flags.map((f) => `${exposureText(shown)}: ${f.message}`),
        output: [`${change.kind} ${exposureText(shown)}`],
      };
    }),
    ...plan.reaches.map((change) => ({
      name: `${change.kind} ${change.label}`,
      failures: change.flags.map((f) => `${reachText(change)}: ${f.message}`),
      output: [`${change.kind} ${reachText(change)}`],
    })),
    ...options.violations.map((v) => ({
      name: `policy ${v.policy}`,
      failures: [`policy ${v.policy} violated by ${v.count} change(s)`, ...v.changes],
      output: [],
    })),
  ];
  return junitXml('pfexpose plan', cases);
}
