// The plan for GitHub Actions: workflow annotations on the manifest lines that add or widen
// exposures, and the compile diagnostics, within GitHub's limit of 10 annotations per severity per
// step (counted over both); the markdown for the job summary.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import {
  AnnotationBudget,
  escapeGithubData,
  escapeGithubProperty,
  formatDiagnosticsGithub,
} from '../diagnostics/format-github.js';
import { exposureText } from './describe-exposure.js';
import { formatPlanMarkdown } from './format-plan-markdown.js';
import { fieldName } from './format-plan-text.js';
import type { ExposureChange, Plan } from './plan.js';
import { reachText } from './reach-changes.js';

export {
  AnnotationBudget,
  formatDiagnosticsGithub,
  MAX_ANNOTATIONS_PER_SEVERITY,
} from '../diagnostics/format-github.js';

export interface PlanGithubOptions {
  against: string;
  /** Diagnostics of the compile (warnings): annotated too, within the same limit. */
  diagnostics?: readonly Diagnostic[];
  /** Passed on to the markdown of the job summary. */
  fullPlanUrl?: string;
}

export interface PlanGithubOutput {
  /** Workflow commands, one a line. */
  annotations: string;
  /** How many annotations were left out over the limit, diagnostics and changes together. */
  omitted: number;
  /** The diagnostics left out, as text lines, so the log still has every one. */
  omittedDiagnostics: string;
  /** Markdown for $GITHUB_STEP_SUMMARY. */
  summary: string;
}

export function formatPlanGithub(plan: Plan, options: PlanGithubOptions): PlanGithubOutput {
  const budget = new AnnotationBudget();
  const lines: string[] = [];
  // Flagged changes take the warnings before the compile's warnings: a reviewer must not miss them.
  for (const change of plan.exposures) {
    if (change.desired === null || !addsOrWidens(change)) continue;
    const severity = change.flags.length > 0 ? 'warning' : 'notice';
    if (!budget.take(severity)) continue;
    const source = change.desired.source;
    const title = change.kind === 'added' ? 'pfexpose: exposure added' : 'pfexpose: exposure changed';
    const details = [
      exposureText(change.desired),
      ...change.fields.map((f) => `${fieldName[f.field]}: ${f.before} -> ${f.after}`),
      ...change.flags.map((f) => f.message),
    ];
    const properties = annotationProperties(source, title);
    lines.push(`::${severity} ${properties}::${escapeGithubData(details.join('\n'))}\n`);
  }
  for (const change of plan.reaches) {
    const source = change.desired[0]?.source;
    if (source === undefined || change.flags.length === 0 || !budget.take('warning')) continue;
    const title = change.kind === 'added' ? 'pfexpose: reach added' : 'pfexpose: reach widened';
    const properties = annotationProperties(source, title);
    const details = [reachText(change), ...change.flags.map((f) => f.message)];
    lines.push(`::warning ${properties}::${escapeGithubData(details.join('\n'))}\n`);
  }
  const diagnostics = formatDiagnosticsGithub(options.diagnostics ?? [], budget);
  return {
    annotations: `${lines.join('')}${diagnostics.annotations}`,
    omitted: budget.omitted,
    omittedDiagnostics: diagnostics.omittedText,
    summary: formatPlanMarkdown(plan, {
      against: options.against,
      ...(options.fullPlanUrl === undefined ? {} : { fullPlanUrl: options.fullPlanUrl }),
    }),
  };
}

/** The properties of a workflow command that annotates a manifest position. */
function annotationProperties(source: { file: string; line: number; column: number }, title: string): string {
  return [
    `file=${escapeGithubProperty(source.file)}`,
    `line=${source.line}`,
    `col=${source.column}`,
    `title=${escapeGithubProperty(title)}`,
  ].join(',');
}

/** Additions, flagged changes, and changes that open another listen side, port or protocol. */
function addsOrWidens(change: ExposureChange): boolean {
  if (change.kind === 'added') return true;
  if (change.kind !== 'changed') return false;
  if (change.flags.length > 0) return true;
  return change.fields.some(
    (f) => f.field === 'listen' || f.field === 'hostPort' || f.field === 'protocol' || f.field === 'family',
  );
}
