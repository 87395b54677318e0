// The one shape every user-facing problem takes: a code from the registry, a severity, a message
// that says what is wrong and what would be right, and a 1-based position in a file.
import type { DiagnosticCode } from './codes.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  /** The file as the user named it, or relative to the working directory. */
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** JSON pointer into the document, when the problem sits in one. */
  pointer?: string;
  hint?: string;
}

/** A position inside one file, 1-based, end exclusive of nothing: end is the last column + 1. */
export interface SourceSpan {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/**
 * The file name of a diagnostic about a command-line option (--host, --gateway, --pool) rather than
 * a file. Formatters print such a diagnostic without a position (`pfexpose: error CODE ...`; in
 * json without file, line and column); sorting puts it first.
 */
export const COMMAND_LINE = '<command line>';

export function isCommandLine(d: Pick<Diagnostic, 'file'>): boolean {
  return d.file === COMMAND_LINE;
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    Number(isCommandLine(b)) - Number(isCommandLine(a)) ||
    compareStrings(a.file, b.file) ||
    a.line - b.line ||
    a.column - b.column ||
    compareStrings(a.code, b.code) ||
    compareStrings(a.message, b.message)
  );
}

/** Code-unit order, independent of locale: the same everywhere, so output is deterministic. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(compareDiagnostics);
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
