// What `pfexpose history` shows of the state directory's records: for each entry its number (the id
// `rollback --to` takes), when and how it came to be, and which exposures (by their labels) it
// added and removed against the entry before it of the same anchor. Pure: takes what
// StateDir.readHistory() read.
import { rulesetLabels } from '../pf/rule-lines.js';
import type { AppliedRecord, HistoryKind } from './state-dir.js';

export interface HistoryItem {
  id: number;
  anchor: string;
  /** ISO 8601, as recorded. */
  time: string;
  action: HistoryKind;
  manifestDigest: string;
  rulesetDigest: string;
  /** Rules in the entry's ruleset (labels of filter rules, one per exposure). */
  exposures: number;
  /**
   * Exposure labels added and removed against the previous entry of the same anchor; null when that
   * entry is no longer in the history (trimmed to the last entries), so the difference is unknown.
   * An `initial` entry is compared with the empty anchor.
   */
  changes: { added: string[]; removed: string[] } | null;
}

/** entries: newest first, as readHistory() gives them. Returns the items newest first. */
export function summarizeHistory(entries: readonly (AppliedRecord & { sequence: number })[]): HistoryItem[] {
  const oldestFirst = [...entries].sort((a, b) => a.sequence - b.sequence);
  const lastLabels = new Map<string, string[]>();
  const items = oldestFirst.map((entry): HistoryItem => {
    const labels = rulesetLabels(entry.ruleset);
    const before = lastLabels.get(entry.anchor) ?? (entry.kind === 'initial' ? [] : undefined);
    lastLabels.set(entry.anchor, labels);
    return {
      id: entry.sequence,
      anchor: entry.anchor,
      time: entry.appliedAt,
      action: entry.kind,
      manifestDigest: entry.manifestDigest,
      rulesetDigest: entry.rulesetDigest,
      exposures: labels.length,
      changes: before === undefined ? null : labelChanges(before, labels),
    };
  });
  return items.reverse();
}

function labelChanges(before: readonly string[], after: readonly string[]): { added: string[]; removed: string[] } {
  const had = new Set(before);
  const has = new Set(after);
  return { added: after.filter((label) => !had.has(label)), removed: before.filter((label) => !has.has(label)) };
}
