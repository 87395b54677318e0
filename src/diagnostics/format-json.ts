// Diagnostics as one JSON document for tools: {"diagnostics":[{code, severity, message, file,
// line, column, endLine, endColumn}]}, keys in a fixed order, one diagnostic per array item. A
// diagnostic about a command-line option (an unknown --host) has no position: it carries code,
// severity and message only.
import type { Diagnostic } from './diagnostic.js';
import { isCommandLine } from './diagnostic.js';

export function formatJson(diagnostics: readonly Diagnostic[]): string {
  const items = diagnostics.map((d) =>
    isCommandLine(d)
      ? { code: d.code, severity: d.severity, message: d.message }
      : {
          code: d.code,
          severity: d.severity,
          message: d.message,
          file: d.file,
          line: d.line,
          column: d.column,
          endLine: d.endLine,
          endColumn: d.endColumn,
        },
  );
  return `${JSON.stringify({ diagnostics: items }, null, 2)}\n`;
}
