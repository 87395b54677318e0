import { describe, expect, it } from 'vitest';
import type { Exposure } from '../../src/model/exposure.js';
import { renderRuleset } from '../../src/pf/render-ruleset.js';
import { networkCovers, widenedSources } from '../../src/plan/network-covers.js';
import {
  deployedFromCompiled,
  deployedFromText,
  desiredState,
  diffRules,
  planChanges,
} from '../../src/plan/plan-changes.js';
import type { ChangedField, PlanFlagCode } from '../../src/plan/plan.js';
import { exposure } from './exposure-fixture.js';

const web = exposure({ from: ['192.0.2.0/24'] });
/** Docker's `127.0.0.1:5432:5432`: only the host itself reaches it. */
const loopback = exposure({
  container: 'db',
  interface: null,
  hostAddress: '127.0.0.1',
  hostPort: { start: 5432, end: 5432 },
  containerAddress: '10.13.37.4',
  containerPort: { start: 5432, end: 5432 },
});

function plan(desired: Exposure[], deployed: Exposure[]) {
  const d = renderRuleset(desired, { dialect: 'freebsd' });
  const p = renderRuleset(deployed, { dialect: 'freebsd' });
  return planChanges(desiredState(desired, d), deployedFromCompiled(deployed, p));
}

interface Want {
  kinds: string[];
  fields?: ChangedField[];
  flags?: PlanFlagCode[];
}

