// The plan for GitHub Actions: workflow annotations on the manifest lines that add or widen
// exposures (GitHub shows at most 10 per severity per step), and the markdown for the job summary.
import { escapeGithubData, escapeGithubProperty } from '../diagnostics/format-github.js';
import { exposureText } from './describe-exposure.js';
import { formatPlanMarkdown } from './format-plan-markdown.js';
import { fieldName } from './format-plan-text.js';
import type { ExposureChange, Plan } from './plan.js';

export const MAX_ANNOTATIONS_PER_SEVERITY = 10;

export interface PlanGithubOutput {
  /** Workflow commands, one a line. */
  annotations: string;
  /** How many annotations were left out over the limit. */
  omitted: number;
  /** Markdown for $GITHUB_STEP_SUMMARY. */
  summary: string;
}

export function formatPlanGithub(plan: Plan, options: { against: string }): PlanGithubOutput {
  const counts = { warning: 0, notice: 0 };
  let omitted = 0;
  const lines: string[] = [];
  for (const change of plan.exposures) {
    if (change.desired === null || !addsOrWidens(change)) continue;
    const severity = change.flags.length > 0 ? 'warning' : 'notice';
    if (counts[severity] >= MAX_ANNOTATIONS_PER_SEVERITY) {
      omitted += 1;
      continue;
    }
    counts[severity] += 1;
    const source = change.desired.source;
    const title = change.kind === 'added' ? 'pfexpose: exposure added' : 'pfexpose: exposure changed';
    const details = [
      exposureText(change.desired),
      ...change.fields.map((f) => `${fieldName[f.field]}: ${f.before} -> ${f.after}`),
      ...change.flags.map((f) => f.message),
    ];
    const properties = [
      `file=${escapeGithubProperty(source.file)}`,
      `line=${source.line}`,
      `col=${source.column}`,
      `title=${escapeGithubProperty(title)}`,
    ].join(',');
    lines.push(`::${severity} ${properties}::${escapeGithubData(details.join('\n'))}\n`);
  }
  return { annotations: lines.join(''), omitted, summary: formatPlanMarkdown(plan, { against: options.against }) };
}

/** Additions, flagged changes, and changes that open another listen side, port or protocol. */
function addsOrWidens(change: ExposureChange): boolean {
  if (change.kind === 'added') return true;
  if (change.kind !== 'changed') return false;
  if (change.flags.length > 0) return true;
  return change.fields.some((f) => f.field === 'listen' || f.field === 'hostPort' || f.field === 'protocol' || f.field === 'family');
}
