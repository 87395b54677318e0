// Golden files for every rule shape pfexpose emits, plus the properties that make deployed vs
// desired a line comparison: rendered text reads back to the same lines, whatever the input order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Exposure } from '../../src/model/exposure.js';
import { parsePfctlOutput, printRule } from '../../src/pf/parse-pfctl.js';
import { rulesetLines } from '../../src/pf/parse-pfctl.js';
import { digestRules, renderRuleset, rulesetRules, type RenderOptions } from '../../src/pf/render-ruleset.js';
import { exposure } from './exposure-fixture.js';

const freebsd: RenderOptions = { dialect: 'freebsd', anchor: 'pfexpose' };
const openbsd: RenderOptions = { dialect: 'openbsd', anchor: 'pfexpose' };
const v6 = { family: 'inet6', containerAddress: 'fd00:13:37::2' } as const;

const shapes: [string, { given: Exposure[]; options?: RenderOptions }][] = [
  ['single-port', { given: [exposure()] }],
  [
    'range',
    {
      given: [
        exposure({
          hostPort: { start: 8000, end: 8010 },
          containerPort: { start: 9000, end: 9010 },
          label: 'web-range',
        }),
      ],
    },
  ],
  [
    'many-to-one',
    {
      given: [
        exposure({ hostPort: { start: 8000, end: 8010 }, containerPort: { start: 80, end: 80 }, label: 'web-pool' }),
      ],
    },
  ],
  [
    'udp',
    {
      given: [
        exposure({
          protocol: 'udp',
          hostPort: { start: 5353, end: 5353 },
          containerPort: { start: 53, end: 53 },
          label: 'dns',
        }),
      ],
    },
  ],
  [
    'sctp',
    {
      given: [
        exposure({
          protocol: 'sctp',
          hostPort: { start: 3868, end: 3868 },
          containerPort: { start: 3868, end: 3868 },
          label: 'diameter',
        }),
      ],
    },
  ],
  ['interface', { given: [exposure({ interface: 'vtnet1', label: 'web-vtnet1' })] }],
  ['gateway', { given: [exposure({ interface: 'igb0', label: 'web-gateway' })] }],
  ['host-address-v4', { given: [exposure({ interface: null, hostAddress: '192.0.2.10', label: 'web-addr' })] }],
  [
    'host-address-v4-on-interface',
    { given: [exposure({ interface: 'em1', hostAddress: '192.0.2.10', label: 'web-addr-em1' })] },
  ],
  [
    'host-address-v6',
    { given: [exposure({ ...v6, interface: null, hostAddress: '2001:DB8:0:0::10', label: 'web-addr6' })] },
  ],
  ['loopback-v4', { given: [exposure({ interface: null, hostAddress: '127.0.0.1', label: 'web-lo' })] }],
  ['loopback-v6', { given: [exposure({ ...v6, interface: null, hostAddress: '::1', label: 'web-lo6' })] }],
  ['self', { given: [exposure({ interface: null, label: 'web-self' })] }],
  ['from-list', { given: [exposure({ from: ['198.51.100.0/24', '192.0.2.7', '203.0.113.0/25'], label: 'web-from' })] }],
  [
    'both-families',
    { given: [exposure({ label: 'web-4' }), exposure({ ...v6, label: 'web-6', from: ['2001:db8::/32'] })] },
  ],
  [
    'mixed',
    {
      given: [
        exposure({
          container: 'db',
          protocol: 'tcp',
          hostPort: { start: 5432, end: 5432 },
          containerPort: { start: 5432, end: 5432 },
          containerAddress: '10.13.37.3',
          label: 'db',
          from: ['10.0.0.0/8'],
        }),
        exposure({
          protocol: 'udp',
          hostPort: { start: 5353, end: 5353 },
          containerPort: { start: 53, end: 53 },
          label: 'dns',
        }),
        exposure({ ...v6, interface: null, label: 'web-self6' }),
        exposure({ interface: 'em1', label: 'web-em1' }),
        exposure({ label: 'web' }),
      ],
    },
  ],
  ['empty', { given: [] }],
  ['no-anchor-name', { given: [exposure()], options: { dialect: 'freebsd' } }],
  [
    'openbsd',
    {
      options: openbsd,
      given: [
        exposure(),
        exposure({
          protocol: 'udp',
          hostPort: { start: 5353, end: 5353 },
          containerPort: { start: 53, end: 53 },
          label: 'dns',
        }),
        exposure({
          hostPort: { start: 8000, end: 8010 },
          containerPort: { start: 9000, end: 9010 },
          label: 'web-range',
          from: ['192.0.2.0/24'],
        }),
        exposure({ interface: null, label: 'web-self' }),
        exposure({ interface: null, hostAddress: '127.0.0.1', label: 'web-lo' }),
        exposure({ ...v6, interface: null, hostAddress: '2001:db8::10', label: 'web-addr6' }),
      ],
    },
  ],
];

