// Colour (issue 11): a privileged host port newly open to every source is never painted green,
// neither its change line nor its rules in the diff; TERM=dumb and NO_COLOR turn colour off.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useColor } from '../../src/cli/context.js';
import type { Exposure } from '../../src/model/exposure.js';
import { renderRuleset } from '../../src/pf/render-ruleset.js';
import { formatPlanMarkdown } from '../../src/plan/format-plan-markdown.js';
import { formatPlanText } from '../../src/plan/format-plan-text.js';
import { deployedFromText, desiredState, planChanges } from '../../src/plan/plan-changes.js';
import { fakeContext } from '../helpers/cli.js';
import { exposure } from './exposure-fixture.js';

const GREEN = '\u001b[32m';
const ALARM = '\u001b[1;31m';

function planOf(desired: Exposure[], deployed: Exposure[]) {
  const state = deployedFromText(renderRuleset(deployed, { dialect: 'freebsd' }));
  return planChanges(desiredState(desired, renderRuleset(desired, { dialect: 'freebsd' })), state);
}

function planText(desired: Exposure[], deployed: Exposure[]): string {
  return formatPlanText(planOf(desired, deployed), { color: true, against: 'test' });
}

const port = (n: number) => ({ start: n, end: n });

describe('a privileged port newly open to every source', () => {
  it('added: its change line and every one of its rules are bold red, never green', () => {
    const risky = exposure({
      container: 'ssh',
      interface: null,
      hostPort: port(22),
      containerAddress: '10.0.0.9',
      containerPort: port(2222),
    });
    const calm = exposure({
      container: 'web',
      hostPort: port(8080),
      containerAddress: '10.0.0.2',
      containerPort: port(80),
    });
    const text = planText([risky, calm], []);
    const lines = text.split('\n');
    const riskyLines = lines.filter((l) => l.includes('ssh ') || l.includes('10.0.0.9'));
    expect(riskyLines.length).toBeGreaterThanOrEqual(3); // change line, rdr, pass in
    for (const line of riskyLines) {
      expect(line).not.toContain(GREEN);
      if (line.includes('+')) expect(line).toContain(ALARM);
    }
    // The ordinary addition stays green.
    expect(lines.find((l) => l.includes('+ web '))).toContain(GREEN);
  });

  it('changed from a few sources to every source: bold red too', () => {
    const before = exposure({
      container: 'dns',
      protocol: 'udp',
      hostPort: port(53),
      containerAddress: '10.0.0.5',
      containerPort: port(53),
      from: ['192.0.2.0/24'],
    });
    const after = { ...before, from: [] };
    const text = planText([after], [before]);
    for (const line of text.split('\n').filter((l) => l.includes('10.0.0.5') || l.includes('dns '))) {
      expect(line).not.toContain(GREEN);
    }
    expect(text.split('\n').find((l) => l.includes('~ dns '))).toContain(ALARM);
  });

  it('property: whatever the port and the sources, a privileged port opened to all is never green', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1023 }),
        fc.integer({ min: 1, max: 65535 }),
        fc.boolean(),
        (host, target, onInterface) => {
          const e = exposure({
            container: 'risky',
            interface: onInterface ? 'em0' : null,
            hostPort: port(host),
            containerAddress: '10.9.9.9',
            containerPort: port(target),
          });
          const text = planText([e], []);
          for (const line of text.split('\n').filter((l) => l.includes('10.9.9.9') || l.includes('risky ')))
            expect(line).not.toContain(GREEN);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('useColor', () => {
  it.each<[string, Record<string, string>, boolean, boolean]>([
    ['a terminal', {}, true, true],
    ['not a terminal', {}, false, false],
    ['NO_COLOR=1', { NO_COLOR: '1' }, true, false],
    ['NO_COLOR=0 (any non-empty value counts)', { NO_COLOR: '0' }, true, false],
    ['NO_COLOR= (empty: ignored)', { NO_COLOR: '' }, true, true],
    ['TERM=dumb', { TERM: 'dumb' }, true, false],
    ['TERM=xterm-256color', { TERM: 'xterm-256color' }, true, true],
  ])('%s', (_name, env, tty, want) => {
    const { ctx } = fakeContext({ tty, env });
    expect(useColor(ctx)).toBe(want);
  });
});

describe("markdown (GitHub paints a diff block's + lines green)", () => {
  it('the rules of a privileged port newly open to all are marked !, never +; the others stay +', () => {
    const risky = exposure({
      container: 'ssh',
      interface: null,
      hostPort: port(22),
      containerAddress: '10.0.0.9',
      containerPort: port(2222),
    });
    const calm = exposure({
      container: 'web',
      hostPort: port(8080),
      containerAddress: '10.0.0.2',
      containerPort: port(80),
    });
    const md = formatPlanMarkdown(planOf([risky, calm], []), { against: 'test' });
    const diff = md.slice(md.indexOf('```diff'));
    const riskyRules = diff.split('\n').filter((l) => l.includes('10.0.0.9'));
    expect(riskyRules.length).toBeGreaterThanOrEqual(3); // rdr, pass in, pass out
    for (const line of riskyRules) expect(line.startsWith('!')).toBe(true);
    expect(
      diff
        .split('\n')
        .filter((l) => l.includes('10.0.0.2'))
        .every((l) => l.startsWith('+')),
    ).toBe(true);
    expect(md).toContain('! marks a privileged port newly open to any source');
  });

  it('without such a change the diff has no ! line and no legend', () => {
    const calm = exposure({
      container: 'web',
      hostPort: port(8080),
      containerAddress: '10.0.0.2',
      containerPort: port(80),
    });
    const md = formatPlanMarkdown(planOf([calm], []), { against: 'test' });
    expect(md.split('\n').some((l) => l.startsWith('!'))).toBe(false);
    expect(md).not.toContain('! marks');
  });
});
