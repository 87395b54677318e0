// One word for a POSIX shell: whatever the text holds (quotes, `$`, backquotes, newlines, non-ASCII),
// `sh` reads the quoted word back as exactly that text. Used where pfexpose writes shell code.

/**
 * The text in single quotes, each `'` written as `'\''` (close the quotes, an escaped quote, open
 * them again): inside single quotes a POSIX shell gives no character a meaning. A NUL cannot be
 * part of a shell word or a variable at all; callers never have one (names are validated).
 */
export function quoteShellWord(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** True when a POSIX shell accepts name as a variable name (`export NAME=...`). */
export function isShellVariableName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
