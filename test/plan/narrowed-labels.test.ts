// narrowedLabels: which labels admit fewer sources after a change (what --kill-states ends besides
// the removed labels). Rulesets in pfctl's printed form, the way the state directory records them.
import { describe, expect, it } from 'vitest';
import { narrowedLabels } from '../../src/plan/narrowed-labels.js';

const pass = (family: string, from: string, label: string, direction = 'in'): string =>
  `pass ${direction} quick ${family} proto tcp from ${from} to ${family === 'inet' ? '10.0.0.2' : 'fd00::2'} port = 80 flags S/SA keep state label "${label}" tagged pfexpose`;

const cases: [string, { before: string[]; after: string[]; want: string[] }][] = [
  [
    'any to one network',
    { before: [pass('inet', 'any', 'w')], after: [pass('inet', '203.0.113.0/24', 'w')], want: ['w'] },
  ],
  [
    'a list losing a network',
    {
      before: [pass('inet', '198.51.100.0/24', 'w'), pass('inet', '203.0.113.0/24', 'w')],
      after: [pass('inet', '203.0.113.0/24', 'w')],
      want: ['w'],
    },
  ],
  [
    'a network to a smaller one',
    { before: [pass('inet', '203.0.113.0/24', 'w')], after: [pass('inet', '203.0.113.0/25', 'w')], want: ['w'] },
  ],
  [
    'a network to another',
    { before: [pass('inet', '203.0.113.0/24', 'w')], after: [pass('inet', '198.51.100.0/24', 'w')], want: ['w'] },
  ],
  [
    'a family dropped (both families to IPv4 only)',
    { before: [pass('inet', 'any', 'w'), pass('inet6', 'any', 'w')], after: [pass('inet', 'any', 'w')], want: ['w'] },
  ],
  [
    'the out rule narrowed with its in rule',
    {
      before: [pass('inet', 'any', 'w'), pass('inet', 'any', 'w', 'out')],
      after: [pass('inet', '192.0.2.0/24', 'w'), pass('inet', '192.0.2.0/24', 'w', 'out')],
      want: ['w'],
    },
  ],
  [
    'unchanged',
    { before: [pass('inet', '203.0.113.0/24', 'w')], after: [pass('inet', '203.0.113.0/24', 'w')], want: [] },
  ],
  ['widened to any', { before: [pass('inet', '203.0.113.0/24', 'w')], after: [pass('inet', 'any', 'w')], want: [] }],
  [
    'widened to a bigger network',
    { before: [pass('inet', '203.0.113.0/25', 'w')], after: [pass('inet', '203.0.113.0/24', 'w')], want: [] },
  ],
  [
    'a network added',
    {
      before: [pass('inet', '203.0.113.0/24', 'w')],
      after: [pass('inet', '203.0.113.0/24', 'w'), pass('inet', '192.0.2.0/24', 'w')],
      want: [],
    },
  ],
  [
    'an IPv6 network inside any',
    { before: [pass('inet6', '2001:db8::/32', 'w')], after: [pass('inet6', 'any', 'w')], want: [] },
  ],
  [
    'removed and added labels are not narrowed',
    { before: [pass('inet', 'any', 'old')], after: [pass('inet', '192.0.2.0/24', 'new')], want: [] },
  ],
  [
    'only the narrowed label of several, sorted',
    {
      before: [pass('inet', 'any', 'b'), pass('inet', 'any', 'a'), pass('inet', 'any', 'c')],
      after: [pass('inet', '192.0.2.0/24', 'b'), pass('inet', 'any', 'c'), pass('inet', '192.0.2.1', 'a')],
      want: ['a', 'b'],
    },
  ],
  [
    'a table source is covered only by itself',
    { before: [pass('inet', '<ok>', 'w')], after: [pass('inet', '<other>', 'w')], want: ['w'] },
  ],
];

describe('narrowedLabels', () => {
  it.each(cases)('%s', (_name, { before, after, want }) => {
    expect(narrowedLabels(`${before.join('\n')}\n`, `${after.join('\n')}\n`)).toEqual(want);
  });

  it('reads compiled rulesets with their header comments and rdr rules', () => {
    const header = '# pfexpose ruleset for anchor "pfexpose" (freebsd dialect)\n';
    const rdr = (from: string): string =>
      `rdr inet proto tcp from ${from} to (self) port = 8080 tag pfexpose -> 10.0.0.2 port 80\n`;
    expect(
      narrowedLabels(
        `${header}${rdr('any')}${pass('inet', 'any', 'w')}\n`,
        `${header}${rdr('192.0.2.0/24')}${pass('inet', '192.0.2.0/24', 'w')}\n`,
      ),
    ).toEqual(['w']);
  });
});