describe('renderRuleset golden files', () => {
  it.each(shapes)('%s', async (name, { given, options }) => {
    const text = renderRuleset(given, options ?? freebsd);
    await expect(text).toMatchFileSnapshot(`./__golden__/${name}.pf`);
    const { rules, diagnostics } = parsePfctlOutput(text);
    expect(diagnostics).toEqual([]);
    expect(rules.map((rule) => printRule(rule))).toEqual(ruleLinesOf(text));
  });
});

function ruleLinesOf(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

describe('renderRuleset', () => {
  it('puts every translation rule before every filter rule', () => {
    const lines = ruleLinesOf(renderRuleset(shapes.find(([n]) => n === 'mixed')![1].given, freebsd));
    const kinds = lines.map((line) => line.split(' ')[0]);
    expect(kinds).toEqual(['rdr', 'rdr', 'rdr', 'rdr', 'rdr', ...Array<string>(10).fill('pass')]);
  });

  it('gives exposures whose pass rules would shadow each other a tag of their own, and no others', () => {
    // Two published ports to the same container port: one on every address, one on lo0 (the rule
    // with no interface covers lo0), and a third on another container port.
    const given = [
      exposure({ interface: null, label: 'legacy:tcp:self:8000', hostPort: { start: 8000, end: 8000 } }),
      exposure({
        interface: null,
        hostAddress: '127.0.0.1',
        label: 'legacy:tcp:127.0.0.1:8081',
        hostPort: { start: 8081, end: 8081 },
      }),
      exposure({ label: 'other', containerPort: { start: 443, end: 443 }, hostPort: { start: 8443, end: 8443 } }),
      // Same container port on two different interfaces: their pass in rules do not cover each
      // other, but their pass out rules (on no interface) would.
      exposure({ interface: 'em0', label: 'x-em0', containerAddress: '10.13.37.9' }),
      exposure({ interface: 'em1', label: 'x-em1', containerAddress: '10.13.37.9' }),
      // Same container port on another container address: no overlap.
      exposure({ interface: 'em1', label: 'y-em1', containerAddress: '10.13.37.8' }),
    ];
    const lines = rulesetLines(renderRuleset(given, freebsd));
    const tagOf = (label: string): string =>
      /tagged (\S+)$/.exec(lines.find((l) => l.includes(`label "${label}"`)) ?? '')?.[1] ?? '';
    const self = tagOf('legacy:tcp:self:8000');
    const lo = tagOf('legacy:tcp:127.0.0.1:8081');
    expect(self).toMatch(/^pfexpose_[0-9a-f]{12}$/);
    expect(lo).toMatch(/^pfexpose_[0-9a-f]{12}$/);
    expect(self).not.toBe(lo);
    const em0 = tagOf('x-em0');
    const em1 = tagOf('x-em1');
    expect(em0).toMatch(/^pfexpose_[0-9a-f]{12}$/);
    expect(em1).toMatch(/^pfexpose_[0-9a-f]{12}$/);
    expect(em0).not.toBe(em1);
    expect(['other', 'y-em1'].map(tagOf)).toEqual(['pfexpose', 'pfexpose']);
    // Each rdr rule sets the tag its pass in and pass out rules admit.
    for (const tag of [self, lo, em0, em1]) {
      expect(lines.filter((l) => l.includes(`tag ${tag} -> `))).toHaveLength(1);
      expect(lines.filter((l) => l.startsWith('pass in quick ') && l.endsWith(`tagged ${tag}`))).toHaveLength(1);
      expect(lines.filter((l) => l.startsWith('pass out quick ') && l.endsWith(`tagged ${tag}`))).toHaveLength(1);
    }
    // No two pass out rules differ only by their label.
    const outs = lines.filter((l) => l.startsWith('pass out quick ')).map((l) => l.replace(/ label "[^"]*"/, ''));
    expect(new Set(outs).size).toBe(outs.length);
    // The rules read back as the same exposures, paired by their tags.
    expect(renderRuleset([...given].reverse(), freebsd)).toBe(renderRuleset(given, freebsd));
  });

  it('never emits rdr pass', () => {
    expect(
      renderRuleset(
        shapes.flatMap(([, s]) => s.given).map((e, i) => ({ ...e, label: `l${i}` })),
        freebsd,
      ),
    ).not.toMatch(/rdr pass/);
  });

  it('carries the sha256 of its rule lines in the header', () => {
    const text = renderRuleset([exposure(), exposure({ protocol: 'udp', label: 'u' })], freebsd);
    const digest = /^# sha256: ([0-9a-f]{64})$/m.exec(text)?.[1];
    expect(digest).toBe(digestRules(rulesetLines(text)));
    expect(digest).not.toBe(digestRules([]));
  });

  it('emits one rule per source on the rdr, the pass in and the pass out rule', () => {
    const lines = ruleLinesOf(renderRuleset([exposure({ from: ['192.0.2.7', '198.51.100.0/24'] })], freebsd));
    expect(lines.filter((l) => l.includes('from 192.0.2.7 '))).toHaveLength(3);
    expect(lines.filter((l) => l.includes('from 198.51.100.0/24 '))).toHaveLength(3);
    expect(lines.filter((l) => l.startsWith('pass out quick inet proto tcp from '))).toHaveLength(2);
    expect(lines.filter((l) => l.includes('from any '))).toHaveLength(0);
  });

  it.each([
    ['a label with a quote', { label: 'bad"label' }],
    ['a container port range of another length', { containerPort: { start: 80, end: 81 } }],
    ['a container address of the other family', { containerAddress: 'fd00::2' }],
    ['a source of the other family', { from: ['2001:db8::/32'] }],
    ['port 0', { hostPort: { start: 0, end: 0 } }],
  ] as [string, Partial<Exposure>][])(
    'refuses %s (a programmer error: the model guarantees it)',
    (_name, overrides) => {
      expect(() => renderRuleset([exposure(overrides)], freebsd)).toThrow();
    },
  );
});

// ---------------------------------------------------------------------------------------------

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const ipv6 = fc
  .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
  .map((w) => w.map((x) => x.toString(16)).join(':'));
const exposureArbitrary = fc
  .record({
    family: fc.constantFrom('inet' as const, 'inet6' as const),
    protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const),
    interface: fc.option(fc.constantFrom('em0', 'vtnet0', 'igb1', 'lo0'), { nil: null }),
    listen: fc.constantFrom('interface', 'address', 'loopback'),
    hostStart: fc.integer({ min: 1, max: 65000 }),
    length: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 500 })),
    containerStart: fc.integer({ min: 1, max: 65000 }),
    manyToOne: fc.boolean(),
    v4: fc.tuple(ipv4, ipv4),
    v6: fc.tuple(ipv6, ipv6),
    from: fc.array(fc.tuple(fc.boolean(), fc.nat(128)), { maxLength: 3 }),
    fromV4: fc.array(ipv4, { minLength: 3, maxLength: 3 }),
    fromV6: fc.array(ipv6, { minLength: 3, maxLength: 3 }),
  })
  .map((r): Exposure => {
    const [hostAddress, containerAddress] = r.family === 'inet' ? r.v4 : r.v6;
    const bits = r.family === 'inet' ? 32 : 128;
    const pool = r.family === 'inet' ? r.fromV4 : r.fromV6;
    const from = r.from.map(([, prefix], i) => `${pool[i] ?? pool[0]}/${prefix % (bits + 1)}`);
    const hostEnd = r.hostStart + r.length;
    return exposure({
      family: r.family,
      protocol: r.protocol,
      interface: r.listen === 'interface' ? r.interface : null,
      hostAddress:
        r.listen === 'address'
          ? hostAddress
          : r.listen === 'loopback'
            ? r.family === 'inet'
              ? '127.0.0.1'
              : '::1'
            : null,
      hostPort: { start: r.hostStart, end: hostEnd },
      containerAddress,
      containerPort: r.manyToOne
        ? { start: r.containerStart, end: r.containerStart }
        : { start: r.containerStart, end: Math.min(65535, r.containerStart + r.length) },
      from,
    });
  })
  .filter(
    (e) =>
      e.containerPort.end - e.containerPort.start === 0 ||
      e.containerPort.end - e.containerPort.start === e.hostPort.end - e.hostPort.start,
  );
