import { describe, expect, it } from 'vitest';
import { parseKleenePort } from '../../src/ports/parse-kleene-port.js';
import type { PortSpec, Protocol } from '../../src/ports/port-spec.js';

function kleene(
  host: [number, number],
  container: [number, number],
  protocol: Protocol = 'tcp',
  interfaces: string[] = [],
): PortSpec {
  return {
    syntax: 'kleene',
    protocol,
    containerPort: { start: container[0], end: container[1] },
    hostPort: { start: host[0], end: host[1] },
    hostPortIsPool: false,
    interfaces,
    hostAddress: null,
    from: [],
    family: null,
    name: null,
  };
}

describe('parseKleenePort: upstream table (klee test/unit/utils_test.py) and seed examples', () => {
  const valid: [string, { given: string; want: PortSpec }][] = [
    ['8080', { given: '8080', want: kleene([8080, 8080], [8080, 8080]) }],
    ['4000', { given: '4000', want: kleene([4000, 4000], [4000, 4000]) }],
    ['8080:80', { given: '8080:80', want: kleene([8080, 8080], [80, 80]) }],
    ['8080:80/udp', { given: '8080:80/udp', want: kleene([8080, 8080], [80, 80], 'udp') }],
    ['em0:8080:80', { given: 'em0:8080:80', want: kleene([8080, 8080], [80, 80], 'tcp', ['em0']) }],
    ['em0:8080:80/udp', { given: 'em0:8080:80/udp', want: kleene([8080, 8080], [80, 80], 'udp', ['em0']) }],
    ['seed em1:8080:80', { given: 'em1:8080:80', want: kleene([8080, 8080], [80, 80], 'tcp', ['em1']) }],
    ['seed 8080:80/tcp', { given: '8080:80/tcp', want: kleene([8080, 8080], [80, 80]) }],
    ['seed 8080/tcp', { given: '8080/tcp', want: kleene([8080, 8080], [8080, 8080]) }],
    ['range both sides', { given: '9000-9010:9000-9010', want: kleene([9000, 9010], [9000, 9010]) }],
    ['shifted range', { given: '8080-8090:80-90', want: kleene([8080, 8090], [80, 90]) }],
    ['bare range', { given: '9000-9010', want: kleene([9000, 9010], [9000, 9010]) }],
    [
      'range on interface, udp',
      { given: 'vtnet0.100:5000-5001:6000-6001/udp', want: kleene([5000, 5001], [6000, 6001], 'udp', ['vtnet0.100']) },
    ],
    [
      'longest interface name',
      { given: 'abcdefghijklmno:80:80', want: kleene([80, 80], [80, 80], 'tcp', ['abcdefghijklmno']) },
    ],
    ['interface with underscore', { given: 'lagg_0:80:80', want: kleene([80, 80], [80, 80], 'tcp', ['lagg_0']) }],
    ['range of one', { given: '80-80:90', want: kleene([80, 80], [90, 90]) }],
  ];
  it.each(valid)('%s', (_name, { given, want }) => {
    expect(parseKleenePort(given)).toEqual({ ok: true, spec: want });
  });

  it('publishes tcp and udp as two entries (seed: -p 8080:80/tcp -p 8080:80/udp)', () => {
    const tcp = parseKleenePort('8080:80/tcp');
    const udp = parseKleenePort('8080:80/udp');
    expect(tcp.ok && tcp.spec.protocol).toBe('tcp');
    expect(udp.ok && udp.spec.protocol).toBe('udp');
  });

  it('publishes on two interfaces as two entries (seed: -p em0:8080:80 -p em1:8080:80)', () => {
    const em0 = parseKleenePort('em0:8080:80');
    const em1 = parseKleenePort('em1:8080:80');
    expect(em0.ok && em0.spec.interfaces).toEqual(['em0']);
    expect(em1.ok && em1.spec.interfaces).toEqual(['em1']);
  });
});

