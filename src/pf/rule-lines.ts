// Rule-line comparison: a ruleset's rules in the canonical form every comparison uses, the lines
// pfctl prints after a load. Desired and deployed rulesets go through the same normalization, so a
// ruleset compares equal to itself read back from pf. Pure: no state kept between calls.
import { createHash } from 'node:crypto';
import { normalizeAsLoaded, parsePfctlOutput, printRuleLines } from './parse-pfctl.js';
import { renderedRuleLines } from './render-ruleset.js';

/** A ruleset's rule lines as pf would print them once loaded (numeric ports, defaults filled in). */
export function normalizedLines(text: string): string[] {
  return renderedRuleLines(text) ?? parsedNormalizedLines(text);
}

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

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * A digest of a ruleset's rules, not of its text: the compiled text (header comments and all) and
 * pfctl's printed form of the same rules agree. Takes normalizedLines() of the ruleset.
 */
export function linesDigest(lines: readonly string[]): string {
  return sha256(lines.join('\n'));
}
