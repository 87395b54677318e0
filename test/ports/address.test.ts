import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeAddressProblem, describeNetworkProblem, parseAddress, parseNetwork } from '../../src/ports/address.js';

describe('parseAddress', () => {
  const valid: [string, { given: string; want: { family: 'inet' | 'inet6'; text: string } }][] = [
    ['IPv4', { given: '192.0.2.1', want: { family: 'inet', text: '192.0.2.1' } }],
    ['IPv4 zeros', { given: '0.0.0.0', want: { family: 'inet', text: '0.0.0.0' } }],
    ['IPv4 max', { given: '255.255.255.255', want: { family: 'inet', text: '255.255.255.255' } }],
    ['loopback v6', { given: '::1', want: { family: 'inet6', text: '::1' } }],
    ['unspecified v6', { given: '::', want: { family: 'inet6', text: '::' } }],
    ['full form', { given: '2001:0db8:0000:0000:0000:0000:0000:0001', want: { family: 'inet6', text: '2001:db8::1' } }],
    ['upper case', { given: '2001:DB8::A', want: { family: 'inet6', text: '2001:db8::a' } }],
    [
      'single zero group not compressed',
      { given: '2001:db8:0:1:1:1:1:1', want: { family: 'inet6', text: '2001:db8:0:1:1:1:1:1' } },
    ],
    [
      ':: for one group on input',
      { given: '2001:db8::1:1:1:1:1', want: { family: 'inet6', text: '2001:db8:0:1:1:1:1:1' } },
    ],
    ['longest run wins', { given: '2001:0:0:1:0:0:0:1', want: { family: 'inet6', text: '2001:0:0:1::1' } }],
    ['first of equal runs', { given: '2001:db8:0:0:1:0:0:1', want: { family: 'inet6', text: '2001:db8::1:0:0:1' } }],
    ['trailing ::', { given: '1:2:3:4:5:6:7::', want: { family: 'inet6', text: '1:2:3:4:5:6:7:0' } }],
    ['leading ::', { given: '::2:3:4:5:6:7:8', want: { family: 'inet6', text: '0:2:3:4:5:6:7:8' } }],
    ['link local', { given: 'fe80::1', want: { family: 'inet6', text: 'fe80::1' } }],
    ['IPv4-mapped', { given: '::ffff:1.2.3.4', want: { family: 'inet6', text: '::ffff:1.2.3.4' } }],
    ['IPv4-mapped in hex', { given: '::FFFF:0102:0304', want: { family: 'inet6', text: '::ffff:1.2.3.4' } }],
    ['embedded IPv4 elsewhere', { given: '64:ff9b::192.0.2.33', want: { family: 'inet6', text: '64:ff9b::c000:221' } }],
    [
      'IPv4 tail in full form',
      { given: '1:2:3:4:5:6:1.2.3.4', want: { family: 'inet6', text: '1:2:3:4:5:6:102:304' } },
    ],
    ['no compression needed', { given: '1:2:3:4:5:6:7:8', want: { family: 'inet6', text: '1:2:3:4:5:6:7:8' } }],
  ];
  it.each(valid)('%s', (_name, { given, want }) => {
    expect(parseAddress(given)).toEqual(want);
    expect(describeAddressProblem(given)).toBeNull();
  });

  const invalid: [string, { given: string; reason: RegExp }][] = [
    ['empty', { given: '', reason: /empty/ }],
    ['leading zero octet', { given: '192.0.2.01', reason: /leading zero: write 1/ }],
    ['octet over 255', { given: '192.0.2.256', reason: /256 is greater than 255/ }],
    ['three octets', { given: '192.0.2', reason: /four numbers/ }],
    ['five octets', { given: '1.2.3.4.5', reason: /four numbers/ }],
    ['empty octet', { given: '1..3.4', reason: /no empty parts/ }],
    ['zone', { given: 'fe80::1%eth0', reason: /zones/ }],
    ['brackets', { given: '[::1]', reason: /brackets.*write ::1/ }],
    ['host name', { given: 'localhost', reason: /host names/ }],
    ['dotted host name', { given: 'example.org', reason: /host names/ }],
    ['two ::', { given: '1::2::3', reason: /only once/ }],
    ['long group', { given: '12345::1', reason: /four hex digits/ }],
    ['bad char', { given: '::g', reason: /hex digits/ }],
    ['nine groups', { given: '1:2:3:4:5:6:7:8:9', reason: /not a valid IPv6/ }],
    [':: with eight groups', { given: '1:2:3:4::5:6:7:8', reason: /not a valid IPv6/ }],
    ['seven groups', { given: '1:2:3:4:5:6:7', reason: /not a valid IPv6/ }],
    ['single colon start', { given: ':1::', reason: /not a valid IPv6/ }],
    ['IPv4 not at the end', { given: '1.2.3.4::', reason: /not a valid IPv6/ }],
    ['prefix', { given: '10.0.0.0/8', reason: /prefix length is not allowed/ }],
    ['white space', { given: ' 10.0.0.1', reason: /white space/ }],
    ['IPv4 with +', { given: '+1.2.3.4', reason: /neither/ }],
  ];
  it.each(invalid)('rejects %s', (_name, { given, reason }) => {
    expect(parseAddress(given)).toBeNull();
    expect(describeAddressProblem(given)).toMatch(reason);
  });
});

