// Plan and read-back at scale, checked for what they give, not for how long they take (the bench
// measures that): a large ruleset planned against itself is a no-op, reading back compiled rules
// gives the exposures in any rule order, and the keyed pairing gives what the scanning pairing it
// replaced gave (test/plan/reference/).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Exposure } from '../../src/model/exposure.js';
import { parsePfctlOutput } from '../../src/pf/parse-pfctl.js';
import { renderRuleset, type RenderOptions } from '../../src/pf/render-ruleset.js';
import { exposuresFromRules } from '../../src/plan/exposures-from-rules.js';
import { deployedFromCompiled, deployedFromText, desiredState, planChanges } from '../../src/plan/plan-changes.js';
import { asDeployed, exposure } from './exposure-fixture.js';
import { exposuresFromRules as exposuresFromRulesBefore } from './reference/nested-scan-pairing.js';
import { planChanges as planChangesBefore } from './reference/scan-plan-changes.js';

const dialects: RenderOptions[] = [
  { dialect: 'freebsd', anchor: 'pfexpose' },
  { dialect: 'openbsd', anchor: 'pfexpose' },
];

/** Exposure number i of a large, varied set: every listen side, both families, both protocols. */
function generated(i: number): Exposure {
  const v6 = i % 5 === 0;
  const listen = i % 4;
  const hostPort = { start: 10_000 + (i % 50_000), end: 10_000 + (i % 50_000) + (i % 7 === 0 ? 3 : 0) };
  return exposure({
    container: `c${i}`,
    protocol: i % 3 === 0 ? 'udp' : 'tcp',
    family: v6 ? 'inet6' : 'inet',
    interface: listen === 0 ? 'em0' : listen === 1 ? 'em1' : null,
    hostAddress: listen === 2 ? (v6 ? '2001:db8::10' : '192.0.2.10') : listen === 3 ? (v6 ? '::1' : '127.0.0.1') : null,
    hostPort,
    containerAddress: v6 ? `fd00::${(i + 1).toString(16)}` : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255 || 1}`,
    // One in seven maps a range one to one; the others lead to port 80 of their container.
    containerPort: i % 7 === 0 ? hostPort : { start: 80, end: 80 },
    from: i % 6 === 0 ? (v6 ? ['2001:db8:1::/48'] : ['192.0.2.0/24', '198.51.100.7']) : [],
  });
}

/** The rule lines of a rendered ruleset, without its header comments. */
function ruleLines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

describe('plan at scale', () => {
  it.each(dialects)(
    'plans 2,000 exposures against their own compiled ruleset as a no-op ($dialect)',
    (options) => {
      const exposures = Array.from({ length: 2000 }, (_, i) => generated(i));
      const ruleset = renderRuleset(exposures, options);
      const plan = planChanges(desiredState(exposures, ruleset), deployedFromText(ruleset));
      expect(plan.summary).toMatchObject({
        added: 0,
        removed: 0,
        changed: 0,
        unchanged: 2000,
        rulesAdded: 0,
        rulesRemoved: 0,
        unmanaged: 0,
        changes: false,
      });
      expect(plan.rules.unified).toBe('');
      // Printed as pfctl prints it (no header, no digest): the same no-op through the parser.
      const printed = planChanges(desiredState(exposures, ruleset), deployedFromText(ruleLines(ruleset).join('\n')));
      expect(printed.summary).toEqual(plan.summary);
    },
    120_000,
  );

  it('plans 2,000 exposures against a ruleset with every tenth one moved, and says which', () => {
    const deployed = Array.from({ length: 2000 }, (_, i) => generated(i));
    const desired = deployed.map((e, i) =>
      i % 10 === 3 ? { ...e, hostPort: { start: e.hostPort.start + 5000, end: e.hostPort.end + 5000 } } : e,
    );
    const d = renderRuleset(desired, dialects[0]!);
    const p = renderRuleset(deployed, dialects[0]!);
    const plan = planChanges(desiredState(desired, d), deployedFromCompiled(deployed, p));
    expect(plan.summary).toMatchObject({ added: 0, removed: 0, changed: 200, unchanged: 1800, changes: true });
    expect(
      plan.exposures.every(
        (change) => change.kind === 'changed' && change.fields.map((f) => f.field).join() === 'hostPort',
      ),
    ).toBe(true);
  }, 120_000);
});

describe('read-back of compiled rules', () => {
  const someExposures = fc
    .uniqueArray(fc.nat(400), { minLength: 1, maxLength: 25 })
    .map((ids) => ids.map((i) => generated(i)));

  it.each(dialects)('gives back the exposures whatever the order of the rules ($dialect)', (options) => {
    fc.assert(
      fc.property(
        someExposures.chain((list) => {
          const lines = ruleLines(renderRuleset(list, options));
          return fc.tuple(
            fc.constant(list),
            fc.shuffledSubarray(lines, { minLength: lines.length, maxLength: lines.length }),
          );
        }),
        ([list, shuffled]) => {
          const got = exposuresFromRules(parsePfctlOutput(shuffled.join('\n')).rules);
          expect(got.unmanaged).toEqual([]);
          expect(got.exposures).toEqual(expect.arrayContaining(list.map(asDeployed)));
          expect(got.exposures).toHaveLength(list.length);
        },
      ),
      { numRuns: 100 },
    );
  });

  it.each(dialects)('pairs the same rules in any order ($dialect)', (options) => {
    fc.assert(
      fc.property(
        someExposures.chain((list) => {
          const lines = ruleLines(renderRuleset(list, options));
          return fc.tuple(
            fc.constant(lines),
            fc.shuffledSubarray(lines, { minLength: lines.length, maxLength: lines.length }),
          );
        }),
        ([lines, shuffled]) => {
          const inOrder = exposuresFromRules(parsePfctlOutput(lines.join('\n')).rules);
          const anyOrder = exposuresFromRules(parsePfctlOutput(shuffled.join('\n')).rules);
          expect(anyOrder.exposures).toEqual(inOrder.exposures);
          expect(anyOrder.unmanaged).toEqual([]);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('the keyed pairing gives what the scanning pairing gave', () => {
  /** Labels of every form pairing must handle: readable, listen hashed, shortened, foreign. */
  const labelFor = (e: Exposure, form: number): string => {
    switch (form) {
      case 0:
        return e.label;
      case 1:
        return `${e.container}:${e.protocol}:~0123abcd:${e.hostPort.start}`;
      case 2:
        return `${e.container}~0123abcd`;
      case 3:
        return `${e.container}:sctp:em0:1`;
      case 4:
        return 'shared:tcp:em0:10001';
      default:
        // pf-safe, but not of pfexpose's form.
        return 'x/y@z';
    }
  };
  // Few containers, ports and addresses, so that many rdr rules share a pass rule's key.
  const crowded = fc
    .array(
      fc.record({
        container: fc.constantFrom('a', 'b', 'c'),
        protocol: fc.constantFrom('tcp' as const, 'udp' as const),
        interface: fc.constantFrom('em0', 'em1', null),
        loopback: fc.boolean(),
        hostPort: fc.integer({ min: 10_000, max: 10_003 }),
        containerAddress: fc.constantFrom('10.0.0.1', '10.0.0.2'),
        from: fc.constantFrom<string[]>([], ['192.0.2.0/24']),
        form: fc.nat(5),
      }),
      { maxLength: 14 },
    )
    .map((records) =>
      records.map((r) => {
        const e = exposure({
          container: r.container,
          protocol: r.protocol,
          interface: r.interface,
          hostAddress: r.interface === null && r.loopback ? '127.0.0.1' : null,
          hostPort: { start: r.hostPort, end: r.hostPort },
          containerAddress: r.containerAddress,
          from: r.from,
        });
        return { ...e, label: labelFor(e, r.form) };
      }),
    );

  it.each(dialects)('on crowded, relabelled, shuffled and cut rulesets ($dialect)', (options) => {
    fc.assert(
      fc.property(
        fc.tuple(crowded, fc.boolean()).chain(([list, sharedTag]) => {
          // The renderer gives rules that could be confused tags of their own; with the shared tag
          // (as an older pfexpose wrote them) many rdr rules fit one pass rule.
          const rendered = ruleLines(renderRuleset(list, options));
          const lines = sharedTag
            ? rendered.map((line) => line.replace(/\bpfexpose_[0-9a-f]+\b/g, 'pfexpose'))
            : rendered;
          return fc.tuple(
            fc.shuffledSubarray(lines, { minLength: 0, maxLength: lines.length }),
            fc.array(fc.constantFrom(...lines, 'block in all'), { maxLength: 3 }),
          );
        }),
        ([lines, extra]) => {
          const rules = parsePfctlOutput([...lines, ...extra].join('\n')).rules;
          expect(exposuresFromRules(rules)).toEqual(exposuresFromRulesBefore(rules));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('on every fixture of the read-back tests', () => {
    // The hand-written texts of exposures-from-rules.test.ts, and what the renderer writes for
    // each of its shapes.
    const texts = [
      'rdr inet6 proto tcp from any to 2001:db8::1234:5678:9abc port = 8080 tag pfexpose -> fd00::2 port 80\npass in quick inet6 proto tcp from any to fd00::2 port = 80 flags S/SA keep state label "web:tcp:~0123abcd:8080" tagged pfexpose\nrdr on em0 inet proto tcp from any to (em0) port = 8081 tag pfexpose -> 10.13.37.9 port 80\npass in quick on em0 inet proto tcp from any to 10.13.37.9 port = 80 flags S/SA keep state label "a-very-long-container-name-cut~0123abcd" tagged pfexpose',
      '@0 rdr on em0 inet proto tcp from any to (em0) port = http-alt tag pfexpose -> 10.13.37.2 port 80\n  [ Evaluations: 12 ]\n@0 pass in quick on em0 inet proto tcp from any to 10.13.37.2 port = http flags S/SA keep state label "web:tcp:em0:8080" tagged pfexpose',
      'block drop in quick on em0 all',
      'rdr on em0 inet proto tcp from any to (em0) port = 2222 tag pfexpose -> 10.0.0.9 port 22',
      'pass in quick on em0 inet proto tcp from any to 10.0.0.9 port = 22 flags S/SA keep state label "ssh:tcp:em0:2222" tagged pfexpose',
      ...dialects.flatMap((options) =>
        [
          [
            exposure({ interface: null, hostAddress: '192.0.2.1' }),
            exposure({ interface: null, hostAddress: '192.0.2.2' }),
          ],
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
          [
            exposure({ from: ['192.0.2.0/24', '198.51.100.7'] }),
            exposure({ hostPort: { start: 8000, end: 8010 }, containerPort: { start: 80, end: 80 } }),
          ],
          Array.from({ length: 300 }, (_, i) => generated(i)),
        ].map((list) => renderRuleset(list, options)),
      ),
    ];
    for (const text of texts) {
      const rules = parsePfctlOutput(text).rules;
      expect(exposuresFromRules(rules)).toEqual(exposuresFromRulesBefore(rules));
    }
  });
});

describe('the keyed plan pairing gives what the scanning one gave', () => {
  // Few values per field, so that every pass of the pairing and its preferences is exercised.
  const pool = fc
    .record({
      container: fc.constantFrom('a', 'b'),
      protocol: fc.constantFrom('tcp' as const, 'udp' as const),
      family: fc.constantFrom('inet' as const, 'inet6' as const),
      interface: fc.constantFrom('em0', null),
      hostPort: fc.integer({ min: 8000, max: 8002 }),
      containerPort: fc.integer({ min: 80, max: 81 }),
      containerAddress: fc.constantFrom('1', '2'),
      from: fc.constantFrom([], ['10.0.0.0/8'], ['2001:db8::/32']),
      dynamic: fc.boolean(),
    })
    .map((r) =>
      exposure({
        container: r.container,
        protocol: r.protocol,
        family: r.family,
        interface: r.interface,
        hostPort: { start: r.hostPort, end: r.hostPort },
        containerPort: { start: r.containerPort, end: r.containerPort },
        containerAddress: r.family === 'inet' ? `10.0.0.${r.containerAddress}` : `fd00::${r.containerAddress}`,
        from: r.from.filter((n) => n.includes(':') === (r.family === 'inet6')),
        dynamic: r.dynamic,
      }),
    );

  it('on random desired and deployed sets', () => {
    fc.assert(
      fc.property(fc.array(pool, { maxLength: 10 }), fc.array(pool, { maxLength: 10 }), (desired, deployed) => {
        const options = dialects[0]!;
        const want = desiredState(desired, renderRuleset(desired, options));
        const have = deployedFromCompiled(deployed, renderRuleset(deployed, options));
        expect(planChanges(want, have)).toEqual(planChangesBefore(want, have));
        const read = deployedFromText(renderRuleset(deployed, options));
        expect(planChanges(want, read)).toEqual(planChangesBefore(want, read));
      }),
      { numRuns: 500 },
    );
  });
});