describe('parseKleenePort: errors', () => {
  const invalid: [string, { given: string; want: [string, number, number][] }][] = [
    ['upstream: extra field', { given: 'em0:8080:80:extra', want: [['port-too-many-fields', 11, 17]] }],
    ['upstream: two protocols', { given: '8080:80/tcp/udp', want: [['port-too-many-fields', 11, 15]] }],
    ['empty spec', { given: '', want: [['port-empty', 0, 0]] }],
    ['port 0', { given: '0', want: [['port-zero', 0, 1]] }],
    ['container port 0', { given: '8080:0', want: [['port-zero', 5, 6]] }],
    ['plus sign', { given: '+80', want: [['port-sign', 0, 3]] }],
    ['negative', { given: '-1', want: [['port-sign', 0, 2]] }],
    ['negative container', { given: '8080:-1', want: [['port-sign', 5, 7]] }],
    ['leading zero', { given: '080', want: [['port-leading-zero', 0, 3]] }],
    ['leading zero container', { given: 'em0:8080:080', want: [['port-leading-zero', 9, 12]] }],
    ['too big', { given: '65536', want: [['port-out-of-range', 0, 5]] }],
    ['not a number', { given: 'http', want: [['port-not-a-number', 0, 4]] }],
    ['reversed', { given: '90-80', want: [['port-range-reversed', 0, 5]] }],
    ['reversed container', { given: '80-90:100-90', want: [['port-range-reversed', 6, 12]] }],
    ['empty host', { given: ':80', want: [['port-empty', 0, 0]] }],
    ['empty container', { given: '8080:', want: [['port-empty', 5, 5]] }],
    ['leading space', { given: ' 8080', want: [['port-whitespace', 0, 1]] }],
    ['trailing newline', { given: '8080\n', want: [['port-whitespace', 4, 5]] }],
    [
      'inner spaces',
      {
        given: '8080 : 80',
        want: [
          ['port-whitespace', 4, 5],
          ['port-whitespace', 6, 7],
        ],
      },
    ],
    ['tab', { given: 'em0:\t80:80', want: [['port-whitespace', 4, 5]] }],
    ['unknown protocol', { given: '8080:80/icmp', want: [['port-protocol', 8, 12]] }],
    ['sctp', { given: '8080:80/sctp', want: [['port-protocol', 8, 12]] }],
    ['upper case protocol', { given: '8080:80/UDP', want: [['port-protocol', 8, 11]] }],
    ['empty protocol', { given: '8080:80/', want: [['port-protocol', 8, 8]] }],
    ['protocol only', { given: '/udp', want: [['port-empty', 0, 0]] }],
    ['pool', { given: '8000-8010:80', want: [['port-pool-in-kleene', 0, 12]] }],
    ['range to single', { given: '8080:80-90', want: [['port-range-to-single', 0, 10]] }],
    ['range lengths', { given: 'em0:8000-8010:80-85/udp', want: [['port-range-length', 4, 19]] }],
    ['interface too long', { given: 'abcdefghijklmnop:80:80', want: [['port-interface-name', 0, 16]] }],
    ['interface with dash', { given: 'em-0:80:80', want: [['port-interface-name', 0, 4]] }],
    ['interface with quote', { given: 'em"0:80:80', want: [['port-interface-name', 0, 4]] }],
    ['interface with brace', { given: '{em0}:80:80', want: [['port-interface-name', 0, 5]] }],
    ['interface with hash', { given: 'em0#:80:80', want: [['port-interface-name', 0, 4]] }],
    ['interface starting with digit', { given: '0em:80:80', want: [['port-interface-name', 0, 3]] }],
    ['empty interface', { given: ':8080:80', want: [['port-interface-name', 0, 0]] }],
    ['IPv4 address as interface', { given: '127.0.0.1:80:8080', want: [['port-address-in-kleene', 0, 9]] }],
    ['bare IPv6 address', { given: '::1:80:80', want: [['port-address-in-kleene', 0, 3]] }],
    ['bracketed IPv6 address', { given: '[::1]:80:80', want: [['port-address-in-kleene', 0, 5]] }],
    [
      'docker ephemeral form',
      {
        given: '127.0.0.1::8080',
        want: [
          ['port-address-in-kleene', 0, 9],
          ['port-empty', 10, 10],
        ],
      },
    ],
    ['an interface with only a host port', { given: 'em1:5432', want: [['port-syntax', 0, 8]] }],
    ['an interface with a range and a protocol', { given: 'vtnet0.100:9000-9001/udp', want: [['port-syntax', 0, 20]] }],
    ['an interface alone', { given: 'em1', want: [['port-syntax', 0, 3]] }],
    ['an interface and a bad port', { given: 'em1:http', want: [['port-syntax', 0, 8]] }],
    ['a name that is no interface stays not a number', { given: 'http:80', want: [['port-not-a-number', 0, 4]] }],
    [
      'several problems at once',
      {
        given: 'em-0:0:080/xyz',
        want: [
          ['port-interface-name', 0, 4],
          ['port-zero', 5, 6],
          ['port-leading-zero', 7, 10],
          ['port-protocol', 11, 14],
        ],
      },
    ],
  ];
  it.each(invalid)('%s', (_name, { given, want }) => {
    const result = parseKleenePort(given);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => [e.code, e.start, e.end])).toEqual(want);
  });

  const interfaceForm: [string, { given: string; want: string }][] = [
    ['em1:5432', { given: 'em1:5432', want: 'e.g. em1:5432:5432;' }],
    ['em1:9000-9001/udp', { given: 'em1:9000-9001/udp', want: 'e.g. em1:9000-9001:9000-9001/udp;' }],
    ['em1', { given: 'em1', want: 'e.g. em1:8080:80;' }],
  ];
  it.each(interfaceForm)(
    '%s: says the interface form needs all three fields, written out',
    (_name, { given, want }) => {
      const result = parseKleenePort(given);
      const message = result.ok ? '' : (result.errors[0]?.message ?? '');
      expect(message).toContain('INTERFACE:HOST_PORT:CONTAINER_PORT');
      expect(message).toContain(want);
      expect(message).not.toMatch(/not a number/);
    },
  );

  it('explains the docker alternatives', () => {
    const pool = parseKleenePort('8000-8010:80');
    expect(pool.ok ? '' : pool.errors[0]?.message).toMatch(/docker syntax.*long form/);
    const address = parseKleenePort('127.0.0.1:80:8080');
    // The entry itself, rewritten: the same ports, with an interface or in docker syntax.
    expect(address.ok ? '' : address.errors[0]?.message).toMatch(
      /\(em0:80:8080\).*docker syntax \(127\.0\.0\.1:80:8080\)/,
    );
    const v6 = parseKleenePort('[::1]:53:5353/udp');
    expect(v6.ok ? '' : v6.errors[0]?.message).toMatch(/docker syntax \(\[::1\]:53:5353\/udp\)/);
    const sctp = parseKleenePort('80/sctp');
    expect(sctp.ok ? '' : sctp.errors[0]?.message).toMatch(/docker syntax and the long form accept sctp/);
  });
});
