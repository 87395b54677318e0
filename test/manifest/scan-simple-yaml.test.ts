// The line scanner (scan-simple-yaml.ts) must never disagree with yaml's composer: whenever it
// answers, the composer reports no problem and gives the same plain data, the same positions and
// the same line starts. Checked on hand-picked texts, on generated manifests and on mutated copies
// of the examples.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateTree } from '../../bench/generate.mjs';
import { composeYamlDocuments, parseYamlDocuments } from '../../src/manifest/parse-yaml-documents.js';
import { scanSimpleYaml } from '../../src/manifest/scan-simple-yaml.js';

/** True when the scanner answered; then it must agree with the composer in every respect. */
function agreesWhenAnswering(text: string): boolean {
  const scanned = scanSimpleYaml(text);
  if (scanned === null) return false;
  const composed = composeYamlDocuments(text, 'f.yaml');
  expect(composed.diagnostics).toStrictEqual([]);
  expect(scanned.documents.map((d) => ({ data: d.data, root: d.root }))).toStrictEqual(
    composed.documents.map((d) => ({ data: d.data, root: d.root })),
  );
  expect(scanned.lineStarts).toStrictEqual(composed.lineCounter.lineStarts);
  return true;
}

/** Runs per property; raise PFEXPOSE_FUZZ_RUNS for a longer hunt. */
const RUNS = Number(process.env['PFEXPOSE_FUZZ_RUNS'] ?? 1000);

const examples = readdirSync('examples')
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => readFileSync(join('examples', f), 'utf8'));

describe('scanSimpleYaml: answers for ordinary manifests, as the composer would', () => {
  it.each(examples.map((text, i) => [i, text]))('examples file %i', (_i, text) => {
    expect(agreesWhenAnswering(text)).toBe(true);
  });

  it.each([
    ['several documents', 'version: 1\n---\nversion: 1\ncontainers: {}\n'],
    [
      'comments everywhere',
      '# head\nversion: 1 # v\n\ncontainers:   # c\n  web:\n    # inside\n    ip: 10.0.0.1\n# tail\n',
    ],
    ['quoted keys and values', '"version": 1\n\'containers\':\n  "a b":\n    ports: ["80", \'81\', 82]\n'],
    ['core schema scalars', 'a: true\nb: ~\nc: 0x1F\nd: 0o17\ne: 1.50\nf: .inf\ng: -0\nh: 1e3\ni: yes\nj: 010\n'],
    ['keys that are numbers or booleans', '1: a\ntrue: b\n0x10: c\nnull: d\n'],
    ['compact lists of mappings', 'ports:\n- published: 80\n  target: 8080\n-   published: 81\n    target: 8081\n'],
    ['CRLF line ends', 'version: 1\r\ncontainers:\r\n  web:\r\n    ip: 10.0.0.1\r\n'],
    ['document start markers', '---\nversion: 1\n---   # second\nversion: 1\n'],
    ['an empty flow list and mapping', 'a: []\nb: {}\nc: [ x , y ]\n'],
    ['prototype keys', '__proto__: 1\nconstructor: 2\n'],
    ['a mapping of many keys', `${Array.from({ length: 40 }, (_, i) => `k${i}: ${i}`).join('\n')}\n`],
  ])('%s', (_name, text) => {
    expect(agreesWhenAnswering(text)).toBe(true);
    expect(scanSimpleYaml(text)).not.toBeNull();
  });
});

