// Splits a file of shell command lines (a `docker run ...` or `klee run ...` kept in a script or a
// README snippet) into commands and words the way sh(1) would, without running anything: quotes,
// backslashes and line continuations are honoured, `#` starts a comment, and every character of a
// word keeps its offset in the file so that a problem inside a word is reported where it is.

export interface Word {
  /** The word after quote removal. */
  text: string;
  /** Offset in the file of each character of text. */
  offsets: number[];
  /** Offset of the word's first and just past its last source character (quotes included). */
  start: number;
  end: number;
  /** True when the word holds an unquoted or double-quoted `$` or a backquote: the shell would expand it. */
  expands: boolean;
}

export interface Command {
  words: Word[];
}

export type SplitResult =
  { ok: true; commands: Command[] } | { ok: false; message: string; start: number; end: number };

/** Offsets in the file of the characters [from, to) of a word's text. */
export function wordRange(word: Word, from: number, to: number): { start: number; end: number } {
  if (word.offsets.length === 0) return { start: word.start, end: word.end };
  const first = word.offsets[Math.min(from, word.offsets.length - 1)] ?? word.start;
  const last = word.offsets[Math.min(Math.max(to - 1, from), word.offsets.length - 1)] ?? word.start;
  return { start: first, end: last + 1 };
}

export function splitCommandLines(text: string): SplitResult {
  const commands: Command[] = [];
  let words: Word[] = [];
  let word: Word | null = null;
  const endCommand = (): void => {
    if (word !== null) words.push(word);
    word = null;
    if (words.length > 0) commands.push({ words });
    words = [];
  };
  const add = (ch: string, at: number, wordStart: number): Word => {
    word ??= { text: '', offsets: [], start: wordStart, end: at + 1, expands: false };
    word.text += ch;
    word.offsets.push(at);
    return word;
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === '\n') {
        i += 2;
        continue;
      }
      if (next === '\r' && text[i + 2] === '\n') {
        i += 3;
        continue;
      }
      if (next === undefined) {
        i++;
        continue;
      }
      add(next, i + 1, i).end = i + 2;
      i += 2;
      continue;
    }
    if (ch === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) return { ok: false, message: "a single quote (') is never closed", start: i, end: i + 1 };
      word ??= { text: '', offsets: [], start: i, end: close + 1, expands: false };
      for (let j = i + 1; j < close; j++) add(text[j] as string, j, i);
      word.end = close + 1;
      i = close + 1;
      continue;
    }
    if (ch === '"') {
      const open = i;
      word ??= { text: '', offsets: [], start: i, end: i + 1, expands: false };
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i] as string;
        if (c === '"') {
          closed = true;
          break;
        }
        if (c === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1] as string)) {
          if (text[i + 1] !== '\n') add(text[i + 1] as string, i + 1, open);
          i += 2;
          continue;
        }
        if (c === '$' || c === '`') word.expands = true;
        add(c, i, open);
        i++;
      }
      if (!closed) return { ok: false, message: 'a double quote (") is never closed', start: open, end: open + 1 };
      word.end = i + 1;
      i++;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      if (word !== null) words.push(word);
      word = null;
      i++;
      continue;
    }
    if (ch === '\n' || ch === ';' || ch === '&' || ch === '|') {
      endCommand();
      i++;
      continue;
    }
    if (ch === '#' && word === null) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const current = add(ch, i, i);
    current.end = i + 1;
    if (ch === '$' || ch === '`') current.expands = true;
    i++;
  }
  endCommand();
  return { ok: true, commands };
}

/**
 * The words after `PROGRAM run` / `PROGRAM create` (also `PROGRAM container run|create`), skipping a
 * leading `sudo` and `NAME=value` assignments; null for any other command. PROGRAM may be a path.
 */
export function runArguments(command: Command, program: string): { verb: Word; rest: Word[] } | null {
  let words = command.words;
  while (words.length > 0 && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]?.text ?? '') || words[0]?.text === 'sudo')) {
    words = words.slice(1);
  }
  const first = words[0]?.text ?? '';
  if (first !== program && !first.endsWith(`/${program}`)) return null;
  let at = 1;
  if (words[at]?.text === 'container') at++;
  const verb = words[at];
  if (verb === undefined || (verb.text !== 'run' && verb.text !== 'create')) return null;
  return { verb, rest: words.slice(at + 1) };
}
