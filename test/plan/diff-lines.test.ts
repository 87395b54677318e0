// The plan's line diff: the same unified diff as the `diff` package's structuredPatch wherever the
// shortest diff is searched for, a valid diff always (applying it to the old lines gives the new
// ones), and one that stays short at tens of thousands of lines where the shortest-diff search
// would be quadratic.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffLineHunks, editRuns, type LineHunk } from '../../src/plan/diff-lines.js';
import { diffRules } from '../../src/plan/plan-changes.js';
import { diffRules as diffRulesBefore } from './reference/scan-plan-changes.js';

/** Lines from a small alphabet, so that texts share lines, repeat them and move them around. */
const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'pass in all', 'rdr x', ''), { maxLength: 40 });

/** Applies hunks to the old lines, checking every context and removed line on the way. */
function applyHunks(before: readonly string[], hunks: readonly LineHunk[]): string[] {
  const out: string[] = [];
  let next = 0;
  for (const hunk of hunks) {
    // Structured hunks count from 1 even when empty on the old side (the `-a,0` form is printed
    // one lower, as diffRules does).
    const start = hunk.oldStart - 1;
    expect(start).toBeGreaterThanOrEqual(next);
    out.push(...before.slice(next, start));
    next = start;
    let oldCount = 0;
    let newCount = 0;
    for (const line of hunk.lines) {
      const kind = line[0];
      const text = line.slice(1);
      if (kind === '+') {
        out.push(text);
        newCount += 1;
        continue;
      }
      expect(before[next]).toBe(text);
      next += 1;
      oldCount += 1;
      if (kind === ' ') {
        out.push(text);
        newCount += 1;
      } else expect(kind).toBe('-');
    }
    expect([oldCount, newCount]).toEqual([hunk.oldLines, hunk.newLines]);
  }
  out.push(...before.slice(next));
  return out;
}

/** Checks an edit script: equal runs pair equal lines, and the runs use up both sides. */
function checkRuns(
  a: readonly number[],
  b: readonly number[],
  maxEditLength?: number,
): { removed: number; added: number } {
  const runs = editRuns(a, b, Math.max(0, ...a, ...b) + 1, maxEditLength);
  let i = 0;
  let j = 0;
  let removed = 0;
  let added = 0;
  for (const run of runs) {
    expect(run.count).toBeGreaterThan(0);
    if (run.kind === 'equal') {
      for (let k = 0; k < run.count; k += 1) expect(a[i + k]).toBe(b[j + k]);
      i += run.count;
      j += run.count;
    } else if (run.kind === 'removed') {
      i += run.count;
      removed += run.count;
    } else {
      j += run.count;
      added += run.count;
    }
  }
  expect([i, j]).toEqual([a.length, b.length]);
  return { removed, added };
}

describe('diffRules', () => {
  it('gives the unified diff the diff package gave, line for line', () => {
    fc.assert(
      fc.property(lines, lines, (deployed, desired) => {
        expect(diffRules(deployed, desired)).toEqual(diffRulesBefore(deployed, desired));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same diff for texts that differ in a few lines among many', () => {
    const base = Array.from({ length: 300 }, (_, i) => `rule ${i}`);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(299), fc.constantFrom('drop', 'edit', 'insert')), { maxLength: 12 }),
        (edits) => {
          const desired = [...base];
          for (const [at, what] of edits) {
            if (what === 'drop') desired.splice(at % Math.max(1, desired.length), 1);
            else if (what === 'edit') desired[at % desired.length] = `edited ${at}`;
            else desired.splice(at, 0, `new ${at}`);
          }
          expect(diffRules(base, desired)).toEqual(diffRulesBefore(base, desired));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('diffLineHunks', () => {
  it.each([
    ['the shortest diff', undefined],
    ['the anchored diff (no shortest-diff search)', 0],
    ['the anchored diff with short searches between anchors', 2],
  ])('is a valid diff: %s', (_name, maxEditLength) => {
    const options = maxEditLength === undefined ? {} : { maxEditLength };
    fc.assert(
      fc.property(lines, lines, fc.nat(4), (before, after, context) => {
        expect(applyHunks(before, diffLineHunks(before, after, { ...options, context }))).toEqual(after);
      }),
      { numRuns: 1000 },
    );
  });

  it('anchored or not, the edit runs pair only equal lines and use up both sides', () => {
    const ids = fc.array(fc.nat(12), { maxLength: 60 });
    fc.assert(
      fc.property(ids, ids, (a, b) => {
        const shortest = checkRuns(a, b);
        const anchored = checkRuns(a, b, 0);
        // The anchored diff is never shorter than the shortest one.
        expect(anchored.removed + anchored.added).toBeGreaterThanOrEqual(shortest.removed + shortest.added);
      }),
      { numRuns: 1000 },
    );
  });

  it('finds the few changed lines among 60,000 where the shortest-diff search gives up', () => {
    const before = Array.from(
      { length: 60_000 },
      (_, i) =>
        `pass in quick on em0 inet proto tcp from any to 10.0.${i >> 8}.${i & 255} port = ${10_000 + (i % 50_000)} label "c${i}"`,
    );
    const after = before.map((line, i) => (i % 60 === 7 ? `${line} edited` : line));
    after.splice(30_000, 0, 'inserted');
    after.splice(100, 50);
    const hunks = diffLineHunks(before, after);
    expect(applyHunks(before, hunks)).toEqual(after);
    const lines = hunks.flatMap((hunk) => hunk.lines);
    // 1,000 edited lines (one removed, one added each), 50 removed, 1 inserted: nothing more.
    expect(lines.filter((line) => line.startsWith('-'))).toHaveLength(1000 + 50 - 1);
    expect(lines.filter((line) => line.startsWith('+'))).toHaveLength(1000 - 1 + 1);
  }, 60_000);

  it('diffs two entirely different rulesets of 60,000 lines as all removed, all added', () => {
    const before = Array.from({ length: 60_000 }, (_, i) => `old ${i}`);
    const after = Array.from({ length: 60_000 }, (_, i) => `new ${i}`);
    const rules = diffRules(before, after);
    expect(rules.removed).toEqual(before);
    expect(rules.added).toEqual(after);
  }, 60_000);

  it('keeps a moved block as removed in one place and added in the other, the rest equal', () => {
    const before = Array.from({ length: 40_000 }, (_, i) => `rule ${i}`);
    const after = [...before.slice(0, 10_000), ...before.slice(30_000), ...before.slice(10_000, 30_000)];
    const hunks = diffLineHunks(before, after);
    expect(applyHunks(before, hunks)).toEqual(after);
    const changed = hunks.flatMap((hunk) => hunk.lines).filter((line) => !line.startsWith(' '));
    expect(changed).toHaveLength(20_000);
  }, 60_000);
});