describe('scanSimpleYaml: ends collections around comments where yaml does', () => {
  it.each([
    ["a comment at the entries' column stays with the mapping", 'a:\n  b: 1\n  # kept\nc: 2\n'],
    ['a comment left of the entries moves out', 'a:\n  b: 1\n# moved\nc: 2\n'],
    ['deeper comments join the value before them', 'a:\n  b: 1\n    # joined\n\n    # joined too\nc: 2\n'],
    ['comments between list items', 'a:\n  - x\n  # c\n  - y\n    # deeper\n'],
    ['a compact mapping in a list', 'a:\n- k: 1\n  j: 2\n  # c\n- z\n'],
    [
      'comments at several depths before a shallower key',
      'x:\n  a:\n    c: 1\n    # deep\n  # mid\n  d: 2\n# top\ne: 3\n',
    ],
    ["the next line's indentation joins kept comments", 'a:\n  b:\n    c: 1\n    # kept\n  d: 2\n'],
    ['comments before and after documents', '# head\n---\na:\n  b: 1\n  # tail\n---\nc: [x, y] # list\n   # joined\n'],
    ['a comment after a dash', 'a:\n- # about the item\n  k: 1\n'],
    ['flow lists with IPv6 sources', 'from: [2001:db8::/32, fd00::1, a:b]\n'],
  ])('%s', (_name, text) => {
    expect(agreesWhenAnswering(text)).toBe(true);
  });

  it('reads every file the bench generates (the path `npm run bench` measures)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pfexpose-scan-'));
    try {
      generateTree(dir, 120, 50);
      const files = readdirSync(dir).sort();
      expect(files).toHaveLength(3);
      for (const f of files) expect(agreesWhenAnswering(readFileSync(join(dir, f), 'utf8'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scanSimpleYaml: leaves everything else to the composer', () => {
  it.each([
    ['anchors and aliases', 'a: &x 1\nb: *x\n'],
    ['tags', 'a: !!str 1\n'],
    ['block scalars', 'a: |\n  text\n'],
    ['explicit keys', '? a\n: b\n'],
    ['duplicate keys', 'a: 1\na: 2\n'],
    [
      'a duplicate key among many (past the keys kept as a list)',
      `${Array.from({ length: 20 }, (_, i) => `k${i}: ${i}`).join('\n')}\nk3: again\n`,
    ],
    [
      'a duplicate key right after the list became a set',
      `${Array.from({ length: 17 }, (_, i) => `k${i}: ${i}`).join('\n')}\nk16: x\n`,
    ],
    [
      'a duplicate of the last key kept in the list',
      `${Array.from({ length: 16 }, (_, i) => `k${i}: ${i}`).join('\n')}\nk15: x\n`,
    ],
    ['keys that read alike', '1: a\n"1": b\n'],
    ['a key with no value', 'a:\nb: 1\n'],
    ['a list item with no value', 'a:\n  -\n  - b\n'],
    ['a tab before a value', 'a:\t1\n'],
    ['tab indentation', 'a:\n\tb: 1\n'],
    ['a flow list over several lines', 'a: [x,\n  y]\n'],
    ['a flow mapping with items', 'a: {b: 1}\n'],
    ['a flow list with a trailing comma', 'a: [x, y, ]\n'],
    ['a multi-line plain scalar', 'a: one\n  two\n'],
    ['a double-quoted scalar with escapes', 'a: "x\\ty"\n'],
    ['directives', '%YAML 1.2\n---\na: 1\n'],
    ['document end markers', 'a: 1\n...\n'],
    ['a document that is not a mapping', '- a\n- b\n'],
    ['an empty file', ''],
    ['comments only', '# nothing\n'],
    ['a comment glued to a value', 'a: "x"# c\n'],
    ['a reserved first character', 'a: @x\n'],
    ['a mapping on the document start line', '--- a: 1\n'],
    ['a nested mapping on the key line', 'a: b: c\n'],
    ['mis-indented keys', 'a:\n    b: 1\n  c: 2\n'],
    ['deep nesting', `${'['.repeat(100)}${']'.repeat(100)}\n`],
    ['a tab in a comment', 'a: 1 #\tnote\n'],
    ['a list on the dash line', 'a:\n- - x\n'],
    ['a carriage return alone', 'a: 1\rb: 2\n'],
    ['a byte order mark', '\ufeffa: 1\n'],
    ['a space before the colon', 'a : 1\n'],
    ['a list item continued on the next line', 'a:\n- x\n  y\n'],
    ['a flow list item that starts with a colon', 'a: [::1]\n'],
  ])('%s', (_name, text) => {
    expect(scanSimpleYaml(text)).toBeNull();
  });

  it('still reports what the composer reports, through parseYamlDocuments', () => {
    const parsed = parseYamlDocuments('a: 1\na: 2\n', 'd.yaml');
    // Both places of the repeated key, each naming the other.
    expect(parsed.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([
      ['yaml-duplicate-key', 1, 1],
      ['yaml-duplicate-key', 2, 1],
    ]);
    expect(parsed.diagnostics[0]?.message).toContain('also at line 2:1');
    expect(parsed.diagnostics[1]?.message).toContain('also at line 1:1');
    const composed = composeYamlDocuments('a: 1\na: 2\n', 'd.yaml');
    expect(parsed.diagnostics).toStrictEqual(composed.diagnostics);
    expect(parsed.documents).toStrictEqual(composed.documents);
  });

  it('gives parseYamlDocuments the same result as the composer for a simple file', () => {
    const text = examples[0] ?? '';
    const fast = parseYamlDocuments(text, 'e.yaml');
    const composed = composeYamlDocuments(text, 'e.yaml');
    expect(fast.documents).toStrictEqual(composed.documents);
    expect(fast.diagnostics).toStrictEqual(composed.diagnostics);
    expect(fast.lineCounter.lineStarts).toStrictEqual(composed.lineCounter.lineStarts);
  });
});

// Generated manifest-like YAML: nested mappings and lists of scalars in every style, rendered with
// a random indentation step and random noise (comments, blank lines, trailing spaces, a stray tab
// or a shifted line now and then), so that many texts are simple and many are not.
type Gen =
  | { kind: 'scalar'; text: string }
  | { kind: 'flow'; items: string[] }
  | { kind: 'map'; entries: [string, Gen][] }
  | { kind: 'seq'; items: Gen[] };

const word = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      'web',
      'em0',
      '8080',
      '8080:80',
      'em1:8443:443/tcp',
      '127.0.0.1:8081:80',
      'fd00::1',
      '2001:db8::/32',
    ),
    weight: 24,
  },
  // Not a plain scalar (a flow list followed by text): an error unless quoted.
  { arbitrary: fc.constant('[::1]::53/udp'), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      'true',
      'False',
      'null',
      '~',
      '0x1F',
      '0o17',
      '1.50',
      '.inf',
      '.NaN',
      '-0',
      '+12',
      '1e3',
      'yes',
      '010',
      '',
    ),
    weight: 6,
  },
  {
    arbitrary: fc.string({
      unit: fc.constantFrom(
        'a',
        '1',
        ':',
        ' ',
        '-',
        '#',
        '"',
        "'",
        '[',
        ']',
        '{',
        '}',
        ',',
        '&',
        '*',
        '!',
        '|',
        '>',
        '.',
        '%',
        '@',
        '?',
        '\\',
      ),
      maxLength: 6,
    }),
    weight: 2,
  },
);
const styled = fc
  .tuple(word, fc.constantFrom('plain', 'plain', 'double', 'single'))
  .map(([w, style]) => (style === 'double' ? `"${w}"` : style === 'single' ? `'${w}'` : w));