const cases: [string, { desired: Exposure[]; deployed: Exposure[]; want: Want }][] = [
  ['nothing changed', { desired: [web], deployed: [web], want: { kinds: [] } }],
  [
    'an exposure open to all added',
    { desired: [exposure()], deployed: [], want: { kinds: ['added'], flags: ['open-to-all'] } },
  ],
  [
    'an IPv6 exposure added',
    {
      desired: [exposure({ family: 'inet6', containerAddress: 'fd00::2', from: ['2001:db8::/32'] })],
      deployed: [],
      want: { kinds: ['added'], flags: ['ipv6-exposed'] },
    },
  ],
  [
    'a privileged host port added',
    {
      desired: [exposure({ hostPort: { start: 443, end: 443 }, from: ['192.0.2.0/24'] })],
      deployed: [],
      want: { kinds: ['added'], flags: ['privileged-port'] },
    },
  ],
  ['an exposure removed', { desired: [], deployed: [web], want: { kinds: ['removed'], flags: [] } }],
  [
    'the container address changed',
    {
      desired: [{ ...web, containerAddress: '10.13.37.3' }],
      deployed: [web],
      want: { kinds: ['changed'], fields: ['containerAddress'], flags: [] },
    },
  ],
  [
    'the host port moved',
    {
      desired: [exposure({ from: web.from, hostPort: { start: 8081, end: 8081 } })],
      deployed: [web],
      want: { kinds: ['changed'], fields: ['hostPort'], flags: [] },
    },
  ],
  [
    'a dynamic host port moved',
    {
      desired: [exposure({ from: web.from, dynamic: true, hostPort: { start: 49001, end: 49001 } })],
      deployed: [exposure({ from: web.from, dynamic: true, hostPort: { start: 49000, end: 49000 } })],
      want: { kinds: ['changed'], fields: ['hostPort'], flags: ['dynamic-port-moved'] },
    },
  ],
  [
    'the host port became privileged',
    {
      desired: [exposure({ from: web.from, hostPort: { start: 80, end: 80 } })],
      deployed: [web],
      want: { kinds: ['changed'], fields: ['hostPort'], flags: ['privileged-port'] },
    },
  ],
  [
    'a privileged port kept: no flag',
    {
      desired: [exposure({ from: web.from, hostPort: { start: 80, end: 80 }, containerAddress: '10.13.37.3' })],
      deployed: [exposure({ from: web.from, hostPort: { start: 80, end: 80 } })],
      want: { kinds: ['changed'], fields: ['containerAddress'], flags: [] },
    },
  ],
  [
    'the container port changed',
    {
      desired: [{ ...web, containerPort: { start: 8000, end: 8000 } }],
      deployed: [web],
      want: { kinds: ['changed'], fields: ['containerPort'], flags: [] },
    },
  ],
  [
    'the interface changed',
    {
      desired: [exposure({ from: web.from, interface: 'em1' })],
      deployed: [web],
      want: { kinds: ['changed'], fields: ['listen'], flags: [] },
    },
  ],
  [
    'an interface became a host address',
    {
      desired: [exposure({ from: web.from, interface: null, hostAddress: '192.0.2.1' })],
      deployed: [web],
      want: { kinds: ['changed'], fields: ['listen'], flags: [] },
    },
  ],
  [
    'the protocol changed',
    {
      desired: [exposure({ from: web.from, protocol: 'udp' })],
      deployed: [web],
      want: { kinds: ['changed'], fields: ['protocol'], flags: ['protocol-changed'] },
    },
  ],
  [
    'the family changed to IPv6',
    {
      desired: [exposure({ family: 'inet6', containerAddress: 'fd00::2', from: ['2001:db8::/32'] })],
      deployed: [web],
      want: { kinds: ['changed'], fields: ['family', 'containerAddress', 'from'], flags: ['ipv6-exposed'] },
    },
  ],
  [
    'the container renamed',
    {
      desired: [exposure({ from: web.from, container: 'www' })],
      deployed: [web],
      want: { kinds: ['changed'], fields: ['container'], flags: ['container-changed'] },
    },
  ],
  [
    'sources narrowed',
    {
      desired: [{ ...web, from: ['192.0.2.128/25'] }],
      deployed: [web],
      want: { kinds: ['changed'], fields: ['from'], flags: [] },
    },
  ],
  [
    'sources widened',
    {
      desired: [{ ...web, from: ['192.0.2.0/24', '198.51.100.0/24'] }],
      deployed: [web],
      want: { kinds: ['changed'], fields: ['from'], flags: ['sources-widened'] },
    },
  ],
  [
    'sources dropped: open to all',
    {
      desired: [{ ...web, from: [] }],
      deployed: [web],
      want: { kinds: ['changed'], fields: ['from'], flags: ['open-to-all'] },
    },
  ],
  [
    'a loopback-only exposure added: reachable from nowhere but the host',
    { desired: [loopback], deployed: [], want: { kinds: ['added'], flags: [] } },
  ],
  [
    'an exposure on another 127/8 address added: loopback only',
    {
      desired: [exposure({ interface: null, hostAddress: '127.0.0.53', hostPort: { start: 5353, end: 5353 } })],
      deployed: [],
      want: { kinds: ['added'], flags: [] },
    },
  ],
  [
    'an IPv6 loopback-only exposure added',
    {
      desired: [exposure({ family: 'inet6', interface: null, hostAddress: '::1', containerAddress: 'fd00::2' })],
      deployed: [],
      want: { kinds: ['added'], flags: ['ipv6-exposed'] },
    },
  ],
  [
    'an exposure on a non-loopback host address added: open to all',
    {
      desired: [exposure({ interface: null, hostAddress: '192.0.2.1' })],
      deployed: [],
      want: { kinds: ['added'], flags: ['open-to-all'] },
    },
  ],
  [
    'host_ip 127.0.0.1 removed, listening on the gateway interface: newly reachable from any source',
    {
      desired: [{ ...loopback, interface: 'em0', hostAddress: null }],
      deployed: [loopback],
      want: { kinds: ['changed'], fields: ['listen'], flags: ['open-to-all'] },
    },
  ],
  [
    'host_ip 127.0.0.1 removed, listening on every address: newly reachable from any source',
    {
      desired: [{ ...loopback, hostAddress: null }],
      deployed: [loopback],
      want: { kinds: ['changed'], fields: ['listen'], flags: ['open-to-all'] },
    },
  ],
  [
    'host_ip ::1 removed: newly reachable from any source',
    {
      desired: [exposure({ family: 'inet6', interface: null, hostAddress: null, containerAddress: 'fd00::2' })],
      deployed: [exposure({ family: 'inet6', interface: null, hostAddress: '::1', containerAddress: 'fd00::2' })],
      want: { kinds: ['changed'], fields: ['listen'], flags: ['open-to-all'] },
    },
  ],
  [
    'loopback moved to the network with sources: those sources are newly admitted',
    {
      desired: [{ ...loopback, interface: 'em0', hostAddress: null, from: ['192.0.2.0/24'] }],
      deployed: [loopback],
      want: { kinds: ['changed'], fields: ['listen', 'from'], flags: ['sources-widened'] },
    },
  ],
  [
    'moved from the network onto loopback: no reachability flag',
    {
      desired: [loopback],
      deployed: [{ ...loopback, interface: 'em0', hostAddress: null, from: ['192.0.2.0/24'] }],
      want: { kinds: ['changed'], fields: ['listen', 'from'], flags: [] },
    },
  ],
  [
    'sources dropped from a loopback-only exposure: still reachable from the host only',
    {
      desired: [loopback],
      deployed: [{ ...loopback, from: ['127.0.0.1'] }],
      want: { kinds: ['changed'], fields: ['from'], flags: [] },
    },
  ],
  [
    'another container took over the host port',
    {
      desired: [exposure({ container: 'new', containerAddress: '10.13.37.9', from: web.from })],
      deployed: [web],
      want: { kinds: ['changed'], fields: ['container', 'containerAddress'], flags: ['container-changed'] },
    },
  ],
  [
    'several flags at once',
    {
      desired: [exposure({ family: 'inet6', containerAddress: 'fd00::2', hostPort: { start: 22, end: 22 } })],
      deployed: [],
      want: { kinds: ['added'], flags: ['open-to-all', 'ipv6-exposed', 'privileged-port'] },
    },
  ],
];

