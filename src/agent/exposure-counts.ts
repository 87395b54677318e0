// What a load changed, counted in exposures (the unit of plan's summary and of `exposures` in the
// agent's logs): an exposure is one family of one entry, named in its pass rules by its label.
// Pure: takes normalized rule lines, the ones read-deployed's normalizedLines() makes.

export interface ExposureCounts {
  added: number;
  changed: number;
  removed: number;
}

const PASS_IN = /^pass in\b.*\b(inet6?)\b.*\blabel "([^"]*)"/;

/** Per exposure (family and label of a `pass in` rule), its rule lines, sorted. */
function exposuresOf(lines: readonly string[]): Map<string, string> {
  const found = new Map<string, string[]>();
  for (const line of lines) {
    const match = PASS_IN.exec(line);
    if (match === null) continue;
    const key = `${match[1] ?? ''} ${match[2] ?? ''}`;
    const group = found.get(key);
    if (group === undefined) found.set(key, [line]);
    else group.push(line);
  }
  const out = new Map<string, string>();
  for (const [key, group] of found) out.set(key, [...group].sort().join('\n'));
  return out;
}

/** Exposures only in `after` (added), only in `before` (removed), and in both with other rules (changed). */
export function countExposureChanges(before: readonly string[], after: readonly string[]): ExposureCounts {
  const was = exposuresOf(before);
  const now = exposuresOf(after);
  let added = 0;
  let changed = 0;
  let removed = 0;
  for (const [key, rules] of now) {
    const old = was.get(key);
    if (old === undefined) added += 1;
    else if (old !== rules) changed += 1;
  }
  for (const key of was.keys()) if (!now.has(key)) removed += 1;
  return { added, changed, removed };
}

/** At most `limit` lines, then `and K more` when there were more. */
export function boundedLines(lines: readonly string[], limit: number): string[] {
  if (lines.length <= limit) return [...lines];
  return [...lines.slice(0, limit), `and ${lines.length - limit} more`];
}