describe('parseNetwork', () => {
  const cases: [string, { given: string; want: ReturnType<typeof parseNetwork> }][] = [
    [
      'host',
      {
        given: '192.0.2.1',
        want: { family: 'inet', address: '192.0.2.1', prefix: 32, text: '192.0.2.1', hostBitsSet: false },
      },
    ],
    [
      'host /32 printed bare',
      {
        given: '192.0.2.1/32',
        want: { family: 'inet', address: '192.0.2.1', prefix: 32, text: '192.0.2.1', hostBitsSet: false },
      },
    ],
    [
      'network',
      {
        given: '192.0.2.0/24',
        want: { family: 'inet', address: '192.0.2.0', prefix: 24, text: '192.0.2.0/24', hostBitsSet: false },
      },
    ],
    [
      'host bits',
      {
        given: '1.2.3.4/25',
        want: { family: 'inet', address: '1.2.3.0', prefix: 25, text: '1.2.3.0/25', hostBitsSet: true },
      },
    ],
    [
      'any v4',
      {
        given: '0.0.0.0/0',
        want: { family: 'inet', address: '0.0.0.0', prefix: 0, text: '0.0.0.0/0', hostBitsSet: false },
      },
    ],
    [
      'odd prefix',
      {
        given: '10.255.0.0/9',
        want: { family: 'inet', address: '10.128.0.0', prefix: 9, text: '10.128.0.0/9', hostBitsSet: true },
      },
    ],
    [
      'v6 network',
      {
        given: '2001:DB8::/32',
        want: { family: 'inet6', address: '2001:db8::', prefix: 32, text: '2001:db8::/32', hostBitsSet: false },
      },
    ],
    [
      'v6 host bits',
      {
        given: '2001:db8::1/64',
        want: { family: 'inet6', address: '2001:db8::', prefix: 64, text: '2001:db8::/64', hostBitsSet: true },
      },
    ],
    [
      'v6 /128',
      { given: '::1/128', want: { family: 'inet6', address: '::1', prefix: 128, text: '::1', hostBitsSet: false } },
    ],
    [
      'any v6',
      { given: '::/0', want: { family: 'inet6', address: '::', prefix: 0, text: '::/0', hostBitsSet: false } },
    ],
    [
      'v6 nibble prefix',
      {
        given: 'fe80::ff:1/121',
        want: { family: 'inet6', address: 'fe80::ff:0', prefix: 121, text: 'fe80::ff:0/121', hostBitsSet: true },
      },
    ],
  ];
  it.each(cases)('%s', (_name, { given, want }) => {
    expect(parseNetwork(given)).toEqual(want);
    expect(describeNetworkProblem(given)).toBeNull();
  });

  const invalid: [string, { given: string; reason: RegExp }][] = [
    ['prefix too long v4', { given: '10.0.0.0/33', reason: /too long for an IPv4.*0 to 32/ }],
    ['prefix too long v6', { given: '::/129', reason: /too long for an IPv6.*0 to 128/ }],
    ['leading zero prefix', { given: '10.0.0.0/08', reason: /leading zero: write 8/ }],
    ['empty prefix', { given: '10.0.0.0/', reason: /not a number/ }],
    ['two prefixes', { given: '10.0.0.0/8/8', reason: /one \/PREFIX/ }],
    ['bad address', { given: '10.0.0/8', reason: /four numbers/ }],
    ['zone', { given: 'fe80::%em0/64', reason: /zones/ }],
    ['host name', { given: 'example.org/24', reason: /host names/ }],
  ];
  it.each(invalid)('rejects %s', (_name, { given, reason }) => {
    expect(parseNetwork(given)).toBeNull();
    expect(describeNetworkProblem(given)).toMatch(reason);
  });
});

