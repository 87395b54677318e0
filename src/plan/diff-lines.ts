// A line diff whose cost stays near-linear in the number of lines, whatever the two texts are:
// the plan's unified diff of ruleset lines, at tens of thousands of rules. Small edits get the
// shortest diff (Myers's, as the `diff` package computes it); past a bound on the edit length,
// lines that occur once in each text anchor the diff and only the stretches between anchors are
// diffed, so a plan never pays the quadratic worst case of a shortest-diff search.
import { diffArrays } from 'diff';

export interface LineHunk {
  /** 1-based first line of the hunk in the old and the new text (as in `@@ -a,b +c,d @@`). */
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** The hunk's lines, each prefixed by ' ' (context), '-' (old only) or '+' (new only). */
  lines: string[];
}

/**
 * Above this much work (edit length times lines), the shortest diff gives way to the anchored
 * one. At a few thousand lines every diff is the shortest; at 150,000 lines, up to 64 edits are.
 */
const SHORTEST_DIFF_BUDGET = 4_000_000;
const MIN_EDIT_LENGTH = 64;
/** Between two anchors, a stretch without anchors of its own is diffed up to this many edits. */
const GAP_EDIT_LENGTH = 64;

export interface DiffOptions {
  /** Equal lines shown around each change (3 unless told). */
  context?: number;
  /** Longest edit script searched for before anchoring; by default it shrinks as texts grow. */
  maxEditLength?: number;
}

/** Unified-diff hunks turning `before` into `after`, with `context` lines around each change. */
export function diffLineHunks(
  before: readonly string[],
  after: readonly string[],
  options: DiffOptions = {},
): LineHunk[] {
  // The common beginning is equal lines whatever the diff (the shortest-diff search starts by
  // taking it too): equal texts, the usual case, cost one comparison a line and nothing more.
  let prefix = 0;
  while (prefix < before.length && prefix < after.length && before[prefix] === after[prefix]) prefix += 1;
  if (prefix === before.length && prefix === after.length) return [];
  const ids = new Map<string, number>();
  const idOf = (line: string): number => {
    let id = ids.get(line);
    if (id === undefined) {
      id = ids.size;
      ids.set(line, id);
    }
    return id;
  };
  const a = before.slice(prefix).map(idOf);
  const b = after.slice(prefix).map(idOf);
  const rest = editRuns(a, b, ids.size, options.maxEditLength);
  const runs: EditRun[] = prefix === 0 ? rest : [{ kind: 'equal', count: prefix }, ...rest];
  return hunksOf(runs, before, after, options.context ?? 3);
}

// -------------------------------------------------------------------------------------------------
// The edit script: runs of equal, removed and added lines, in order.

export interface EditRun {
  kind: 'equal' | 'removed' | 'added';
  count: number;
}

/** The edit runs between two sequences of line ids (ids are below `idCount`). */
export function editRuns(
  a: readonly number[],
  b: readonly number[],
  idCount: number,
  maxEditLength = defaultEditLength(a.length + b.length),
): EditRun[] {
  const shortest = boundedShortest(a, b, maxEditLength);
  if (shortest !== null) return shortest;
  return runsFromMatches(anchoredMatches(a, b, idCount), a.length, b.length);
}

function defaultEditLength(size: number): number {
  return Math.max(MIN_EDIT_LENGTH, Math.floor(SHORTEST_DIFF_BUDGET / Math.max(1, size)));
}

/** Myers's shortest edit script when it is at most `maxEditLength` long, else null. */
function boundedShortest(a: readonly number[], b: readonly number[], maxEditLength: number): EditRun[] | null {
  const changes = diffArrays([...a], [...b], { maxEditLength });
  if (changes === undefined) return null;
  return changes
    .filter((change) => change.count > 0)
    .map((change) => ({ kind: change.added ? 'added' : change.removed ? 'removed' : 'equal', count: change.count }));
}

/**
 * Matched pairs [i, j] (a[i] === b[j]), increasing in both i and j: the common prefix and suffix,
 * then lines found once in each side of a stretch, kept when their order agrees (the longest
 * increasing run of their positions), then the same inside each stretch between two of them.
 * Stretches without such lines get a bounded shortest diff, or none (all removed, all added).
 */
function anchoredMatches(a: readonly number[], b: readonly number[], idCount: number): number[][] {
  const matches: number[][] = [];
  const countA = new Int32Array(idCount);
  const countB = new Int32Array(idCount);
  const posA = new Int32Array(idCount);
  const posB = new Int32Array(idCount);
  const stack: [number, number, number, number][] = [[0, a.length, 0, b.length]];
  for (let range = stack.pop(); range !== undefined; range = stack.pop()) {
    let [a0, a1, b0, b1] = range;
    while (a0 < a1 && b0 < b1 && a[a0] === b[b0]) matches.push([a0++, b0++]);
    while (a0 < a1 && b0 < b1 && a[a1 - 1] === b[b1 - 1]) matches.push([--a1, --b1]);
    if (a0 === a1 || b0 === b1) continue;
    for (let i = a0; i < a1; i += 1) {
      const id = a[i] ?? 0;
      countA[id] = (countA[id] ?? 0) + 1;
      posA[id] = i;
    }
    for (let j = b0; j < b1; j += 1) {
      const id = b[j] ?? 0;
      countB[id] = (countB[id] ?? 0) + 1;
      posB[id] = j;
    }
    const unique: number[][] = [];
    for (let i = a0; i < a1; i += 1) {
      const id = a[i] ?? 0;
      if (countA[id] === 1 && countB[id] === 1) unique.push([i, posB[id] ?? 0]);
    }
    for (let i = a0; i < a1; i += 1) countA[a[i] ?? 0] = 0;
    for (let j = b0; j < b1; j += 1) countB[b[j] ?? 0] = 0;
    const anchors = longestIncreasing(unique);
    if (anchors.length === 0) {
      const gap = boundedShortest(a.slice(a0, a1), b.slice(b0, b1), GAP_EDIT_LENGTH);
      if (gap !== null) pushRunMatches(matches, gap, a0, b0);
      continue;
    }
    // Stretches between anchors, pushed last first so that ranges are taken in no particular
    // order: matches are sorted at the end.
    let prevA = a0;
    let prevB = b0;
    for (const [i, j] of anchors) {
      if (i === undefined || j === undefined) continue;
      matches.push([i, j]);
      if (prevA < i || prevB < j) stack.push([prevA, i, prevB, j]);
      prevA = i + 1;
      prevB = j + 1;
    }
    if (prevA < a1 || prevB < b1) stack.push([prevA, a1, prevB, b1]);
  }
  return matches.sort((x, y) => (x[0] ?? 0) - (y[0] ?? 0));
}

