// Diagnostics as one JSON document for tools: {"diagnostics":[{code, severity, message, file,
// line, column, endLine, endColumn}]}, keys in a fixed order, one diagnostic per array item.
import type { Diagnostic } from './diagnostic.js';

export function formatJson(diagnostics: readonly Diagnostic[]): string {
  const items = diagnostics.map((d) => ({
    code: d.code,
    severity: d.severity,
    message: d.message,
    file: d.file,
    line: d.line,
    column: d.column,
    endLine: d.endLine,
    endColumn: d.endColumn,
  }));
  return `${JSON.stringify({ diagnostics: items }, null, 2)}\n`;
}
