// Keeps text from files (source lines, file names, parser messages) from acting on a terminal:
// C0/C1 controls, line separators and bidi overrides are replaced before anything is printed.

/** True for characters that move the cursor, start an escape sequence or reorder text. */
export function isUnprintable(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/** Replaces each unprintable UTF-16 unit with replace(unit). */
export function replaceUnprintable(text: string, replace: (ch: string) => string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    out += ch.length === 1 && isUnprintable(code) ? replace(ch) : ch;
  }
  return out;
}

/** Unprintable characters as \uXXXX escapes. */
export function escapeUnprintable(text: string): string {
  return replaceUnprintable(text, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
