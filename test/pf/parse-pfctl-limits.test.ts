// The reader's limits on hostile or absurd input (issue 9, M9): inline anchors nested thousands
// deep and `{ }` lists that multiply into millions of rules are refused whole, at the line where
// the limit is passed, never a stack overflow; printing deep bodies never recurses.
import { describe, expect, it } from 'vitest';
import {
  normalizeAsLoaded,
  parsePfctlOutput,
  PFCTL_LIMITS,
  printRule,
  printRuleLines,
} from '../../src/pf/parse-pfctl.js';
import type { ParsedRule } from '../../src/pf/rule.js';

/** `anchor "a0" all {` ... `depth` levels deep around one pass rule, indented as pfctl prints. */
function nested(depth: number, indented = true): string {
  const indent = (level: number): string => (indented ? '  '.repeat(level) : '');
  const lines: string[] = [];
  for (let i = 0; i < depth; i += 1) lines.push(`${indent(i)}anchor "a${i}" all {`);
  lines.push(`${indent(depth)}pass in all flags S/SA keep state`);
  for (let i = depth - 1; i >= 0; i -= 1) lines.push(`${indent(i)}}`);
  return `${lines.join('\n')}\n`;
}

function list(prefix: string, count: number): string {
  return `{ ${Array.from({ length: count }, (_, i) => `${prefix}${i}`).join(' ')} }`;
}

describe('parsePfctlOutput limits', () => {
  it('reads inline anchors nested as deep as the limit, and prints them back unchanged', () => {
    const text = nested(PFCTL_LIMITS.anchorDepth);
    const { rules, diagnostics } = parsePfctlOutput(text);
    expect(diagnostics).toEqual([]);
    expect(rules).toHaveLength(1);
    expect(printRuleLines(rules[0]!)).toEqual(text.trimEnd().split('\n'));
    expect(normalizeAsLoaded(rules).flatMap((rule) => printRuleLines(rule))).toEqual(text.trimEnd().split('\n'));
  });

  it.each([PFCTL_LIMITS.anchorDepth + 1, 3000, 200_000])(
    'refuses %i nested anchors at the line one level too deep',
    (depth) => {
      const { rules, diagnostics } = parsePfctlOutput(nested(depth, depth <= 3000));
      const line = PFCTL_LIMITS.anchorDepth + 1;
      expect(diagnostics).toEqual([
        { line, limit: true, message: expect.stringMatching(/^inline anchors nested deeper than 64 levels/) },
      ]);
      expect(rules).toEqual([
        { kind: 'unparsed', text: `anchor "a${line - 1}" all {`, reason: diagnostics[0]!.message, line },
      ]);
    },
  );

  it('expands lists up to the limit of one rule', () => {
    // 16 * 16 * 16 = 4096 rules: exactly the limit.
    const text = `pass in proto tcp from ${list('10.0.0.', 16)} to ${list('10.1.0.', 16)} port ${list('', 16)}`;
    const { rules, diagnostics } = parsePfctlOutput(text);
    expect(diagnostics).toEqual([]);
    expect(rules).toHaveLength(PFCTL_LIMITS.rulesPerStatement);
  });

  it('refuses a rule whose lists expand past the limit, naming its line and the count', () => {
    const text = `# lists\npass in all\npass in proto tcp from ${list('10.0.0.', 100)} to ${list('10.1.0.', 100)} port ${list('', 100)}\npass out all\n`;
    const { rules, diagnostics } = parsePfctlOutput(text);
    expect(diagnostics).toEqual([
      { line: 3, limit: true, message: expect.stringMatching(/expand to 1000000 rules, more than the 4096/) },
    ]);
    expect(rules).toEqual([
      {
        kind: 'unparsed',
        text: expect.stringMatching(/^pass in proto tcp from \{/),
        reason: diagnostics[0]!.message,
        line: 3,
      },
    ]);
  });

  it('refuses a text whose lists add up past the limit of a whole ruleset', () => {
    const line = `pass in proto tcp from ${list('10.0.0.', 10)} to any port ${list('', 10)}`;
    const text = Array.from({ length: 5 }, () => line).join('\n');
    expect(parsePfctlOutput(text, { ...PFCTL_LIMITS, rules: 500 }).rules).toHaveLength(500);
    const { rules, diagnostics } = parsePfctlOutput(text, { ...PFCTL_LIMITS, rules: 499 });
    expect(diagnostics).toEqual([{ line: 5, limit: true, message: expect.stringMatching(/more than 499 rules/) }]);
    expect(rules).toHaveLength(1);
  });

  it('prints a body nested far deeper than the reader allows without recursing', () => {
    let rule: ParsedRule = { kind: 'unparsed', text: 'pass', reason: 'test', line: 1 };
    for (let i = 0; i < 3000; i += 1) {
      const [anchor] = parsePfctlOutput('anchor "x" all').rules;
      if (anchor?.kind !== 'anchor') throw new Error('an anchor rule was expected');
      rule = { ...anchor, body: [rule] };
    }
    const lines = printRuleLines(rule);
    expect(lines).toHaveLength(6001);
    expect(lines[0]).toBe('anchor "x" all {');
    expect(lines[2999]).toBe(`${'  '.repeat(2999)}anchor "x" all {`);
    expect(lines[3000]).toBe(`${'  '.repeat(3000)}pass`);
    expect(lines[3001]).toBe(`${'  '.repeat(2999)}}`);
    expect(lines.at(-1)).toBe('}');
    expect(printRule(rule)).toBe(lines.join('\n'));
  });
});

describe('parsePfctlOutput tokens', () => {
  it('takes exactly the characters of \\s as white space', () => {
    const spaced = parsePfctlOutput('pass in all').rules.map((rule) => printRule(rule));
    for (let code = 0; code <= 0xffff; code += 1) {
      const c = String.fromCharCode(code);
      // A newline ends the statement: it is white space between lines, not inside one.
      if (c === '\n') continue;
      const got = parsePfctlOutput(`pass${c}in all`).rules.map((rule) => printRule(rule));
      if (/\s/.test(c)) expect(got, `U+${code.toString(16)}`).toEqual(spaced);
      else expect(got, `U+${code.toString(16)}`).not.toEqual(spaced);
    }
  });
});
