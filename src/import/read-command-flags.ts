// Reads the options of a `docker run` or `klee run` command line the way their flag parsers do
// (pflag, click): `--name web`, `--name=web`, `-p 80:80`, `-p80:80`, `-itd`, `--` ending the options,
// the first word that is not an option starting the image and its command. Every option must be
// known, so that an option taking a value never swallows the image by mistake.
import { quoteText } from '../text/quote-text.js';
import type { Word } from './split-command-line.js';

export interface FlagTable {
  /** Options that take a value, each spelling (`-p`, `--publish`) to its long name. */
  value: ReadonlyMap<string, string>;
  /** Options that take none, each spelling to its long name. */
  bool: ReadonlyMap<string, string>;
}

export interface FlagValue {
  /** The option's long name (`--publish`). */
  flag: string;
  text: string;
  /** The word holding the value, and where in its text the value starts. */
  word: Word;
  from: number;
}

export type FlagsResult =
  | { ok: true; values: FlagValue[]; bools: Map<string, Word>; rest: Word[] }
  | { ok: false; message: string; word: Word; from: number; to: number };

/** A table from `[['-p', '--publish'], ['--name']]`: each group's last spelling is its long name. */
export function flagTable(value: readonly (readonly string[])[], bool: readonly (readonly string[])[]): FlagTable {
  const build = (groups: readonly (readonly string[])[]): Map<string, string> => {
    const map = new Map<string, string>();
    for (const group of groups) {
      const long = group[group.length - 1] as string;
      for (const spelling of group) map.set(spelling, long);
    }
    return map;
  };
  return { value: build(value), bool: build(bool) };
}

export function readCommandFlags(words: readonly Word[], table: FlagTable, command: string): FlagsResult {
  const values: FlagValue[] = [];
  const bools = new Map<string, Word>();
  let i = 0;
  while (i < words.length) {
    const word = words[i] as Word;
    const text = word.text;
    if (text === '--') return { ok: true, values, bools, rest: words.slice(i + 1) };
    if (text.startsWith('--')) {
      const eq = text.indexOf('=');
      const name = eq < 0 ? text : text.slice(0, eq);
      const long = table.value.get(name);
      if (long !== undefined) {
        if (eq >= 0) {
          values.push({ flag: long, text: text.slice(eq + 1), word, from: eq + 1 });
        } else {
          const next = words[i + 1];
          if (next === undefined) return missingValue(word, name, command);
          values.push({ flag: long, text: next.text, word: next, from: 0 });
          i++;
        }
      } else if (table.bool.has(name)) {
        const value = eq < 0 ? 'true' : text.slice(eq + 1);
        if (value !== 'false') bools.set(table.bool.get(name) as string, word);
      } else {
        return unknown(word, name, command);
      }
      i++;
      continue;
    }
    if (text.startsWith('-') && text.length > 1) {
      for (let j = 1; j < text.length; j++) {
        const spelling = `-${text[j] as string}`;
        const long = table.value.get(spelling);
        if (long !== undefined) {
          if (j + 1 < text.length) {
            const from = text[j + 1] === '=' ? j + 2 : j + 1;
            values.push({ flag: long, text: text.slice(from), word, from });
          } else {
            const next = words[i + 1];
            if (next === undefined) return missingValue(word, spelling, command);
            values.push({ flag: long, text: next.text, word: next, from: 0 });
            i++;
          }
          break;
        }
        const boolLong = table.bool.get(spelling);
        if (boolLong === undefined) {
          return { ok: false, message: `${command} has no option ${spelling}`, word, from: j, to: j + 1 };
        }
        bools.set(boolLong, word);
      }
      i++;
      continue;
    }
    return { ok: true, values, bools, rest: words.slice(i) };
  }
  return { ok: true, values, bools, rest: [] };
}

function missingValue(word: Word, name: string, command: string): FlagsResult {
  return {
    ok: false,
    message: `${command} option ${name} needs a value and the line ends before one`,
    word,
    from: 0,
    to: word.text.length,
  };
}

function unknown(word: Word, name: string, command: string): FlagsResult {
  return {
    ok: false,
    message: `${command} has no option ${quoteText(name)}: pfexpose reads the options ${command} documents, so that one taking a value never swallows the image`,
    word,
    from: 0,
    to: name.length,
  };
}
