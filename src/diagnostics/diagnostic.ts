// The one shape every user-facing problem takes: a code from the registry, a severity, a message
// that says what is wrong and what would be right, and a 1-based position in a file.
import { compareStrings } from '../text/compare-strings.js';
import type { DiagnosticCode } from './codes.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  /** The file as the user named it, or relative to the working directory. */
  file: string;
  /** 1-based; 0 in a path diagnostic (see isPathDiagnostic): the path itself, no place in a text. */
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

export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(compareDiagnostics);
}

/**
 * A path diagnostic is about a path given on the command line as a whole (it does not exist, or
 * holds no manifest), not about a place in a file: it has no line (0, and column 0), and prints as
 * `pfexpose: PATH: error CODE message` rather than `PATH:1:1: ...`.
 */
export function isPathDiagnostic(d: Pick<Diagnostic, 'line'>): boolean {
  return d.line === 0;
}

/** The one constructor of a diagnostic at a place in a file (every stage builds them with it). */
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

/** A diagnostic about a command-line option (--host, --gateway, --pool) rather than a file. */
export function atCommandLine(code: DiagnosticCode, message: string, hint?: string): Diagnostic {
  return located(code, { file: COMMAND_LINE, line: 1, column: 1, endLine: 1, endColumn: 1 }, message, hint);
}

/** The start of a file: where a document-level fact without a span of its own is reported. */
export function fileStart(file: string): SourceSpan {
  return { file, line: 1, column: 1, endLine: 1, endColumn: 1 };
}

/** A path diagnostic (see isPathDiagnostic). */
export function atPath(code: DiagnosticCode, file: string, message: string, hint?: string): Diagnostic {
  return {
    code,
    severity: 'error',
    message,
    file,
    line: 0,
    column: 0,
    endLine: 0,
    endColumn: 0,
    ...(hint === undefined ? {} : { hint }),
  };
}

/** Where a diagnostic is, for one-line forms (logs): `FILE:LINE:COLUMN`, the path alone, or `pfexpose` for the command line. */
export function diagnosticPlace(d: Pick<Diagnostic, 'file' | 'line' | 'column'>): string {
  if (isCommandLine(d)) return 'pfexpose';
  return isPathDiagnostic(d) ? d.file : `${d.file}:${d.line}:${d.column}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
