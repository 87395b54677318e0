// FreeBSD's own pfctl vectors as golden data: the printed form (.ok) must be a fixed point of
// parse-then-print, rule files (.in) inside our subset must print as pfctl prints them, and the
// syntactic failures (.fail) must be reported with pfctl's message.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeAsLoaded, parsePfctlOutput, printRuleLines } from '../../src/pf/parse-pfctl.js';
import type { ParsedRule } from '../../src/pf/rule.js';

const directory = new URL('../fixtures/pfctl-vectors/', import.meta.url);
const files = readdirSync(directory).sort();
const read = (name: string): string => readFileSync(new URL(name, directory), 'utf8');
const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');
const stems = (extension: string): string[] =>
  files.filter((f) => f.endsWith(extension)).map((f) => f.slice(0, -extension.length));

function allRules(rules: readonly ParsedRule[]): ParsedRule[] {
  return rules.flatMap((rule) =>
    rule.kind === 'anchor' && rule.body !== null ? [rule, ...allRules(rule.body)] : [rule],
  );
}

/** .in files whose rules fall inside what we parse and normalize like pfctl. */
const loadable = ['pf0100', 'pf1018', 'pf1028', 'pf1029', 'pf1030', 'pf1031', 'pf1032', 'pf1065', 'pf1066', 'pf1080'];
/** .in files we do not turn into .ok, and why. */
const outOfScope: Record<string, string> = {
  pf0041: 'pfctl resolves user and group names (root, sshd) through the host databases',
};

describe('pfctl vectors', () => {
  it('classifies every .in vector', () => {
    const classified = [...loadable, ...Object.keys(outOfScope), ...stems('.fail')].sort();
    expect(stems('.in')).toEqual(classified);
  });

  describe('the printed form is a fixed point', () => {
    it.each(stems('.ok'))('%s.ok', (name) => {
      const text = read(`${name}.ok`);
      const { rules, diagnostics } = parsePfctlOutput(text);
      expect(diagnostics).toEqual([]);
      expect(allRules(rules).filter((rule) => rule.kind === 'unparsed')).toEqual([]);
      expect(rules.flatMap((rule) => printRuleLines(rule))).toEqual(lines(text));
    });
  });

  describe('rule files print as pfctl prints them', () => {
    it.each(loadable)('%s.in', (name) => {
      const { rules, diagnostics } = parsePfctlOutput(read(`${name}.in`));
      expect(diagnostics).toEqual([]);
      const printed = normalizeAsLoaded(rules).flatMap((rule) => printRuleLines(rule, { ports: 'names' }));
      expect(printed).toEqual(lines(read(`${name}.ok`)));
    });
  });

  describe('syntax errors carry pfctl message', () => {
    it.each(['pf1033', 'pf1072'])('%s.in', (name) => {
      const { rules, diagnostics } = parsePfctlOutput(read(`${name}.in`));
      expect(diagnostics).toHaveLength(1);
      expect(diagnostics[0]?.line).toBe(1);
      expect(diagnostics[0]?.message).toMatch(new RegExp(read(`${name}.fail`).trim()));
      expect(rules.map((rule) => rule.kind)).toEqual(['unparsed']);
    });

    it('pf1070: the included file reports FILE:LINE: syntax error', () => {
      const { rules, diagnostics } = parsePfctlOutput(read('pf1070.include'));
      const reported = diagnostics.map((d) => `pf1070.include:${d.line}: ${d.message}`);
      expect(reported).toHaveLength(1);
      expect(reported[0]).toMatch(new RegExp(read('pf1070.fail').trim()));
      expect(rules.map((rule) => rule.kind)).toEqual(['filter', 'unparsed']);
    });

    it('pf1070: include itself is reported as unsupported, not followed', () => {
      const { rules, diagnostics } = parsePfctlOutput(read('pf1070.in'));
      expect(diagnostics).toEqual([{ line: 2, message: expect.stringMatching(/^include is not supported/) }]);
      expect(rules.map((rule) => rule.kind)).toEqual(['filter', 'unparsed']);
    });
  });
});
