// Diagnostics for people: `file:line:col: error CODE message`, and on a terminal a code frame
// with a caret under the span and the hint. Nothing from the file reaches the terminal raw:
// control characters in source lines and file names are shown escaped.
import type { Diagnostic } from './diagnostic.js';
import { isCommandLine, isPathDiagnostic } from './diagnostic.js';
import { escapeUnprintable, replaceUnprintable } from '../text/quote-text.js';

export interface TextFormatOptions {
  /** Show the source line with carets (on a terminal). */
  codeFrame?: boolean;
  color?: boolean;
  /** The text of each file, by the name diagnostics carry, for code frames. */
  sources?: ReadonlyMap<string, string>;
}

const RESET = '\u001b[0m';
const STYLE = { error: '\u001b[31;1m', warning: '\u001b[33;1m', dim: '\u001b[2m', caret: '\u001b[31m' } as const;

export function formatText(diagnostics: readonly Diagnostic[], options: TextFormatOptions = {}): string {
  const paint = (style: string, text: string): string => (options.color === true ? `${style}${text}${RESET}` : text);
  let out = '';
  // Each file's lines, split once however many diagnostics it has.
  const linesOf = new Map<string, string[]>();
  for (const d of diagnostics) {
    const severity = paint(STYLE[d.severity], d.severity);
    // Without a code frame the hint joins the line, so one line per diagnostic still names the fix.
    const inlineHint = options.codeFrame !== true && d.hint !== undefined ? ` (hint: ${showPrintable(d.hint)})` : '';
    // A problem of a command-line option has no place in a file: it is said the way usage errors are;
    // a path diagnostic has no line to point at: it is said the way Unix tools say a bad path.
    const where = isCommandLine(d)
      ? 'pfexpose'
      : isPathDiagnostic(d)
        ? `pfexpose: ${showPrintable(d.file)}`
        : `${showPrintable(d.file)}:${d.line}:${d.column}`;
    out += `${where}: ${severity} ${d.code} ${showPrintable(d.message)}${inlineHint}\n`;
    if (options.codeFrame !== true) continue;
    const frame =
      isCommandLine(d) || isPathDiagnostic(d) ? null : codeFrame(d, sourceLines(linesOf, d.file, options.sources));
    if (frame !== null) {
      out += `${paint(STYLE.dim, frame.gutter)}${frame.line}\n`;
      out += `${paint(STYLE.dim, frame.blank)}${paint(STYLE.caret, frame.carets)}\n`;
    }
    if (d.hint !== undefined) out += `  ${paint(STYLE.dim, 'hint:')} ${showPrintable(d.hint)}\n`;
  }
  return out;
}

interface Frame {
  gutter: string;
  blank: string;
  line: string;
  carets: string;
}

function sourceLines(
  cache: Map<string, string[]>,
  file: string,
  sources: ReadonlyMap<string, string> | undefined,
): string[] | undefined {
  const known = cache.get(file);
  if (known !== undefined) return known;
  const text = sources?.get(file);
  if (text === undefined) return undefined;
  const lines = text.split(/\r?\n|\r/);
  cache.set(file, lines);
  return lines;
}

function codeFrame(d: Diagnostic, lines: readonly string[] | undefined): Frame | null {
  if (lines === undefined) return null;
  const source = lines[d.line - 1];
  if (source === undefined) return null;
  const number = String(d.line);
  let start = Math.max(1, d.column);
  // A span over several lines is underlined to the end of its first line.
  let end = d.endLine === d.line ? Math.max(d.endColumn, start + 1) : source.length + 1;
  let shown = printableLine(source);
  // A long line (a minified value, a huge string) is shown as a window around the column, so one
  // diagnostic never floods the terminal.
  if (shown.length > FRAME_WIDTH) {
    const from = Math.max(0, Math.min(start - 1 - FRAME_CONTEXT, shown.length - FRAME_WIDTH));
    const to = Math.min(shown.length, from + FRAME_WIDTH);
    const before = from > 0 ? '…' : '';
    shown = `${before}${shown.slice(from, to)}${to < shown.length ? '…' : ''}`;
    start = start - from + before.length;
    end = Math.min(end - from + before.length, shown.length + 1);
  }
  return {
    gutter: ` ${number} | `,
    blank: ` ${' '.repeat(number.length)} | `,
    line: shown,
    carets: `${' '.repeat(start - 1)}${'^'.repeat(Math.max(1, Math.min(end, shown.length + 2) - start))}`,
  };
}

/** Code frames show at most this many characters of a line, starting a little before the column. */
const FRAME_WIDTH = 160;
const FRAME_CONTEXT = 40;

/** One cell per UTF-16 unit, so carets stay under their column: tabs and controls become one cell. */
function printableLine(line: string): string {
  return replaceUnprintable(line, (ch) => (ch === '\t' ? ' ' : '\ufffd'.repeat(ch.length)));
}

/** File names come from the file system and may hold anything: escape what would act on a terminal. */
export function showPrintable(text: string): string {
  // Printable ASCII is never escaped: most names and messages are just that, and skip the
  // character-by-character pass (thousands of warnings print in one compile).
  return PRINTABLE_ASCII.test(text) ? text : escapeUnprintable(text);
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export interface Summary {
  files: number;
  containers: number;
  /** How many hosts were checked; named only when several were. */
  hosts?: number;
}

/** The last line of `validate` in text format: `3 files, 5 containers: valid` or the counts. */
export function formatSummary(diagnostics: readonly Diagnostic[], summary: Summary): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const counted = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const hosts = summary.hosts !== undefined && summary.hosts > 1 ? `, ${counted(summary.hosts, 'host')}` : '';
  const head = `${counted(summary.files, 'file')}, ${counted(summary.containers, 'container')}${hosts}`;
  const parts: string[] = [];
  if (errors > 0) parts.push(counted(errors, 'error'));
  else parts.push('valid');
  if (warnings > 0) parts.push(counted(warnings, 'warning'));
  return `${head}: ${parts.join(', ')}\n`;
}
