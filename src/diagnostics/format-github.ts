// Diagnostics as GitHub Actions workflow commands (`::error file=...::message`), which the runner
// turns into annotations on the pull request's lines.

import type { Diagnostic } from './diagnostic.js';
import { isCommandLine, isPathDiagnostic } from './diagnostic.js';
import { formatText } from './format-text.js';

/** GitHub shows at most this many annotations of one severity per step, and drops the rest. */
export const MAX_ANNOTATIONS_PER_SEVERITY = 10;

type AnnotationSeverity = 'error' | 'warning' | 'notice';

/** Counts annotations per severity over one step and says whether one more may be written. */
export class AnnotationBudget {
  private readonly counts: Record<AnnotationSeverity, number> = { error: 0, warning: 0, notice: 0 };
  omitted = 0;

  take(severity: AnnotationSeverity): boolean {
    if (this.counts[severity] >= MAX_ANNOTATIONS_PER_SEVERITY) {
      this.omitted += 1;
      return false;
    }
    this.counts[severity] += 1;
    return true;
  }
}

/** Diagnostics as annotations while the budget lasts; the rest as text lines. */
export function formatDiagnosticsGithub(
  diagnostics: readonly Diagnostic[],
  budget: AnnotationBudget,
): { annotations: string; omittedText: string } {
  let annotations = '';
  const left: Diagnostic[] = [];
  for (const diagnostic of diagnostics) {
    if (budget.take(diagnostic.severity)) annotations += formatGithub([diagnostic]);
    else left.push(diagnostic);
  }
  return { annotations, omittedText: formatText(left) };
}

/**
 * validate's github format: annotations within GitHub's limit, then every diagnostic past it as a
 * text line (so the log still has them all) and a notice saying how many were not annotated.
 */
export function formatValidateGithub(diagnostics: readonly Diagnostic[]): string {
  const budget = new AnnotationBudget();
  const { annotations, omittedText } = formatDiagnosticsGithub(diagnostics, budget);
  if (budget.omitted === 0) return annotations;
  const notice = `::notice title=pfexpose::${budget.omitted} more diagnostic(s) are not annotated (GitHub shows ${MAX_ANNOTATIONS_PER_SEVERITY} per severity per step); all are listed in this log\n`;
  return `${annotations}${omittedText}${notice}`;
}

/** Escapes a command's message: `%`, CR and LF would otherwise end or corrupt the command. */
export function escapeGithubData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a property value, where `:` and `,` also separate fields. */
export function escapeGithubProperty(text: string): string {
  return escapeGithubData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function formatGithub(diagnostics: readonly Diagnostic[]): string {
  return diagnostics
    .map((d) => {
      const message = d.hint === undefined ? d.message : `${d.message}\n${d.hint}`;
      // No line to annotate: a path (which may not even exist) is named in the text; a command-line
      // problem is annotated on the run.
      if (isPathDiagnostic(d)) {
        return `::${d.severity} title=${escapeGithubProperty(d.code)}::${escapeGithubData(`${d.file}: ${message}`)}\n`;
      }
      const position = isCommandLine(d)
        ? []
        : [
            `file=${escapeGithubProperty(d.file)}`,
            `line=${d.line}`,
            `col=${d.column}`,
            `endLine=${d.endLine}`,
            `endColumn=${d.endColumn}`,
          ];
      const properties = [...position, `title=${escapeGithubProperty(d.code)}`].join(',');
      return `::${d.severity} ${properties}::${escapeGithubData(message)}\n`;
    })
    .join('');
}
