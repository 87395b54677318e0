// The one policy for user text (file contents, file names, command-line words, parser messages)
// that ends up in a message or on a terminal: control, format and separator characters are never
// printed raw, so text can carry no newline, terminal escape, bidi override or invisible character.
// quoteText quotes and shortens a value for a message; escapeUnprintable and replaceUnprintable
// keep whole lines (file names, source lines, rule text) as they are but for those characters.

const MAX_CODE_POINTS = 40;

/** `"text"` with every invisible or line-breaking character escaped as \uXXXX (or \n, \t, \r). */
export function quoteText(text: string): string {
  const codePoints = Array.from(text);
  const cut = codePoints.length > MAX_CODE_POINTS;
  let out = '';
  for (const ch of cut ? codePoints.slice(0, MAX_CODE_POINTS) : codePoints) {
    out += escapeCodePoint(ch);
  }
  return `"${out}${cut ? '…' : ''}"`;
}

/** quoteText without the shortening: for a whole line (a rule) a message shows as evidence. */
export function quoteWhole(text: string): string {
  let out = '';
  for (const ch of text) out += escapeCodePoint(ch);
  return `"${out}"`;
}

/** Digits print bare (a port number reads better without quotes); anything else is quoted. */
export function showToken(text: string): string {
  return /^[0-9]{1,10}$/.test(text) ? text : quoteText(text);
}

/**
 * True for a code point that must not reach a terminal raw: lone surrogates, controls, format
 * characters (bidi overrides and marks, zero-width), line and paragraph separators, spaces other
 * than U+0020, private use and unassigned code points.
 */
export function isUnprintable(ch: string): boolean {
  return (ch !== ' ' && /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u.test(ch)) || isLoneSurrogate(ch);
}

/** Replaces each unprintable code point with replace(ch); ch.length is its UTF-16 length. */
export function replaceUnprintable(text: string, replace: (ch: string) => string): string {
  let out = '';
  for (const ch of text) out += isUnprintable(ch) ? replace(ch) : ch;
  return out;
}

/** Unprintable code points as \uXXXX escapes, one per UTF-16 unit. */
export function escapeUnprintable(text: string): string {
  return replaceUnprintable(text, unitEscapes);
}

function escapeCodePoint(ch: string): string {
  switch (ch) {
    case '"':
      return '\\"';
    case '\\':
      return '\\\\';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
  }
  return isUnprintable(ch) ? unitEscapes(ch) : ch;
}

function unitEscapes(ch: string): string {
  let escaped = '';
  for (let i = 0; i < ch.length; i++) escaped += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return escaped;
}

function isLoneSurrogate(ch: string): boolean {
  if (ch.length !== 1) return false;
  const unit = ch.charCodeAt(0);
  return unit >= 0xd800 && unit <= 0xdfff;
}