describe('planChanges', () => {
  it.each(cases)('%s', (_name, { desired, deployed, want }) => {
    const got = plan(desired, deployed);
    expect(got.exposures.map((c) => c.kind)).toEqual(want.kinds);
    if (want.fields !== undefined) expect(got.exposures[0]?.fields.map((f) => f.field)).toEqual(want.fields);
    if (want.flags !== undefined) expect(got.exposures[0]?.flags.map((f) => f.code)).toEqual(want.flags);
    expect(got.summary.changes).toBe(want.kinds.length > 0);
  });

  it('pairs by container and port first, so moving one of two listen sides is one change', () => {
    const a = exposure({ interface: null, hostAddress: '192.0.2.1', from: web.from });
    const b = exposure({ interface: null, hostAddress: '192.0.2.2', from: web.from });
    const moved = exposure({ interface: null, hostAddress: '192.0.2.3', from: web.from });
    const got = plan([a, moved], [a, b]);
    expect(got.exposures).toHaveLength(1);
    expect(got.exposures[0]?.fields).toEqual([{ field: 'listen', before: '192.0.2.2', after: '192.0.2.3' }]);
    expect(got.summary.unchanged).toBe(1);
  });

  it('pairs by listen side and host port second: a port taken over by another container', () => {
    const got = plan([exposure({ container: 'new', containerAddress: '10.13.37.9' })], [exposure()]);
    expect(got.exposures.map((c) => c.kind)).toEqual(['changed']);
    expect(got.exposures[0]?.fields.map((f) => f.field)).toEqual(['container', 'containerAddress']);
  });

  it('names the manifest line of each desired-side change', () => {
    const got = plan([exposure({ source: { file: 'a.yaml', line: 12, column: 7 } })], []);
    expect(got.exposures[0]?.desired?.source).toEqual({ file: 'a.yaml', line: 12, column: 7 });
  });

  it('sees no change between a compiled ruleset and the same rules printed back by pfctl -v', () => {
    const ruleset = renderRuleset([web], { dialect: 'freebsd' });
    const printed = ruleset
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line, i) => `@${i} ${line}\n  [ Evaluations: 3 Packets: 0 Bytes: 0 States: 0 ]`)
      .join('\n');
    const got = planChanges(desiredState([web], ruleset), deployedFromText(printed));
    expect(got.summary.changes).toBe(false);
    expect(got.summary.unchanged).toBe(1);
  });

  it('counts the lines of unmanaged rules as removed: loading the anchor replaces them', () => {
    const ruleset = renderRuleset([web], { dialect: 'freebsd' });
    const got = planChanges(desiredState([web], ruleset), deployedFromText(`${ruleset}block in quick on em0 all\n`));
    expect(got.unmanaged).toEqual([
      { kind: 'rule', line: 7, text: 'block in quick on em0 all', reason: 'not a rule pfexpose writes' },
    ]);
    expect(got.rules.removed).toEqual(['block in quick on em0 all']);
    expect(got.summary.changes).toBe(true);
    expect(got.exposures).toEqual([]);
  });

  it('shows every table of the anchor as unmanaged: pfexpose never writes tables', () => {
    const ruleset = renderRuleset([web], { dialect: 'freebsd' });
    const got = planChanges(desiredState([web], ruleset), deployedFromText(ruleset, ['zeta', 'blocklist']));
    expect(got.unmanaged.map((u) => [u.kind, u.line, u.text])).toEqual([
      ['table', 0, 'table <blocklist>'],
      ['table', 0, 'table <zeta>'],
    ]);
    expect(got.rules.unified).toBe('');
    expect(got.exposures).toEqual([]);
    expect(got.summary).toMatchObject({ unmanaged: 2, changes: true });
  });

  it('shows a dialect switch in the rules view only', () => {
    const desired = renderRuleset([web], { dialect: 'freebsd' });
    const deployed = renderRuleset([web], { dialect: 'openbsd' });
    const got = planChanges(desiredState([web], desired), deployedFromText(deployed));
    expect(got.exposures).toEqual([]);
    expect(got.summary).toMatchObject({ rulesAdded: 3, rulesRemoved: 1, changes: true });
  });

  it('shows an exposure deployed without its pass out rule (an older pfexpose) as changed, and only that', () => {
    const desired = renderRuleset([web], { dialect: 'freebsd' });
    const older = desired
      .split('\n')
      .filter((line) => !line.startsWith('pass out '))
      .join('\n');
    const got = planChanges(desiredState([web], desired), deployedFromText(older));
    expect(got.exposures).toHaveLength(1);
    expect(got.exposures[0]).toMatchObject({
      kind: 'changed',
      fields: [{ field: 'outbound', before: 'missing', after: 'present' }],
      flags: [],
    });
    expect(got.rules.added).toEqual([desired.split('\n').find((line) => line.startsWith('pass out quick '))]);
    expect(got.rules.removed).toEqual([]);
    expect(got.unmanaged).toEqual([]);
    expect(got.summary).toMatchObject({ changed: 1, unchanged: 0, added: 0, removed: 0, changes: true });
    // With it, the same ruleset is a no-op.
    expect(planChanges(desiredState([web], desired), deployedFromText(desired)).summary).toMatchObject({
      changed: 0,
      unchanged: 1,
      changes: false,
    });
  });

  it('keeps other changes beside a missing pass out rule', () => {
    const moved = { ...web, hostPort: { start: 9090, end: 9090 } };
    const older = renderRuleset([web], { dialect: 'freebsd' })
      .split('\n')
      .filter((line) => !line.startsWith('pass out '))
      .join('\n');
    const got = planChanges(
      desiredState([moved], renderRuleset([moved], { dialect: 'freebsd' })),
      deployedFromText(older),
    );
    expect(got.exposures.map((c) => c.fields.map((f) => f.field))).toEqual([['hostPort', 'outbound']]);
  });
});

