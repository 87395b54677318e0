// Which labels of a ruleset admit fewer sources after a change than before: what `apply
// --kill-states` ends besides the labels a load removed. Narrowing `from` is the usual emergency
// change, and pf keeps the states the wider rule made until they are ended.
import { parsePfctlOutput } from '../pf/parse-pfctl.js';
import type { FilterRule } from '../pf/rule.js';
import { networkCovers } from './network-covers.js';

/** A source a label's pass rules admit: a network of one family, or a text compared as is. */
type Source = { kind: 'network'; text: string } | { kind: 'other'; text: string };

/**
 * The labels present in both rulesets whose pass rules in `after` no longer admit every source
 * their pass rules in `before` admitted, sorted. A source is covered when a network of `after`
 * contains it (`any` is the whole of its rule's family, or both families for a rule without one);
 * a source pfexpose does not write (a table, an interface, a negation) is covered only by the
 * same source. Labels only one side has are not returned (removed labels are the caller's).
 */
export function narrowedLabels(before: string, after: string): string[] {
  const old = labelSources(before);
  const next = labelSources(after);
  const narrowed: string[] = [];
  for (const [label, sources] of old) {
    const kept = next.get(label);
    if (kept === undefined) continue;
    if (sources.some((source) => !kept.some((wider) => covers(wider, source)))) narrowed.push(label);
  }
  return narrowed.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Per label, every source its pass rules admit (both directions: they carry the same `from`). */
function labelSources(text: string): Map<string, Source[]> {
  const byLabel = new Map<string, Source[]>();
  for (const rule of parsePfctlOutput(text).rules) {
    if (rule.kind !== 'filter' || rule.action !== 'pass' || rule.labels.length === 0) continue;
    const sources = sourcesOf(rule);
    for (const label of rule.labels) {
      const list = byLabel.get(label);
      if (list === undefined) byLabel.set(label, [...sources]);
      else list.push(...sources);
    }
  }
  return byLabel;
}

function sourcesOf(rule: FilterRule): Source[] {
  const { address } = rule.from;
  if (rule.from.negated) return [{ kind: 'other', text: `!${JSON.stringify(address)}` }];
  if (address.kind === 'any') {
    const all: Source[] = [];
    if (rule.family !== 'inet6') all.push({ kind: 'network', text: '0.0.0.0/0' });
    if (rule.family !== 'inet') all.push({ kind: 'network', text: '::/0' });
    return all;
  }
  if (address.kind === 'network') return [{ kind: 'network', text: address.text }];
  return [{ kind: 'other', text: JSON.stringify(address) }];
}

function covers(outer: Source, inner: Source): boolean {
  if (outer.kind === 'network' && inner.kind === 'network')
    return outer.text === inner.text || networkCovers(outer.text, inner.text);
  return outer.kind === inner.kind && outer.text === inner.text;
}