const keyText = fc.oneof(
  fc.constantFrom('version', 'containers', 'ip', 'ports', 'target', 'published', 'from', '1', 'true', 'a b'),
  styled,
);

const { node: genNode } = fc.letrec<{ node: Gen }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    styled.map((text): Gen => ({ kind: 'scalar', text })),
    fc.array(styled, { maxLength: 3 }).map((items): Gen => ({ kind: 'flow', items })),
    fc
      .uniqueArray(fc.tuple(keyText, tie('node')), { minLength: 1, maxLength: 4, selector: ([k]) => k })
      .map((entries): Gen => ({ kind: 'map', entries })),
    fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((items): Gen => ({ kind: 'seq', items })),
  ),
}));

interface Noise {
  step: number;
  /**
   * One decision per rendered line, cycled: 0 nothing, 1 comment, 2 blank line, 3 trailing space,
   * 4 tab, 5 shift, 6 a comment line before it, 7 a comment line after it.
   */
  marks: number[];
  /** Indentations of the comment lines of marks 6 and 7, cycled. */
  commentIndents: number[];
  /** Mappings in lists start on the dash's line (`- key: value`). */
  compactItems: boolean;
  /** Lists under a key start at the key's column. */
  listsAtKeyColumn: boolean;
}

function render(root: [string, Gen][], noise: Noise): string[] {
  const lines: string[] = [];
  let n = 0;
  let c = 0;
  let dash: string | null = null;
  const mark = (): number => noise.marks[n++ % noise.marks.length] ?? 0;
  const commentLine = (): string => `${' '.repeat(noise.commentIndents[c++ % noise.commentIndents.length] ?? 0)}# line`;
  const push = (line: string): void => {
    if (dash !== null) {
      line = `${dash}- ${line.slice(dash.length + 2)}`;
      dash = null;
    }
    const m = mark();
    if (m === 1) line += ' # note';
    if (m === 2) lines.push('');
    if (m === 3) line += '  ';
    if (m === 4) line = line.replace(/^( *)/, '$1\t');
    if (m === 5) line = ` ${line}`;
    if (m === 6) lines.push(commentLine());
    lines.push(line);
    if (m === 7) lines.push(commentLine());
  };
  const inline = (g: Gen): string | null =>
    g.kind === 'scalar' ? g.text : g.kind === 'flow' ? `[${g.items.join(', ')}]` : null;
  const block = (g: Gen, indent: number): void => {
    const pad = ' '.repeat(indent);
    if (g.kind === 'map') {
      for (const [k, v] of g.entries) {
        const text = inline(v);
        if (text !== null) push(`${pad}${k}: ${text}`);
        else {
          push(`${pad}${k}:`);
          block(v, indent + (v.kind === 'seq' && noise.listsAtKeyColumn ? 0 : noise.step));
        }
      }
    } else if (g.kind === 'seq') {
      for (const item of g.items) {
        const text = inline(item);
        if (text !== null) push(`${pad}- ${text}`);
        else if (item.kind === 'map' && noise.compactItems) {
          dash = pad;
          block(item, indent + 2);
        } else {
          push(`${pad}-`);
          block(item, indent + noise.step);
        }
      }
    }
  };
  block({ kind: 'map', entries: root }, 0);
  return lines;
}