describe('diffRules', () => {
  it('is empty for equal lines', () => {
    expect(diffRules(['a'], ['a'])).toEqual({ unified: '', added: [], removed: [] });
  });
  it('writes a unified diff with GNU hunk headers', () => {
    expect(diffRules([], ['a', 'b']).unified).toBe('--- deployed\n+++ desired\n@@ -0,0 +1,2 @@\n+a\n+b\n');
    expect(diffRules(['a', 'b', 'c'], ['a', 'B', 'c']).unified).toBe(
      '--- deployed\n+++ desired\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n',
    );
  });
});

describe('networkCovers', () => {
  const cases: [string, { outer: string; inner: string; want: boolean }][] = [
    ['a network covers a host inside', { outer: '192.0.2.0/24', inner: '192.0.2.9', want: true }],
    ['a network covers a smaller one', { outer: '192.0.2.0/24', inner: '192.0.2.128/25', want: true }],
    ['not a larger one', { outer: '192.0.2.128/25', inner: '192.0.2.0/24', want: false }],
    ['not a neighbour', { outer: '192.0.2.0/24', inner: '192.0.3.0/24', want: false }],
    ['IPv6', { outer: '2001:db8::/32', inner: '2001:db8:1::5', want: true }],
    ['IPv6 outside', { outer: '2001:db8::/32', inner: '2001:db9::1', want: false }],
    ['no mixing of families', { outer: '0.0.0.0/0', inner: '::1', want: false }],
  ];
  it.each(cases)('%s', (_name, { outer, inner, want }) => {
    expect(networkCovers(outer, inner)).toBe(want);
  });
  it('lists the widened sources', () => {
    expect(widenedSources(['192.0.2.0/24'], ['192.0.2.7', '198.51.100.0/24'])).toEqual(['198.51.100.0/24']);
    expect(widenedSources([], ['192.0.2.7'])).toEqual([]);
  });
});