function pushRunMatches(matches: number[][], runs: readonly EditRun[], a0: number, b0: number): void {
  let i = a0;
  let j = b0;
  for (const run of runs) {
    if (run.kind === 'equal') for (let k = 0; k < run.count; k += 1) matches.push([i++, j++]);
    else if (run.kind === 'removed') i += run.count;
    else j += run.count;
  }
}

/** The longest subsequence of pairs (sorted by their first) whose seconds increase: n log n. */
function longestIncreasing(pairs: readonly number[][]): number[][] {
  // tails[k]: index in pairs of the smallest second ending an increasing run of length k + 1.
  const tails: number[] = [];
  const previous = new Int32Array(pairs.length).fill(-1);
  const second = (index: number | undefined): number => pairs[index ?? 0]?.[1] ?? 0;
  pairs.forEach((pair, index) => {
    const value = pair[1] ?? 0;
    let low = 0;
    let high = tails.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (second(tails[middle]) < value) low = middle + 1;
      else high = middle;
    }
    if (low > 0) previous[index] = tails[low - 1] ?? -1;
    tails[low] = index;
  });
  const chain: number[][] = [];
  for (let index = tails.at(-1) ?? -1; index >= 0; index = previous[index] ?? -1) {
    const pair = pairs[index];
    if (pair !== undefined) chain.push(pair);
  }
  return chain.reverse();
}

/** Runs from sorted matches: between two matches, the old lines removed, then the new added. */
function runsFromMatches(matches: readonly number[][], lengthA: number, lengthB: number): EditRun[] {
  const runs: EditRun[] = [];
  const push = (kind: EditRun['kind'], count: number): void => {
    if (count === 0) return;
    const last = runs.at(-1);
    if (last?.kind === kind) last.count += count;
    else runs.push({ kind, count });
  };
  let i = 0;
  let j = 0;
  for (const [x = 0, y = 0] of matches) {
    push('removed', x - i);
    push('added', y - j);
    push('equal', 1);
    i = x + 1;
    j = y + 1;
  }
  push('removed', lengthA - i);
  push('added', lengthB - j);
  return runs;
}

// -------------------------------------------------------------------------------------------------
// Hunks, grouped as the `diff` package's structuredPatch groups them: a hunk opens with up to
// `context` equal lines before a change; an equal run of at most twice the context between two
// changes (and not the last run) joins them; any other equal run closes the hunk after `context`
// of its lines.

function hunksOf(
  runs: readonly EditRun[],
  before: readonly string[],
  after: readonly string[],
  context: number,
): LineHunk[] {
  const hunks: LineHunk[] = [];
  let open: LineHunk | null = null;
  let oldLine = 1;
  let newLine = 1;
  const all = [...runs, { kind: 'equal', count: 0 } as const];
  for (let index = 0; index < all.length; index += 1) {
    const run = all[index];
    if (run === undefined) break;
    if (run.kind !== 'equal') {
      if (open === null) {
        const previous = all[index - 1];
        const lead = previous === undefined ? 0 : Math.min(context, previous.count);
        open = { oldStart: oldLine - lead, oldLines: 0, newStart: newLine - lead, newLines: 0, lines: [] };
        for (let k = oldLine - 1 - lead; k < oldLine - 1; k += 1) open.lines.push(` ${before[k] ?? ''}`);
      }
      if (run.kind === 'added') {
        for (let k = 0; k < run.count; k += 1) open.lines.push(`+${after[newLine - 1 + k] ?? ''}`);
        newLine += run.count;
      } else {
        for (let k = 0; k < run.count; k += 1) open.lines.push(`-${before[oldLine - 1 + k] ?? ''}`);
        oldLine += run.count;
      }
      continue;
    }
    if (open !== null) {
      const joins = run.count <= context * 2 && index < all.length - 2;
      const shown = joins ? run.count : Math.min(run.count, context);
      for (let k = 0; k < shown; k += 1) open.lines.push(` ${before[oldLine - 1 + k] ?? ''}`);
      if (!joins) {
        open.oldLines = oldLine - open.oldStart + shown;
        open.newLines = newLine - open.newStart + shown;
        hunks.push(open);
        open = null;
      }
    }
    oldLine += run.count;
    newLine += run.count;
  }
  return hunks;
}
