import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Exposure } from '../../src/model/exposure.js';
import { parsePfctlOutput } from '../../src/pf/parse-pfctl.js';
import { renderRuleset } from '../../src/pf/render-ruleset.js';
import { exposuresFromRules, unmanagedReason } from '../../src/plan/exposures-from-rules.js';
import { asDeployed, exposure } from './exposure-fixture.js';

const shapes: [string, Exposure[]][] = [
  ['interface, tcp, open to all', [exposure()]],
  [
    'udp',
    [
      exposure({
        protocol: 'udp',
        container: 'dns',
        hostPort: { start: 53, end: 53 },
        containerPort: { start: 53, end: 53 },
      }),
    ],
  ],
  [
    'sctp, same port on both sides',
    [
      exposure({
        protocol: 'sctp',
        container: 'sig',
        hostPort: { start: 3868, end: 3868 },
        containerPort: { start: 3868, end: 3868 },
      }),
    ],
  ],
  ['every address (self)', [exposure({ interface: null })]],
  ['host address', [exposure({ interface: null, hostAddress: '192.0.2.10' })]],
  [
    'loopback host address (lo0)',
    [exposure({ interface: null, hostAddress: '127.0.0.1', hostPort: { start: 9100, end: 9100 } })],
  ],
  [
    'IPv6 with sources',
    [exposure({ family: 'inet6', containerAddress: 'fd00::2', from: ['2001:db8:1::5', '2001:db8::/32'] })],
  ],
  ['one-to-one range', [exposure({ hostPort: { start: 9000, end: 9010 }, containerPort: { start: 9000, end: 9010 } })]],
  ['many-to-one range', [exposure({ hostPort: { start: 8000, end: 8010 }, containerPort: { start: 80, end: 80 } })]],
  ['several sources', [exposure({ from: ['192.0.2.0/24', '198.51.100.7'] })]],
  [
    'two listen sides to one container port',
    [exposure({ interface: null, hostAddress: '192.0.2.1' }), exposure({ interface: null, hostAddress: '192.0.2.2' })],
  ],
  [
    'v4 and v6 twins sharing a label',
    [
      exposure({ interface: null, label: 'api:tcp:self:49000', hostPort: { start: 49000, end: 49000 } }),
      exposure({
        interface: null,
        family: 'inet6',
        containerAddress: 'fd00::2',
        label: 'api:tcp:self:49000',
        hostPort: { start: 49000, end: 49000 },
      }),
    ],
  ],
];