/** A random IPv6 address written in one of the many equivalent RFC 4291 text forms. */
const ipv6Text = fc
  .tuple(
    fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }),
    fc.boolean(),
    fc.boolean(),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([words, upper, pad, compress, v4tail]) => {
    let groups = words.map((w) => {
      const hex = w.toString(16);
      return (upper ? hex.toUpperCase() : hex).padStart(pad ? 4 : 1, '0');
    });
    if (v4tail) {
      const hi = words[6]!;
      const lo = words[7]!;
      groups = [...groups.slice(0, 6), `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`];
    }
    if (compress) {
      const at = groups.findIndex((g, i) => /^0+$/.test(g) && i < groups.length - (v4tail ? 1 : 0));
      if (at >= 0) {
        let end = at;
        while (end < groups.length && /^0+$/.test(groups[end]!)) end++;
        return `${groups.slice(0, at).join(':')}::${groups.slice(end).join(':')}`;
      }
    }
    return groups.join(':');
  });

describe('address properties', () => {
  it('canonical text is a fixed point', () => {
    fc.assert(
      fc.property(ipv6Text, (text) => {
        const first = parseAddress(text);
        expect(first).not.toBeNull();
        expect(parseAddress(first!.text)).toEqual(first);
      }),
    );
  });

  it('agrees with WHATWG URL serialisation (RFC 5952) outside IPv4-mapped addresses', () => {
    fc.assert(
      fc.property(ipv6Text, (text) => {
        const ours = parseAddress(text)!.text;
        const theirs = new URL(`http://[${text}]/`).hostname.slice(1, -1);
        if (!ours.startsWith('::ffff:') || !ours.includes('.')) expect(ours).toBe(theirs);
      }),
    );
  });

  it('accepts exactly what node:net accepts, minus zones', () => {
    const soup = fc
      .array(fc.constantFrom('0', '1', 'f', 'F', '255', '256', '01', ':', '::', '.', '%', 'g', '1.2.3.4', 'ffff'), {
        maxLength: 12,
      })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(soup, (text) => {
        const node = isIP(text);
        const ours = parseAddress(text);
        if (text.includes('%')) expect(ours).toBeNull();
        else expect(ours === null ? 0 : ours.family === 'inet' ? 4 : 6).toBe(node);
      }),
      { numRuns: 3000 },
    );
  });

  it('IPv4 canonicalisation is the identity on valid dotted quads', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), (octets) => {
        const text = octets.join('.');
        expect(parseAddress(text)).toEqual({ family: 'inet', text });
      }),
    );
  });

  it('parseNetwork text is a fixed point and never has host bits', () => {
    fc.assert(
      fc.property(ipv6Text, fc.integer({ min: 0, max: 128 }), (text, prefix) => {
        const network = parseNetwork(`${text}/${prefix}`)!;
        const again = parseNetwork(network.text)!;
        expect(again.text).toBe(network.text);
        expect(again.hostBitsSet).toBe(false);
        expect(again.prefix).toBe(prefix);
      }),
    );
  });
});
