// Builds the error values the port grammars return. Codes are typed against the registry so a
// grammar cannot emit a code that the table in docs/reference/diagnostics.md does not document.
import type { PortCode } from '../diagnostics/codes-ports.js';
import type { PortSpecError } from './port-spec.js';

export function portError(code: PortCode, message: string, start: number, end: number): PortSpecError {
  return { code, message, start, end };
}

/** Moves errors found inside a token to their place in the whole spec. */
export function shiftErrors(errors: readonly PortSpecError[], offset: number): PortSpecError[] {
  return errors.map((e) => ({ ...e, start: e.start + offset, end: e.end + offset }));
}

/** Errors for white space anywhere in a spec, one per run, so every run is pointed at. */
export function whitespaceErrors(text: string): PortSpecError[] {
  const errors: PortSpecError[] = [];
  if (!/\s/u.test(text)) return errors;
  for (const match of text.matchAll(/\s+/gu)) {
    const start = match.index;
    errors.push(
      portError(
        'port-whitespace',
        'a port spec may not contain white space: remove it (write 8080:80, not 8080 : 80)',
        start,
        start + match[0].length,
      ),
    );
  }
  return errors;
}
