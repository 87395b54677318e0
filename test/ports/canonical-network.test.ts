import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareNetworks, parseNetwork } from '../../src/ports/address.js';

describe('parseNetwork as the one canonical network text', () => {
  const cases: [string, { given: string; want: string | null }][] = [
    ['IPv4 host', { given: '192.0.2.1', want: '192.0.2.1' }],
    ['IPv4 /32 is a host', { given: '192.0.2.1/32', want: '192.0.2.1' }],
    ['IPv4 host bits masked', { given: '192.0.2.77/25', want: '192.0.2.0/25' }],
    ['IPv4 /0', { given: '10.1.2.3/0', want: '0.0.0.0/0' }],
    ['IPv6 compressed and lower case', { given: '2001:DB8:0:0:0:0:0:1', want: '2001:db8::1' }],
    ['IPv6 /128 is a host', { given: '::1/128', want: '::1' }],
    ['IPv6 masked', { given: '2001:db8:ffff::1/32', want: '2001:db8::/32' }],
    ['IPv6 first longest zero run', { given: '1:0:0:2:0:0:0:3', want: '1:0:0:2::3' }],
    ['IPv6 single zero group is not compressed', { given: '1:0:2:3:4:5:6:7', want: '1:0:2:3:4:5:6:7' }],
    // IPv4-mapped addresses keep their dotted tail, as pfctl prints them (the old hex form was a bug).
    ['IPv6 with an IPv4 tail', { given: '::ffff:192.0.2.1', want: '::ffff:192.0.2.1' }],
    ['IPv4-mapped network', { given: '::ffff:198.51.100.0/120', want: '::ffff:198.51.100.0/120' }],
    ['bad octet', { given: '256.0.0.1', want: null }],
    ['leading zero', { given: '010.0.0.1', want: null }],
    ['prefix too long', { given: '10.0.0.0/33', want: null }],
    ['zone', { given: 'fe80::1%em0', want: null }],
    ['two ::', { given: '1::2::3', want: null }],
    ['host name', { given: 'example.com', want: null }],
    ['empty', { given: '', want: null }],
  ];
  it.each(cases)('%s', (_name, { given, want }) => {
    expect(parseNetwork(given)?.text ?? null).toBe(want);
  });

  it('is idempotent on IPv4 and IPv6 addresses and never throws', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()), fc.integer({ min: 0, max: 128 }), (address, prefix) => {
        const first = parseNetwork(`${address}/${prefix}`);
        if (first !== null) expect(parseNetwork(first.text)?.text).toBe(first.text);
      }),
    );
  });

  it('orders numerically, IPv4 first', () => {
    const list = ['2001:db8::/32', '10.0.0.0/8', '9.0.0.0/8', '10.0.0.0/16'].map((t) => parseNetwork(t)!);
    expect(list.sort(compareNetworks).map((n) => n.text)).toEqual([
      '9.0.0.0/8',
      '10.0.0.0/8',
      '10.0.0.0/16',
      '2001:db8::/32',
    ]);
  });
});
