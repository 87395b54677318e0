// Mapping pfctl's `stdin:LINE:` errors back to manifest entries, without pfctl.
import { describe, expect, it } from 'vitest';
import { mapPfctlErrors } from '../../src/apply/map-pfctl-errors.js';
import { renderRuleset } from '../../src/pf/render-ruleset.js';
import { DB, ruleset, WEB, WEB_TLS } from './apply-fixtures.js';

const TEXT = ruleset([WEB, WEB_TLS, DB]);
const LINES = TEXT.split('\n');
const lineOf = (needle: string): number => LINES.findIndex((l) => l.includes(needle)) + 1;

describe('mapPfctlErrors', () => {
  it.each([
    [
      'an rdr line goes to its entry',
      { line: lineOf('port = 8443 tag pfexpose ->'), want: [['manifests/web.yaml', 7]] },
    ],
    ['a pass line goes to its entry', { line: lineOf(`label "${DB.label}"`), want: [['manifests/db.yaml', 4]] }],
    ['a header comment has no entry', { line: 1, want: [['stdin', 1]] }],
    ['a line past the end has no entry', { line: 99, want: [['stdin', 99]] }],
  ])('%s', (_name, { line, want }) => {
    const diagnostics = mapPfctlErrors([{ line, message: 'syntax error' }], TEXT, [WEB, WEB_TLS, DB], 'freebsd');
    expect(diagnostics.map((d) => [d.file, d.line])).toEqual(want);
    expect(diagnostics.every((d) => d.code === 'pfctl-rejected' && d.severity === 'error')).toBe(true);
  });

  it('tries both dialects when none is given', () => {
    const openbsd = renderRuleset([WEB], { dialect: 'openbsd' });
    const line = openbsd.split('\n').findIndex((l) => l.includes('rdr-to')) + 1;
    expect(line).toBeGreaterThan(0);
    const diagnostics = mapPfctlErrors([{ line, message: 'syntax error' }], openbsd, [WEB, DB]);
    expect(diagnostics.map((d) => [d.file, d.line])).toEqual([['manifests/web.yaml', 6]]);
    expect(
      mapPfctlErrors([{ line, message: 'syntax error' }], openbsd, [WEB, DB], 'freebsd').map((d) => d.file),
    ).toEqual(['stdin']);
  });

  it('reports one diagnostic per entry and error, sorted', () => {
    const errors = [
      lineOf(`label "${DB.label}"`),
      lineOf('port = 5432 tag pfexpose ->'),
      lineOf('port = 5432 tag pfexpose ->'),
    ].map((line) => ({ line, message: 'syntax error' }));
    const diagnostics = mapPfctlErrors(errors, TEXT, [WEB, WEB_TLS, DB], 'freebsd');
    expect(diagnostics).toHaveLength(2);
    expect(diagnostics.map((d) => d.message).sort()).toEqual(diagnostics.map((d) => d.message));
    expect(diagnostics.map((d) => d.hint).sort()).toEqual(
      [errors[0], errors[1]].map((e) => `ruleset line ${e?.line}: ${LINES[(e?.line ?? 0) - 1]}`).sort(),
    );
  });
});