const exposuresArbitrary = fc
  .array(exposureArbitrary, { maxLength: 6 })
  .map((list) => list.map((e, i) => ({ ...e, label: `pfexpose-${i}` })));
const dialectArbitrary = fc.constantFrom<RenderOptions>(freebsd, openbsd);

describe('renderRuleset properties', () => {
  it('reads back to exactly the rendered rule lines', () => {
    fc.assert(
      fc.property(exposuresArbitrary, dialectArbitrary, (exposures, options) => {
        const text = renderRuleset(exposures, options);
        const { rules, diagnostics } = parsePfctlOutput(text);
        expect(diagnostics).toEqual([]);
        expect(rules.map((rule) => printRule(rule))).toEqual(ruleLinesOf(text));
        expect(rulesetLines(text)).toEqual(ruleLinesOf(text));
      }),
      { numRuns: 300 },
    );
  });

  it('writes each line exactly as the generic printer prints the rule it stands for', () => {
    fc.assert(
      fc.property(exposuresArbitrary, dialectArbitrary, (exposures, options) => {
        const rules = rulesetRules(exposures, options.dialect);
        expect(rules.map((rule) => printRule(rule))).toEqual(ruleLinesOf(renderRuleset(exposures, options)));
      }),
      { numRuns: 300 },
    );
  });

  it('renders any permutation of the exposures byte for byte the same', () => {
    fc.assert(
      fc.property(
        exposuresArbitrary.chain((list) =>
          fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length })),
        ),
        dialectArbitrary,
        ([list, shuffled], options) => {
          expect(renderRuleset(shuffled, options)).toBe(renderRuleset(list, options));
        },
      ),
      { numRuns: 300 },
    );
  });
});