describe('exposuresFromRules', () => {
  for (const dialect of ['freebsd', 'openbsd'] as const) {
    it.each(shapes)(`reads back what the ${dialect} renderer wrote: %s`, (_name, given) => {
      const text = renderRuleset(given, { dialect, anchor: 'pfexpose' });
      const got = exposuresFromRules(parsePfctlOutput(text).rules);
      expect(got.unmanaged).toEqual([]);
      const want = given.map(asDeployed).map((e) => ({ ...e, container: e.label.split(':')[0] }));
      expect(got.exposures).toEqual(expect.arrayContaining(want));
      expect(got.exposures).toHaveLength(want.length);
    });
  }

  it('takes the container name from a shortened label', () => {
    const text = [
      'rdr inet6 proto tcp from any to 2001:db8::1234:5678:9abc port = 8080 tag pfexpose -> fd00::2 port 80',
      'pass in quick inet6 proto tcp from any to fd00::2 port = 80 flags S/SA keep state label "web:tcp:~0123abcd:8080" tagged pfexpose',
      'rdr on em0 inet proto tcp from any to (em0) port = 8081 tag pfexpose -> 10.13.37.9 port 80',
      'pass in quick on em0 inet proto tcp from any to 10.13.37.9 port = 80 flags S/SA keep state label "a-very-long-container-name-cut~0123abcd" tagged pfexpose',
    ].join('\n');
    const got = exposuresFromRules(parsePfctlOutput(text).rules);
    expect(got.unmanaged).toEqual([]);
    expect(got.exposures.map((e) => e.container).sort()).toEqual(['a-very-long-container-name-cut', 'web']);
  });

  it('reads pfctl -v output with rule numbers, counters and service names', () => {
    const text = [
      '@0 rdr on em0 inet proto tcp from any to (em0) port = http-alt tag pfexpose -> 10.13.37.2 port 80',
      '  [ Evaluations: 12        Packets: 0         Bytes: 0           States: 0     ]',
      '  [ Inserted: uid 0 pid 4242 State Creations: 0     ]',
      '@0 pass out quick inet proto tcp from any to 10.13.37.2 port = http flags S/SA keep state label "web:tcp:em0:8080" tagged pfexpose',
      '  [ Evaluations: 12        Packets: 0         Bytes: 0           States: 0     ]',
      '@1 pass in quick on em0 inet proto tcp from any to 10.13.37.2 port = http flags S/SA keep state label "web:tcp:em0:8080" tagged pfexpose',
      '  [ Evaluations: 12        Packets: 0         Bytes: 0           States: 0     ]',
    ].join('\n');
    const got = exposuresFromRules(parsePfctlOutput(text).rules);
    expect(got.unmanaged).toEqual([]);
    expect(got.exposures).toEqual([{ ...asDeployed(exposure()), container: 'web' }]);
  });

  describe('the pass out rule of the forwarded leg', () => {
    const RDR = 'rdr on em0 inet proto tcp from any to (em0) port = 8080 tag pfexpose -> 10.13.37.2 port 80';
    const IN =
      'pass in quick on em0 inet proto tcp from any to 10.13.37.2 port = 80 flags S/SA keep state label "web:tcp:em0:8080" tagged pfexpose';
    const OUT =
      'pass out quick inet proto tcp from any to 10.13.37.2 port = 80 flags S/SA keep state label "web:tcp:em0:8080" tagged pfexpose';
    const read = (...lines: string[]): ReturnType<typeof exposuresFromRules> =>
      exposuresFromRules(parsePfctlOutput(lines.join('\n')).rules);
    const web = { ...asDeployed(exposure()), container: 'web' };

    it('pairs with its exposure in any order', () => {
      for (const order of [
        [RDR, IN, OUT],
        [RDR, OUT, IN],
        [OUT, RDR, IN],
      ]) {
        const got = read(...order);
        expect(got.unmanaged).toEqual([]);
        expect(got.exposures).toEqual([web]);
      }
    });

    it('marks an exposure deployed without it (an older pfexpose) as missing it, and keeps the exposure', () => {
      const got = read(RDR, IN);
      expect(got.unmanaged).toEqual([]);
      expect(got.exposures).toEqual([{ ...web, outboundMissing: true }]);
    });

    it('marks an exposure whose out rule is missing for one of its sources', () => {
      const from = (line: string, source: string): string => line.replace('from any', `from ${source}`);
      const got = read(
        from(RDR, '192.0.2.0/24'),
        from(IN, '192.0.2.0/24'),
        from(OUT, '192.0.2.0/24'),
        from(RDR, '198.51.100.7'),
        from(IN, '198.51.100.7'),
      );
      expect(got.unmanaged).toEqual([]);
      expect(got.exposures).toEqual([{ ...web, from: ['192.0.2.0/24', '198.51.100.7'], outboundMissing: true }]);
    });

    it.each([
      ['alone', [OUT]],
      ['with another label', [RDR, IN, OUT.replace('web:tcp:em0:8080', 'web:tcp:em0:9090')]],
      ['with another tag', [RDR, IN, OUT.replace('tagged pfexpose', 'tagged pfexpose_0123456789ab')]],
      ['to another container port', [RDR, IN, OUT.replace('port = 80', 'port = 81')]],
      ['from another source', [RDR, IN, OUT.replace('from any', 'from 192.0.2.0/24')]],
      [
        'of another protocol',
        [RDR, IN, OUT.replace('proto tcp', 'proto udp').replace(' flags S/SA', '').replace(':tcp:', ':udp:')],
      ],
      ['twice (the second one)', [RDR, IN, OUT, OUT]],
    ])('keeps a pass out rule that pairs with nothing as unmanaged: %s', (name, lines) => {
      const got = read(...lines);
      expect(got.unmanaged).toHaveLength(1);
      expect(got.unmanaged[0]?.kind === 'filter' && got.unmanaged[0].direction).toBe('out');
      expect(unmanagedReason(got.unmanaged[0]!)).toMatch(/pass out rule without/);
      expect(got.exposures).toEqual(
        lines.length === 1 ? [] : [name.startsWith('twice') ? web : { ...web, outboundMissing: true }],
      );
    });

    it.each([
      ['on an interface', OUT.replace('pass out quick', 'pass out quick on bridge0')],
      ['without quick', OUT.replace('pass out quick', 'pass out')],
      ['untagged', OUT.replace(' tagged pfexpose', '')],
      ['with state options', OUT.replace('keep state', 'keep state (max 10)')],
    ])('never pairs a pass out rule %s', (_name, out) => {
      const got = read(RDR, IN, out);
      expect(got.exposures).toEqual([{ ...web, outboundMissing: true }]);
      expect(got.unmanaged).toHaveLength(1);
      expect(unmanagedReason(got.unmanaged[0]!)).toMatch(/not a rule pfexpose writes/);
    });
  });

  const unmanagedCases: [string, { given: string; exposures: number; unmanaged: number; reason: RegExp }][] = [
    [
      'a hand-written block rule',
      { given: 'block drop in quick on em0 all', exposures: 0, unmanaged: 1, reason: /not a rule pfexpose writes/ },
    ],
    [
      'an rdr without its pass rule',
      {
        given: 'rdr on em0 inet proto tcp from any to (em0) port = 2222 tag pfexpose -> 10.0.0.9 port 22',
        exposures: 0,
        unmanaged: 1,
        reason: /without the pass rule/,
      },
    ],
    [
      'a pass rule without its rdr',
      {
        given:
          'pass in quick on em0 inet proto tcp from any to 10.0.0.9 port = 22 flags S/SA keep state label "ssh:tcp:em0:2222" tagged pfexpose',
        exposures: 0,
        unmanaged: 1,
        reason: /without the rdr rule/,
      },
    ],
    [
      'a pair whose label is not ours',
      {
        given:
          'rdr on em0 inet proto tcp from any to (em0) port = 2222 tag pfexpose -> 10.0.0.9 port 22\npass in quick on em0 inet proto tcp from any to 10.0.0.9 port = 22 flags S/SA keep state label "hand made" tagged pfexpose',
        exposures: 0,
        unmanaged: 2,
        reason: /without/,
      },
    ],
    [
      'a pass rule admitting another tag than its rdr rule sets',
      {
        given:
          'rdr on em0 inet proto tcp from any to (em0) port = 2222 tag pfexpose_0123456789ab -> 10.0.0.9 port 22\npass in quick on em0 inet proto tcp from any to 10.0.0.9 port = 22 flags S/SA keep state label "ssh:tcp:em0:2222" tagged pfexpose',
        exposures: 0,
        unmanaged: 2,
        reason: /without/,
      },
    ],
    [
      'a tag pfexpose does not write',
      {
        given:
          'rdr on em0 inet proto tcp from any to (em0) port = 2222 tag ssh -> 10.0.0.9 port 22\npass in quick on em0 inet proto tcp from any to 10.0.0.9 port = 22 flags S/SA keep state label "ssh:tcp:em0:2222" tagged ssh',
        exposures: 0,
        unmanaged: 2,
        reason: /not a rule pfexpose writes/,
      },
    ],
    [
      'rdr pass (bypasses the filter)',
      {
        given: 'rdr pass on em0 inet proto tcp from any to (em0) port = 2222 -> 10.0.0.9 port 22',
        exposures: 0,
        unmanaged: 1,
        reason: /not a rule pfexpose writes/,
      },
    ],
    [
      'a line the parser cannot read',
      { given: 'frobnicate the firewall', exposures: 0, unmanaged: 1, reason: /unknown rule/ },
    ],
    [
      'an unknown line beside a managed pair',
      {
        given: `${renderRuleset([exposure()], { dialect: 'freebsd' })}pass in on em0 inet proto icmp all keep state\n`,
        exposures: 1,
        unmanaged: 1,
        reason: /not a rule pfexpose writes/,
      },
    ],
  ];

  it.each(unmanagedCases)('keeps %s as unmanaged', (_name, { given, exposures, unmanaged, reason }) => {
    const got = exposuresFromRules(parsePfctlOutput(given).rules);
    expect(got.exposures).toHaveLength(exposures);
    expect(got.unmanaged).toHaveLength(unmanaged);
    for (const rule of got.unmanaged) expect(unmanagedReason(rule)).toMatch(reason);
  });

  it('never throws and never loses a rule, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const rules = parsePfctlOutput(text).rules;
        const got = exposuresFromRules(rules);
        for (const rule of got.unmanaged) expect(rules).toContain(rule);
      }),
      { numRuns: 300 },
    );
  });

  it('reads back any conflict-free set of exposures the renderer writes', () => {
    const one = fc
      .record({
        container: fc.constantFrom('web', 'db', 'api'),
        protocol: fc.constantFrom('tcp' as const, 'udp' as const),
        v6: fc.boolean(),
        listen: fc.constantFrom('em0', 'em1', 'self', 'address'),
        port: fc.integer({ min: 1, max: 65000 }),
        span: fc.constantFrom(0, 0, 5),
        manyToOne: fc.boolean(),
        sources: fc.subarray(['a', 'b', 'c']),
      })
      .map((r): Exposure => {
        const family = r.v6 ? 'inet6' : 'inet';
        const net = (x: string): string =>
          r.v6 ? `2001:db8:${x}::/48` : `${{ a: '192.0.2.0/24', b: '198.51.100.0/24', c: '203.0.113.9' }[x]}`;
        return exposure({
          container: r.container,
          protocol: r.protocol,
          family,
          interface: r.listen.startsWith('em') ? r.listen : null,
          hostAddress: r.listen === 'address' ? (r.v6 ? '2001:db8::1' : '192.0.2.1') : null,
          hostPort: { start: r.port, end: r.port + r.span },
          containerAddress: r.v6 ? 'fd00::2' : '10.13.37.2',
          containerPort: r.manyToOne ? { start: 80, end: 80 } : { start: r.port, end: r.port + r.span },
          from: r.sources.map(net).sort(),
        });
      });
    fc.assert(
      fc.property(
        fc.array(one, { maxLength: 8 }),
        fc.constantFrom('freebsd' as const, 'openbsd' as const),
        (list, dialect) => {
          // The compiler refuses two exposures on one listen side, family, protocol and host port.
          const seen = new Set<string>();
          const unique = list.filter((e) => {
            const key = JSON.stringify([e.interface, e.hostAddress, e.family, e.protocol, e.hostPort.start]);
            if (seen.has(key)) return false;
            seen.add(key);
            return true;
          });
          const got = exposuresFromRules(parsePfctlOutput(renderRuleset(unique, { dialect })).rules);
          expect(got.unmanaged).toEqual([]);
          expect(got.exposures).toHaveLength(unique.length);
          expect(got.exposures).toEqual(expect.arrayContaining(unique.map(asDeployed)));
        },
      ),
      { numRuns: 150 },
    );
  });
});