const noise = fc.record({
  step: fc.integer({ min: 1, max: 4 }),
  // Mostly clean lines; the marks that make a text invalid (tab, shift) are the rarest.
  marks: fc.array(
    fc.oneof(
      { arbitrary: fc.constant(0), weight: 40 },
      { arbitrary: fc.constantFrom(1, 2, 3, 6, 7), weight: 8 },
      { arbitrary: fc.constantFrom(4, 5), weight: 1 },
    ),
    { minLength: 1, maxLength: 8 },
  ),
  commentIndents: fc.array(fc.nat({ max: 8 }), { minLength: 1, maxLength: 4 }),
  compactItems: fc.boolean(),
  listsAtKeyColumn: fc.boolean(),
});

/** One to three documents, `---` between them (and perhaps before the first), LF or CRLF. */
const generated = fc
  .tuple(
    fc.array(
      fc.tuple(fc.uniqueArray(fc.tuple(keyText, genNode), { minLength: 1, maxLength: 5, selector: ([k]) => k }), noise),
      { minLength: 1, maxLength: 3 },
    ),
    fc.boolean(),
    fc.array(fc.constantFrom('', '# end', '  # end', '    # end'), { maxLength: 3 }),
    fc.constantFrom('\n', '\n', '\n', '\r\n'),
  )
  .map(([documents, leadingMarker, tail, eol]) => {
    const lines = documents.flatMap(([root, n], i) => [...(i > 0 || leadingMarker ? ['---'] : []), ...render(root, n)]);
    return `${[...lines, ...tail].join(eol)}${eol}`;
  });

/** Random edits of a text: a character inserted or removed at a few places. */
const edit = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  remove: fc.boolean(),
  char: fc.constantFrom(
    ' ',
    '\n',
    ':',
    '-',
    '#',
    '"',
    "'",
    '[',
    ']',
    ',',
    '\t',
    'a',
    '1',
    '&',
    '*',
    '|',
    '?',
    '{',
    '\r\n',
  ),
});
const mutated = (base: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(base, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([original, edits]) => {
    let text = original;
    for (const e of edits) {
      const at = Math.floor(e.at * text.length);
      text = e.remove ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + e.char + text.slice(at);
    }
    return text;
  });

/**
 * The property, and a floor under how often the scanner answers: it must not hold only because
 * the scanner gave up on everything.
 */
function expectAgreesOften(label: string, texts: fc.Arbitrary<string>, minShare = 1 / 5): void {
  let answered = 0;
  let runs = 0;
  fc.assert(
    fc.property(texts, (text) => {
      runs += 1;
      if (agreesWhenAnswering(text)) answered += 1;
    }),
    { numRuns: RUNS },
  );
  if (process.env['PFEXPOSE_FUZZ_RUNS'] !== undefined) console.log(`${label}: answered ${answered} of ${runs}`);
  expect(answered).toBeGreaterThan(runs * minShare);
}

describe('scanSimpleYaml: properties', () => {
  it('on generated manifests, answers only as the composer would (and answers often)', () => {
    expectAgreesOften('generated', generated);
  });

  it('on mutated examples, answers only as the composer would', () => {
    expectAgreesOften('mutated examples', mutated(fc.constantFrom(...examples)));
  });

  it('on mutated generated manifests, answers only as the composer would', () => {
    // Generated texts are long: most edits break them, so fewer are left for the scanner.
    expectAgreesOften('mutated generated', mutated(generated), 1 / 20);
  });
});

describe('composeYamlDocuments: the alias limit counts copies, not the document itself', () => {
  it('accepts a large document that uses an alias once', () => {
    const text = `a: &x 1\nb: *x\nlist:\n${'  - 1\n'.repeat(120_000)}`;
    const composed = composeYamlDocuments(text, 'big.yaml');
    expect(composed.diagnostics).toStrictEqual([]);
    expect((composed.documents[0]?.data as { list: unknown[] }).list).toHaveLength(120_000);
  });

  it('still stops a document whose aliases multiply it', () => {
    const levels = ['a: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]'];
    for (let i = 1; i <= 6; i += 1)
      levels.push(
        `l${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const composed = composeYamlDocuments(`${levels.join('\n')}\n`, 'bomb.yaml');
    expect(composed.diagnostics.map((d) => d.code)).toEqual(['yaml-alias-limit']);
  });
});
