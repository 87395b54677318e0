// Positions in an imported file: offsets become file:line:column spans, and problems the port
// grammars find inside a field become diagnostics at that field's place in the file.
import { LineCounter } from 'yaml';
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import { located } from '../diagnostics/diagnostic.js';
import { spanAt } from '../manifest/source-span.js';
import type { PortSpecError } from '../ports/port-spec.js';

export interface SourcePlaces {
  file: string;
  /** The span of [start, end) in the text (UTF-16 offsets, end exclusive). */
  span(start: number, end: number): SourceSpan;
}

export function sourcePlaces(file: string, text: string): SourcePlaces {
  const lineCounter = new LineCounter();
  lineCounter.addNewLine(0);
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineCounter.addNewLine(i + 1);
  return { file, span: (start, end) => spanAt(lineCounter, file, start, end) };
}

/**
 * Grammar errors of one field as diagnostics: `place` maps offsets inside the field's text to the
 * file (a field of a line, a shell word, a YAML scalar). `what` prefixes the message with the
 * field it was found in when the grammar's own words do not name it.
 */
export function portDiagnostics(
  errors: readonly PortSpecError[],
  place: (start: number, end: number) => SourceSpan,
  what = '',
): Diagnostic[] {
  return errors.map((error) => located(error.code, place(error.start, error.end), `${what}${error.message}`));
}

/** Errors so far: a reader compares counts to tell whether a field it just read was usable. */
export function errorCount(diagnostics: readonly Diagnostic[]): number {
  return diagnostics.filter((d) => d.severity === 'error').length;
}
