import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LabelRequest } from '../../src/model/assign-labels.js';
import { assignLabels, labelIdentity, MAX_LABEL_LENGTH, SAFE_LABEL } from '../../src/model/assign-labels.js';
import { emptyLockfile } from '../../src/model/lockfile.js';
import { resolveExposures } from '../../src/model/resolve-exposures.js';
import { container, docker, kleene, r, single } from './build-manifest.js';

const request = (over: Partial<LabelRequest>): LabelRequest => ({
  container: 'web',
  protocol: 'tcp',
  listen: 'em0',
  listenKind: 'interface',
  hostPort: r(8080),
  families: ['inet', 'inet6'],
  ...over,
});

function labelOf(requests: LabelRequest[], which: LabelRequest): string {
  return assignLabels(requests)[requests.indexOf(which)] as string;
}

describe('assignLabels', () => {
  const cases: [string, { given: LabelRequest; want: string | RegExp }][] = [
    ['interface', { given: request({}), want: 'web:tcp:em0:8080' }],
    [
      'every address',
      {
        given: request({ listen: 'any', listenKind: 'self', protocol: 'udp', hostPort: r(53) }),
        want: 'web:udp:any:53',
      },
    ],
    ['range', { given: request({ hostPort: r(9000, 9010) }), want: 'web:tcp:em0:9000-9010' }],
    [
      'IPv4 address',
      { given: request({ listen: '127.0.0.1', listenKind: 'address' }), want: 'web:tcp:127.0.0.1:8080' },
    ],
    [
      'a long IPv6 address is replaced by a hash, the rest stays readable',
      {
        given: request({
          container: 'a-rather-long-container-name',
          listen: '2001:db8:1234:5678:9abc:def0:1234:5678',
          listenKind: 'address',
          hostPort: r(65000, 65535),
        }),
        want: /^a-rather-long-container-name:tcp:~[0-9a-f]{8}:65000-65535$/,
      },
    ],
    [
      'unsafe characters in a name fall back to a sanitized prefix and a hash',
      { given: request({ container: 'wéb "x"' }), want: /^w_b__x_:tcp:~[0-9a-f]{8}$/ },
    ],
    [
      'a very long name is cut to fit',
      { given: request({ container: 'x'.repeat(80) }), want: new RegExp(`^x{54}~[0-9a-f]{8}$`) },
    ],
  ];
  it.each(cases)('%s', (_name, { given, want }) => {
    const label = labelOf([given], given);
    if (typeof want === 'string') expect(label).toBe(want);
    else expect(label).toMatch(want);
    expect(label.length).toBeLessThanOrEqual(MAX_LABEL_LENGTH);
    expect(label).toMatch(SAFE_LABEL);
  });

  it('identities whose readable labels collide both get distinct hashed labels', () => {
    const a = request({ container: 'a:tcp:b', listen: 'c', hostPort: r(1) });
    const b = request({ container: 'a', listen: 'b:tcp:c', listenKind: 'address', hostPort: r(1) });
    const [la, lb] = assignLabels([a, b]);
    expect(la).not.toBe(lb);
    expect(la).toContain('~');
    expect(lb).toContain('~');
    // Deterministic whatever the order.
    expect(assignLabels([b, a])).toEqual([lb, la]);
  });

  it('two entries narrowed to different families on one listen side and port get different labels', () => {
    const v4 = request({ families: ['inet'] });
    const v6 = request({ families: ['inet6'] });
    const [l4, l6] = assignLabels([v4, v6]);
    expect(l4).not.toBe(l6);
    expect(assignLabels([v6, v4])).toEqual([l6, l4]);
    // An entry with both families shares one label between its v4 and v6 rules.
    const both = request({});
    expect(assignLabels([both, both])).toEqual(['web:tcp:em0:8080', 'web:tcp:em0:8080']);
  });

  it('labels are short, safe and unique for any set of identities (property)', () => {
    const name = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_.-]{0,62}$/), fc.string({ minLength: 1, maxLength: 70 }));
    const listen = fc.oneof(
      fc.constantFrom('em0', 'vtnet0', 'lagg0.100').map((l) => ({ listen: l, listenKind: 'interface' as const })),
      fc.constant({ listen: 'self', listenKind: 'self' as const }),
      fc.ipV4().map((l) => ({ listen: l, listenKind: 'address' as const })),
      fc.ipV6().map((l) => ({ listen: l, listenKind: 'address' as const })),
    );
    const arb = fc.array(
      fc.record({
        container: name,
        protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const),
        listen,
        start: fc.integer({ min: 1, max: 65535 }),
        length: fc.integer({ min: 0, max: 100 }),
        families: fc.constantFrom<('inet' | 'inet6')[]>(['inet'], ['inet6'], ['inet', 'inet6']),
      }),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(arb, (raw) => {
        const requests = raw.map((x) => ({
          container: x.container,
          protocol: x.protocol,
          ...x.listen,
          hostPort: { start: x.start, end: Math.min(65535, x.start + x.length) },
          families: x.families,
        }));
        const labels = assignLabels(requests);
        const owners = new Map<string, string>();
        labels.forEach((label, i) => {
          const identity = labelIdentity(requests[i]!);
          expect(label.length).toBeLessThanOrEqual(MAX_LABEL_LENGTH);
          expect(label).toMatch(SAFE_LABEL);
          expect(owners.get(label) ?? identity).toBe(identity);
          owners.set(label, identity);
        });
        expect(new Set(labels).size).toBe(new Set(requests.map(labelIdentity)).size);
      }),
    );
  });
});

describe('labels of resolved exposures', () => {
  it('the v4 and v6 exposures of one entry share a label; different entries never do', () => {
    const result = resolveExposures(
      single([
        container({
          name: 'web',
          ip6: 'fd00::2',
          ports: [kleene(80, 80, { interfaces: ['em0'] }), kleene(81, 80, { interfaces: ['em0'] })],
        }),
        container({
          name: 'legacy-application',
          line: 20,
          ip6: 'fd00::3',
          syntax: 'docker',
          ports: [
            docker(80, 80, { hostAddress: '2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff' }),
            docker(80, 80, { hostAddress: '127.0.0.1' }),
          ],
        }),
      ]),
      { lock: emptyLockfile(), frozen: false },
    );
    expect(result.diagnostics).toEqual([]);
    const bySource = new Map<string, Set<string>>();
    for (const e of result.exposures) {
      const key = `${e.source.line}`;
      bySource.set(key, (bySource.get(key) ?? new Set()).add(e.label));
    }
    expect([...bySource.values()].every((labels) => labels.size === 1)).toBe(true);
    const distinct = new Set(result.exposures.map((e) => e.label));
    expect(distinct.size).toBe(bySource.size);
    expect([...distinct].sort()).toEqual([
      'legacy-application:tcp:127.0.0.1:80',
      expect.stringMatching(/^legacy-application:tcp:~[0-9a-f]{8}:80$/),
      'web:tcp:em0:80',
      'web:tcp:em0:81',
    ]);
  });
});
