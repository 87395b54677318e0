import { describe, expect, it } from 'vitest';
import { parseDockerPort } from '../../src/ports/parse-docker-port.js';
import type { PortSpec, Protocol } from '../../src/ports/port-spec.js';

function docker(
  container: [number, number],
  host: [number, number] | null,
  hostAddress: string | null = null,
  protocol: Protocol = 'tcp',
  hostPortIsPool = false,
): PortSpec {
  return {
    syntax: 'docker',
    protocol,
    containerPort: { start: container[0], end: container[1] },
    hostPort: host === null ? null : { start: host[0], end: host[1] },
    hostPortIsPool,
    interfaces: [],
    hostAddress,
    from: [],
    family: null,
    name: null,
  };
}

describe('parseDockerPort: seed examples and go-connections semantics', () => {
  const valid: [string, { given: string; want: PortSpec }][] = [
    ['seed 127.0.0.1:80:8080', { given: '127.0.0.1:80:8080', want: docker([8080, 8080], [80, 80], '127.0.0.1') }],
    ['seed 127.0.0.1::8080 (ephemeral)', { given: '127.0.0.1::8080', want: docker([8080, 8080], null, '127.0.0.1') }],
    ['seed 80:8080', { given: '80:8080', want: docker([8080, 8080], [80, 80]) }],
    ['seed 8080 (ephemeral)', { given: '8080', want: docker([8080, 8080], null) }],
    [
      'seed 127.0.0.1:53:5353/udp',
      { given: '127.0.0.1:53:5353/udp', want: docker([5353, 5353], [53, 53], '127.0.0.1', 'udp') },
    ],
    ['8080:80', { given: '8080:80', want: docker([80, 80], [8080, 8080]) }],
    ['sctp', { given: '9000:9000/sctp', want: docker([9000, 9000], [9000, 9000], null, 'sctp') }],
    ['upper-case protocol, as upstream', { given: '80/UDP', want: docker([80, 80], null, null, 'udp') }],
    ['explicit tcp', { given: '80:80/tcp', want: docker([80, 80], [80, 80]) }],
    ['one-to-one range', { given: '8000-8010:80-90', want: docker([80, 90], [8000, 8010]) }],
    ['pool', { given: '8000-8010:80', want: docker([80, 80], [8000, 8010], null, 'tcp', true) }],
    [
      'pool on an address',
      { given: '10.0.0.1:8000-8010:80/udp', want: docker([80, 80], [8000, 8010], '10.0.0.1', 'udp', true) },
    ],
    ['bare container range', { given: '80-90', want: docker([80, 90], null) }],
    [
      'container range on an address, ephemeral',
      { given: '127.0.0.1::80-90', want: docker([80, 90], null, '127.0.0.1') },
    ],
    ['bracketed IPv6', { given: '[::1]:80:80', want: docker([80, 80], [80, 80], '::1') }],
    ['bracketed IPv6, ephemeral', { given: '[::1]::80', want: docker([80, 80], null, '::1') }],
    ['bare IPv6 (compat)', { given: '::1:80:80', want: docker([80, 80], [80, 80], '::1') }],
    [
      'bare IPv6 canonicalised',
      { given: '2001:DB8:0:0::1:8080:80', want: docker([80, 80], [8080, 8080], '2001:db8::1') },
    ],
    [
      'bracketed IPv6 canonicalised',
      { given: '[2001:0db8::0001]:443:8443', want: docker([8443, 8443], [443, 443], '2001:db8::1') },
    ],
    ['every IPv4 address', { given: '0.0.0.0:80:80', want: docker([80, 80], [80, 80], '0.0.0.0') }],
    ['every IPv6 address', { given: '[::]:80:80', want: docker([80, 80], [80, 80], '::') }],
    ['IPv4-mapped', { given: '[::ffff:127.0.0.1]:80:80', want: docker([80, 80], [80, 80], '::ffff:127.0.0.1') }],
    ['empty host port, no address', { given: ':80', want: docker([80, 80], null) }],
    ['empty address and host port (upstream)', { given: '::80', want: docker([80, 80], null) }],
    ['empty address (upstream)', { given: ':8080:80', want: docker([80, 80], [8080, 8080]) }],
  ];
  it.each(valid)('%s', (_name, { given, want }) => {
    expect(parseDockerPort(given)).toEqual({ ok: true, spec: want });
  });
});

