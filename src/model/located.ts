// Small constructors for the model's diagnostics: at a manifest span, or at the command line when
// the problem lies in an option (--host, --gateway, --pool) rather than in a file.
import type { DiagnosticCode } from '../diagnostics/codes.js';
import { COMMAND_LINE } from '../diagnostics/diagnostic.js';
import type { Diagnostic, Severity, SourceSpan } from '../diagnostics/diagnostic.js';

export { COMMAND_LINE };

export function located(
  code: DiagnosticCode,
  span: SourceSpan,
  message: string,
  hint?: string,
  severity: Severity = 'error',
): Diagnostic {
  return {
    code,
    severity,
    message,
    file: span.file,
    line: span.line,
    column: span.column,
    endLine: span.endLine,
    endColumn: span.endColumn,
    ...(hint === undefined ? {} : { hint }),
  };
}

export function atCommandLine(code: DiagnosticCode, message: string, hint?: string): Diagnostic {
  return located(code, { file: COMMAND_LINE, line: 1, column: 1, endLine: 1, endColumn: 1 }, message, hint);
}

/** The start of a file: where a document-level fact without a span of its own is reported. */
export function fileStart(file: string): SourceSpan {
  return { file, line: 1, column: 1, endLine: 1, endColumn: 1 };
}

export function compareSpans(a: SourceSpan, b: SourceSpan): number {
  return (
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
    a.line - b.line ||
    a.column - b.column ||
    a.endLine - b.endLine ||
    a.endColumn - b.endColumn
  );
}

export function formatSpan(span: { file: string; line: number; column: number }): string {
  return `${span.file}:${span.line}:${span.column}`;
}

export function formatRange(range: { start: number; end: number }): string {
  return range.start === range.end ? `${range.start}` : `${range.start}-${range.end}`;
}
