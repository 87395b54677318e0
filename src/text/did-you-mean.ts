// "Did you mean ...?" for misspelt keys, values and host names: the closest candidate by edit
// distance, when it is close enough to be a plausible typo, in the one wording every message uses.

/** The suggestion text for word among candidates (`did you mean NAME?`), or null without a close one. */
export function didYouMean(word: string, candidates: readonly string[]): string | null {
  const suggestion = closestWord(word, candidates);
  return suggestion === null ? null : suggest(suggestion);
}

/** The one wording of a suggestion, for callers that found the candidate another way (a table of aliases). */
export function suggest(candidate: string): string {
  return `did you mean ${candidate}?`;
}

export function closestWord(word: string, candidates: readonly string[]): string | null {
  const lower = word.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance || (distance === bestDistance && best !== null && candidate < best)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  return best !== null && bestDistance <= limit ? best : null;
}

/** Levenshtein distance with adjacent transpositions (prots -> ports is one edit). */
export function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.max(a.length, b.length);
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [];
    for (let j = 0; j <= b.length; j++) {
      if (i === 0 || j === 0) {
        row.push(i + j);
        continue;
      }
      const previous = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(value);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? Math.max(a.length, b.length);
}
