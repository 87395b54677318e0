// Quotes user text for messages: control, format and separator characters are escaped so that a
// message can never carry a raw newline, terminal escape or bidi override, and long text is cut.

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

/** Digits print bare (a port number reads better without quotes); anything else is quoted. */
export function showToken(text: string): string {
  return /^[0-9]{1,10}$/.test(text) ? text : quoteText(text);
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
  // Lone surrogates, controls, format characters (bidi overrides, zero-width), line and
  // paragraph separators, spaces other than U+0020, private use and unassigned code points are
  // all shown escaped, so that the reader sees exactly what is in the file.
  if ((ch !== ' ' && /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u.test(ch)) || isLoneSurrogate(ch)) {
    let escaped = '';
    for (let i = 0; i < ch.length; i++) {
      escaped += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
    }
    return escaped;
  }
  return ch;
}

function isLoneSurrogate(ch: string): boolean {
  if (ch.length !== 1) return false;
  const unit = ch.charCodeAt(0);
  return unit >= 0xd800 && unit <= 0xdfff;
}
