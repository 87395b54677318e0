// The agent's `added`/`removed` count exposures, the unit plan's summary uses: checked against
// planChanges on rulesets the renderer makes, for both dialects.
import { describe, expect, it } from 'vitest';
import { boundedLines, countExposureChanges } from '../../src/agent/exposure-counts.js';
import { normalizedLines } from '../../src/pf/rule-lines.js';
import type { Exposure } from '../../src/model/exposure.js';
import { renderRuleset } from '../../src/pf/render-ruleset.js';
import { deployedFromText, desiredState, planChanges } from '../../src/plan/plan-changes.js';
import { exposure } from '../plan/exposure-fixture.js';

const port = (n: number) => ({ start: n, end: n });
const web = exposure({ label: 'web:tcp:em0:8080' });
const web6 = exposure({ family: 'inet6', containerAddress: 'fd00::2', label: 'web:tcp:em0:8080' });
const dns = exposure({
  container: 'dns',
  protocol: 'udp',
  interface: null,
  hostPort: port(53),
  containerAddress: '10.0.0.5',
  containerPort: port(53),
  label: 'dns:udp:any:53',
});
const db = exposure({
  container: 'db',
  hostPort: port(5432),
  containerAddress: '10.0.0.6',
  containerPort: port(5432),
  label: 'db:tcp:em0:5432',
});
const webNarrowed = { ...web, from: ['192.0.2.0/24'] };

describe('countExposureChanges', () => {
  it.each<[string, Exposure[], Exposure[]]>([
    ['one added', [web], [web, dns]],
    ['two families added', [dns], [dns, web, web6]],
    ['one removed', [web, dns], [web]],
    ['sources changed', [web, dns], [webNarrowed, dns]],
    ['from nothing', [], [web, web6, dns, db]],
    ['to nothing', [web, dns], []],
  ])('%s: the same counts as plan', (_name, before, after) => {
    for (const dialect of ['freebsd', 'openbsd'] as const) {
      const was = renderRuleset(before, { dialect });
      const now = renderRuleset(after, { dialect });
      const counts = countExposureChanges(normalizedLines(was), normalizedLines(now));
      const plan = planChanges(desiredState(after, now), deployedFromText(was));
      expect(counts).toEqual({
        added: plan.summary.added,
        changed: plan.summary.changed,
        removed: plan.summary.removed,
      });
      expect(counts.added + counts.changed + counts.removed).toBeGreaterThan(0);
    }
  });
});

describe('boundedLines', () => {
  it.each([
    [3, ['a', 'b'], ['a', 'b']],
    [2, ['a', 'b'], ['a', 'b']],
    [2, ['a', 'b', 'c', 'd'], ['a', 'b', 'and 2 more']],
  ])('limit %i', (limit, given, want) => {
    expect(boundedLines(given, limit)).toEqual(want);
  });
});