describe('parseDockerPort: errors', () => {
  const invalid: [string, { given: string; want: [string, number, number][] }][] = [
    ['empty', { given: '', want: [['port-empty', 0, 0]] }],
    ['port 0', { given: '0', want: [['port-zero', 0, 1]] }],
    ['host port 0', { given: '0:80', want: [['port-zero', 0, 1]] }],
    ['plus', { given: '+80', want: [['port-sign', 0, 3]] }],
    ['plus host', { given: '127.0.0.1:+80:80', want: [['port-sign', 10, 13]] }],
    ['leading zero', { given: '8080:080', want: [['port-leading-zero', 5, 8]] }],
    ['too big', { given: '80:65536', want: [['port-out-of-range', 3, 8]] }],
    ['reversed', { given: '90-80', want: [['port-range-reversed', 0, 5]] }],
    ['space', { given: '80: 80', want: [['port-whitespace', 3, 4]] }],
    ['not a number', { given: '80:http', want: [['port-not-a-number', 3, 7]] }],
    ['empty container port', { given: '127.0.0.1:80:', want: [['port-empty', 13, 13]] }],
    ['unknown protocol', { given: '80/icmp', want: [['port-protocol', 3, 7]] }],
    ['empty protocol', { given: '80/', want: [['port-protocol', 3, 3]] }],
    ['two protocols', { given: '80/tcp/udp', want: [['port-too-many-fields', 6, 10]] }],
    ['range to single', { given: '8080:80-90', want: [['port-range-to-single', 0, 10]] }],
    ['range lengths', { given: '8000-8010:80-85/udp', want: [['port-range-length', 0, 15]] }],
    ['interface in address field', { given: 'em0:8080:80', want: [['port-interface-in-docker', 0, 3]] }],
    ['vlan interface in address field', { given: 'vlan0.100:8080:80', want: [['port-interface-in-docker', 0, 9]] }],
    ['host name', { given: 'localhost:8080:80', want: [['port-address-invalid', 0, 9]] }],
    ['bad octet', { given: '127.0.0.256:80:80', want: [['port-address-invalid', 0, 11]] }],
    ['leading zero octet', { given: '127.0.0.01:80:80', want: [['port-address-invalid', 0, 10]] }],
    ['zone', { given: '[fe80::1%em0]:80:80', want: [['port-address-invalid', 1, 12]] }],
    ['bare zone', { given: 'fe80::1%em0:80:80', want: [['port-address-invalid', 0, 11]] }],
    ['bracketed IPv4', { given: '[127.0.0.1]:80:80', want: [['port-address-invalid', 0, 11]] }],
    ['unclosed bracket', { given: '[::1:80:80', want: [['port-address-invalid', 0, 10]] }],
    ['bracket without host port field', { given: '[::1]:80', want: [['port-syntax', 5, 8]] }],
    ['text after bracket', { given: '[::1]x:80:80', want: [['port-syntax', 5, 12]] }],
    ['too many fields after bracket', { given: '[::1]:80:80:90', want: [['port-too-many-fields', 11, 14]] }],
    ['ambiguous bare IPv6', { given: '2001:db8::1:80', want: [['port-address-invalid', 0, 9]] }],
    ['network as address', { given: '10.0.0.0/8:80:80', want: [['port-address-invalid', 0, 10]] }],
    [
      'several problems at once',
      {
        given: 'em0:0:080/xyz',
        want: [
          ['port-interface-in-docker', 0, 3],
          ['port-zero', 4, 5],
          ['port-leading-zero', 6, 9],
          ['port-protocol', 10, 13],
        ],
      },
    ],
  ];
  it.each(invalid)('%s', (_name, { given, want }) => {
    const result = parseDockerPort(given);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => [e.code, e.start, e.end])).toEqual(want);
  });

  it('points interface users at kleene syntax and IPv6 users at brackets', () => {
    const iface = parseDockerPort('em0:8080:80');
    expect(iface.ok ? '' : iface.errors[0]?.message).toMatch(/kleene syntax \(em0:8080:80\)/);
    const v6 = parseDockerPort('2001:db8::1:80');
    expect(v6.ok ? '' : v6.errors[0]?.message).toMatch(/in brackets/);
  });
});
