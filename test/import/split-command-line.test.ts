// The shell-like splitter under docker-run and klee run: words as sh(1) would make them, each
// character keeping its offset in the file, so a problem inside a quoted or continued word is
// reported where it is written.
import { describe, expect, it } from 'vitest';
import { splitCommandLines, wordRange } from '../../src/import/split-command-line.js';

function words(text: string): string[][] {
  const split = splitCommandLines(text);
  if (!split.ok) throw new Error(split.message);
  return split.commands.map((c) => c.words.map((w) => w.text));
}

describe('splitCommandLines', () => {
  it.each([
    ['plain words', 'docker run --name web nginx', [['docker', 'run', '--name', 'web', 'nginx']]],
    ['quotes and escapes', `a 'b c' "d \\"e\\"" f\\ g`, [['a', 'b c', 'd "e"', 'f g']]],
    ['adjacent quoted parts', `--name="web"'1'`, [['--name=web1']]],
    ['line continuations', 'docker run \\\n  -p 80:80 \\\r\n  nginx', [['docker', 'run', '-p', '80:80', 'nginx']]],
    ['one command per line, comments dropped', '# start\na b # c\n\nd', [['a', 'b'], ['d']]],
    ['; && and | end a command', 'a; b && c | d', [['a'], ['b'], ['c'], ['d']]],
    ['# inside a word is a character', 'a#b', [['a#b']]],
  ])('%s', (_name, text, want) => {
    expect(words(text)).toEqual(want);
  });

  it('keeps the offset of every character, across quotes and continuations', () => {
    const text = 'docker run \\\n  -p "80:8 0" x';
    const split = splitCommandLines(text);
    expect(split.ok).toBe(true);
    if (!split.ok) return;
    const word = split.commands[0]?.words[3];
    expect(word?.text).toBe('80:8 0');
    // "8 0" is characters 3..6 of the word; in the file they start after the opening quote.
    const range = word === undefined ? null : wordRange(word, 3, 6);
    expect(range === null ? null : text.slice(range.start, range.end)).toBe('8 0');
  });

  it('marks words the shell would expand', () => {
    const split = splitCommandLines(`a $X "\${Y}" '$Z' \`b\``);
    expect(split.ok && split.commands[0]?.words.map((w) => w.expands)).toEqual([false, true, true, false, true]);
  });

  it.each([
    ["a 'b", 2],
    ['a "b', 2],
  ])('refuses an unclosed quote in %j at its offset', (text, start) => {
    expect(splitCommandLines(text)).toMatchObject({ ok: false, start });
  });
});
