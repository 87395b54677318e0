// What apply and the agent read from pf, past the reader's limits (issue 9, M9): 3,000 nested
// inline anchors in the anchor's printed rules are one foreign line, never a stack overflow, and
// never pfexpose's own ruleset (nothing of it is loaded back).
import { describe, expect, it } from 'vitest';
import { normalizedLines, parsedNormalizedLines, rulesetLabels } from '../../src/pf/rule-lines.js';
import { checkOwnRuleset } from '../../src/pf/check-own-ruleset.js';

const depth = 3000;
const nested = [
  ...Array.from({ length: depth }, (_, i) => `${'  '.repeat(i)}anchor "a${i}" all {`),
  `${'  '.repeat(depth)}pass in all flags S/SA keep state label "web:tcp:em0:8080"`,
  ...Array.from({ length: depth }, (_, i) => `${'  '.repeat(depth - 1 - i)}}`),
].join('\n');

describe('reading deployed rules past the reader limits', () => {
  it('normalizes 3,000 nested anchors to the one line where nesting passes 64 levels', () => {
    expect(parsedNormalizedLines(nested)).toEqual(['anchor "a64" all {']);
    expect(normalizedLines(nested)).toEqual(['anchor "a64" all {']);
    expect(rulesetLabels(nested)).toEqual([]);
  });

  it("is not pfexpose's own ruleset: the check names line 65 and the limit", () => {
    const got = checkOwnRuleset(nested, 'pfexpose');
    expect(got.ok).toBe(false);
    if (!got.ok)
      expect(got.foreign).toEqual([
        { line: 65, text: 'anchor "a64" all {', reason: expect.stringMatching(/nested deeper than 64 levels/) },
      ]);
  });
});
