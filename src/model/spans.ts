// Source spans and port ranges as messages show them, and the order of spans. (The diagnostic
// constructors, located and atCommandLine, live in diagnostics/diagnostic.ts.)
import type { SourceSpan } from '../diagnostics/diagnostic.js';

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
