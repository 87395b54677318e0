// Reads what pf holds in pfexpose's anchor, in the canonical form every comparison uses: the rule
// lines as pfctl prints them after a load. Desired and deployed rulesets go through the same
// normalization, so a ruleset compares equal to itself read back from pf.
import { renderedRuleLines } from '../pf/render-ruleset.js';
import { normalizeAsLoaded, parsePfctlOutput, printRuleLines } from '../pf/parse-pfctl.js';
import type { Pfctl } from './pfctl.js';

export interface DeployedAnchor {
  /** Normalized rule lines, translation rules first; empty for an empty or missing anchor. */
  lines: string[];
  /** The rules as pfctl printed them (translation, then filter): loadable to restore them. */
  text: string;
  /** Table names in the anchor, sorted. */
  tables: string[];
  /** False when pf says the anchor does not exist (never loaded, not called). */
  exists: boolean;
}

export type DeployedRead =
  ({ kind: 'ok' } & DeployedAnchor) | { kind: 'pf-disabled'; message: string } | { kind: 'failed'; message: string };

export async function readDeployed(pfctl: Pfctl, anchor: string): Promise<DeployedRead> {
  const shown = await pfctl.showAnchor(anchor);
  switch (shown.kind) {
    case 'ok': {
      const text = joinBlocks(shown.nat, shown.filter);
      return { kind: 'ok', lines: normalizedLines(text), text, tables: shown.tables, exists: true };
    }
    case 'anchor-missing':
      return { kind: 'ok', lines: [], text: '', tables: [], exists: false };
    case 'pf-disabled':
      return { kind: 'pf-disabled', message: shown.message };
    default:
      return { kind: 'failed', message: `cannot read anchor "${anchor}": ${shown.message}` };
  }
}

/** A ruleset's rule lines as pf would print them once loaded (numeric ports, defaults filled in). */
export function normalizedLines(text: string): string[] {
  // One apply normalizes the same few texts several times (desired, assumed deployed, recorded):
  // the last few results are kept. Callers never modify the lines they get.
  const known = recentLines.find((entry) => entry.text === text);
  if (known !== undefined) return known.lines;
  const lines = renderedRuleLines(text) ?? parsedNormalizedLines(text);
  recentLines.unshift({ text, lines });
  recentLines.length = Math.min(recentLines.length, 3);
  return lines;
}

const recentLines: { text: string; lines: string[] }[] = [];

/** The slow path of normalizedLines: parse, fill in what pfctl fills in, print. */
export function parsedNormalizedLines(text: string): string[] {
  return normalizeAsLoaded(parsePfctlOutput(text).rules).flatMap((rule) => printRuleLines(rule, { ports: 'numeric' }));
}

/** The labels of a ruleset's filter rules, sorted and without duplicates. */
export function rulesetLabels(text: string): string[] {
  const labels = new Set<string>();
  for (const rule of parsePfctlOutput(text).rules) {
    if (rule.kind === 'filter') for (const label of rule.labels) labels.add(label);
  }
  return [...labels].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function sameLines(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((line, index) => line === b[index]);
}

function joinBlocks(...blocks: string[]): string {
  return blocks
    .filter((block) => block.trim() !== '')
    .map((block) => (block.endsWith('\n') ? block : `${block}\n`))
    .join('');
}
