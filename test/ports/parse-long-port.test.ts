import { describe, expect, it } from 'vitest';
import { parsePortObject, parsePortSpec } from '../../src/ports/parse-long-port.js';
import type { PortSpec } from '../../src/ports/port-spec.js';
import { portSpec } from '../helpers/builders.js';

function long(overrides: Partial<PortSpec>): PortSpec {
  return portSpec({ syntax: 'long', hostPort: null, ...overrides });
}

describe('parsePortObject: long form', () => {
  const valid: [string, { given: unknown; want: PortSpec }][] = [
    ['target only: ephemeral host port', { given: { target: 80 }, want: long({}) }],
    ['target as string', { given: { target: '80' }, want: long({}) }],
    ['published', { given: { target: 80, published: 8080 }, want: long({ hostPort: { start: 8080, end: 8080 } }) }],
    [
      'published as string',
      { given: { target: 80, published: '8080' }, want: long({ hostPort: { start: 8080, end: 8080 } }) },
    ],
    [
      'ranges one-to-one',
      {
        given: { target: '80-90', published: '8080-8090' },
        want: long({ containerPort: { start: 80, end: 90 }, hostPort: { start: 8080, end: 8090 } }),
      },
    ],
    [
      'pool',
      {
        given: { target: 80, published: '8000-8010' },
        want: long({ hostPort: { start: 8000, end: 8010 }, hostPortIsPool: true }),
      },
    ],
    ['target range, ephemeral', { given: { target: '80-90' }, want: long({ containerPort: { start: 80, end: 90 } }) }],
    [
      'every key',
      {
        given: {
          target: 443,
          published: 8443,
          host_ip: '2001:DB8::1',
          protocol: 'udp',
          name: 'quic.v1',
          from: ['2001:db8:1::/48', '::1'],
          family: 'inet6',
          mode: 'host',
          app_protocol: 'http3',
        },
        want: long({
          protocol: 'udp',
          containerPort: { start: 443, end: 443 },
          hostPort: { start: 8443, end: 8443 },
          hostAddress: '2001:db8::1',
          name: 'quic.v1',
          from: ['2001:db8:1::/48', '::1'],
          family: 'inet6',
        }),
      },
    ],
    ['sctp', { given: { target: 80, protocol: 'sctp' }, want: long({ protocol: 'sctp' }) }],
    [
      'interface',
      {
        given: { target: 80, published: 80, interface: 'em0' },
        want: long({ hostPort: { start: 80, end: 80 }, interfaces: ['em0'] }),
      },
    ],
    [
      'interfaces are sorted',
      {
        given: { target: 80, interfaces: ['em1', 'em0', 'bridge0'] },
        want: long({ interfaces: ['bridge0', 'em0', 'em1'] }),
      },
    ],
    [
      'from is canonical and sorted',
      {
        given: { target: 80, from: ['192.0.2.0/24', '10.0.0.1/32', '2001:DB8::/32'] },
        want: long({ from: ['10.0.0.1', '192.0.2.0/24', '2001:db8::/32'] }),
      },
    ],
    ['family inet', { given: { target: 80, family: 'inet' }, want: long({ family: 'inet' }) }],
    ['every IPv4 address', { given: { target: 80, host_ip: '0.0.0.0' }, want: long({ hostAddress: '0.0.0.0' }) }],
  ];
  it.each(valid)('%s', (_name, { given, want }) => {
    expect(parsePortObject(given)).toEqual({ ok: true, spec: want });
  });
});

describe('parsePortObject: explicit short syntax', () => {
  it('reads { kleene } with from, family and name', () => {
    expect(parsePortObject({ kleene: 'em0:8080:80/udp', from: ['10.0.0.0/8'], family: 'inet', name: 'dns' })).toEqual({
      ok: true,
      spec: {
        syntax: 'kleene',
        protocol: 'udp',
        containerPort: { start: 80, end: 80 },
        hostPort: { start: 8080, end: 8080 },
        hostPortIsPool: false,
        interfaces: ['em0'],
        hostAddress: null,
        from: ['10.0.0.0/8'],
        family: 'inet',
        name: 'dns',
      },
    });
  });

  it('reads { docker } with a number', () => {
    const result = parsePortObject({ docker: 8080 });
    expect(result.ok && result.spec).toMatchObject({
      syntax: 'docker',
      hostPort: null,
      containerPort: { start: 8080, end: 8080 },
    });
  });

  it('reads { kleene } with a number', () => {
    const result = parsePortObject({ kleene: 8080 });
    expect(result.ok && result.spec).toMatchObject({ syntax: 'kleene', hostPort: { start: 8080, end: 8080 } });
  });
});

type WantError = [code: string, key: string | undefined, start: number, end: number, index?: number];

describe('parsePortObject: errors', () => {
  const invalid: [string, { given: unknown; want: WantError[] }][] = [
    ['null', { given: null, want: [['port-long-type', undefined, 0, 0]] }],
    ['array', { given: [80], want: [['port-long-type', undefined, 0, 0]] }],
    ['string', { given: '80', want: [['port-long-type', undefined, 0, 0]] }],
    ['missing target', { given: { published: 80 }, want: [['port-long-missing-target', 'target', 0, 0]] }],
    ['empty object', { given: {}, want: [['port-long-missing-target', 'target', 0, 0]] }],
    ['target of wrong type', { given: { target: true }, want: [['port-long-type', 'target', 0, 0]] }],
    ['target null', { given: { target: null }, want: [['port-long-type', 'target', 0, 0]] }],
    ['target 0', { given: { target: 0 }, want: [['port-zero', 'target', 0, 1]] }],
    ['target negative', { given: { target: -80 }, want: [['port-sign', 'target', 0, 3]] }],
    ['target fraction', { given: { target: 80.5 }, want: [['port-not-a-number', 'target', 0, 4]] }],
    ['target NaN', { given: { target: Number.NaN }, want: [['port-not-a-number', 'target', 0, 3]] }],
    ['target leading zero', { given: { target: '080' }, want: [['port-leading-zero', 'target', 0, 3]] }],
    ['target reversed range', { given: { target: '90-80' }, want: [['port-range-reversed', 'target', 0, 5]] }],
    ['target with space', { given: { target: '80 ' }, want: [['port-whitespace', 'target', 2, 3]] }],
    [
      'published out of range',
      { given: { target: 80, published: '8000-70000' }, want: [['port-out-of-range', 'published', 5, 10]] },
    ],
    ['published empty', { given: { target: 80, published: '' }, want: [['port-empty', 'published', 0, 0]] }],
    [
      'range to single',
      { given: { target: '80-90', published: 8080 }, want: [['port-range-to-single', 'published', 0, 0]] },
    ],
    [
      'range length',
      { given: { target: '80-90', published: '8080-8085' }, want: [['port-range-length', 'published', 0, 0]] },
    ],
    ['unknown key', { given: { target: 80, host_port: 8080 }, want: [['port-long-key', 'host_port', 0, 0]] }],
    [
      '__proto__ key',
      { given: JSON.parse('{"target": 80, "__proto__": {"x": 1}}'), want: [['port-long-key', '__proto__', 0, 0]] },
    ],
    [
      'bad host_ip',
      { given: { target: 80, host_ip: '127.0.0.256' }, want: [['port-address-invalid', 'host_ip', 0, 11]] },
    ],
    [
      'host_ip with brackets',
      { given: { target: 80, host_ip: '[::1]' }, want: [['port-address-invalid', 'host_ip', 0, 5]] },
    ],
    [
      'host_ip with zone',
      { given: { target: 80, host_ip: 'fe80::1%em0' }, want: [['port-address-invalid', 'host_ip', 0, 11]] },
    ],
    [
      'host_ip host name',
      { given: { target: 80, host_ip: 'localhost' }, want: [['port-address-invalid', 'host_ip', 0, 9]] },
    ],
    ['host_ip number', { given: { target: 80, host_ip: 127 }, want: [['port-long-type', 'host_ip', 0, 0]] }],
    ['protocol unknown', { given: { target: 80, protocol: 'icmp' }, want: [['port-protocol', 'protocol', 0, 4]] }],
    ['protocol upper case', { given: { target: 80, protocol: 'TCP' }, want: [['port-protocol', 'protocol', 0, 3]] }],
    ['protocol number', { given: { target: 80, protocol: 6 }, want: [['port-long-type', 'protocol', 0, 0]] }],
    ['name with space', { given: { target: 80, name: 'my web' }, want: [['port-name', 'name', 0, 6]] }],
    ['name too long', { given: { target: 80, name: 'x'.repeat(33) }, want: [['port-name', 'name', 0, 33]] }],
    ['name starting with dash', { given: { target: 80, name: '-web' }, want: [['port-name', 'name', 0, 4]] }],
    ['name with quote', { given: { target: 80, name: 'a"b' }, want: [['port-name', 'name', 0, 3]] }],
    ['bad interface', { given: { target: 80, interface: 'em 0' }, want: [['port-interface-name', 'interface', 0, 4]] }],
    [
      'interface and interfaces',
      {
        given: { target: 80, interface: 'em0', interfaces: ['em1'] },
        want: [['port-long-conflict', 'interfaces', 0, 0]],
      },
    ],
    [
      'interface and host_ip',
      { given: { target: 80, interface: 'em0', host_ip: '10.0.0.1' }, want: [['port-long-conflict', 'host_ip', 0, 0]] },
    ],
    [
      'interfaces and host_ip',
      {
        given: { target: 80, interfaces: ['em0'], host_ip: '10.0.0.1' },
        want: [['port-long-conflict', 'host_ip', 0, 0]],
      },
    ],
    ['interfaces empty', { given: { target: 80, interfaces: [] }, want: [['port-long-empty', 'interfaces', 0, 0]] }],
    [
      'interfaces not a list',
      { given: { target: 80, interfaces: 'em0' }, want: [['port-long-type', 'interfaces', 0, 0]] },
    ],
    [
      'interfaces duplicate',
      {
        given: { target: 80, interfaces: ['em0', 'em1', 'em0'] },
        want: [['port-long-duplicate', 'interfaces', 0, 3, 2]],
      },
    ],
    [
      'interfaces bad item',
      { given: { target: 80, interfaces: ['em0', 'em-1'] }, want: [['port-interface-name', 'interfaces', 0, 4, 1]] },
    ],
    [
      'interfaces non-string item',
      { given: { target: 80, interfaces: [0] }, want: [['port-long-type', 'interfaces', 0, 0, 0]] },
    ],
    ['from empty', { given: { target: 80, from: [] }, want: [['port-long-empty', 'from', 0, 0]] }],
    ['from not a list', { given: { target: 80, from: '10.0.0.0/8' }, want: [['port-long-type', 'from', 0, 0]] }],
    [
      'from host bits',
      {
        given: { target: 80, from: ['10.0.0.0/8', '192.0.2.1/24'] },
        want: [['port-from-host-bits', 'from', 0, 12, 1]],
      },
    ],
    [
      'from invalid',
      { given: { target: 80, from: ['10.0.0.0/33'] }, want: [['port-address-invalid', 'from', 0, 11, 0]] },
    ],
    [
      'from duplicate after canonicalisation',
      {
        given: { target: 80, from: ['2001:db8::/32', '2001:DB8:0::/32'] },
        want: [['port-long-duplicate', 'from', 0, 15, 1]],
      },
    ],
    [
      'from family mismatch',
      {
        given: { target: 80, family: 'inet', from: ['10.0.0.0/8', '::1'] },
        want: [['port-family-mismatch', 'from', 0, 0, 1]],
      },
    ],
    [
      'from mismatches host_ip',
      {
        given: { target: 80, host_ip: '::1', from: ['10.0.0.0/8'] },
        want: [['port-family-mismatch', 'from', 0, 0, 0]],
      },
    ],
    [
      'family mismatches host_ip',
      {
        given: { target: 80, host_ip: '127.0.0.1', family: 'inet6' },
        want: [['port-family-mismatch', 'host_ip', 0, 0]],
      },
    ],
    ['family unknown', { given: { target: 80, family: 'ipv4' }, want: [['port-family', 'family', 0, 4]] }],
    ['mode ingress', { given: { target: 80, mode: 'ingress' }, want: [['port-mode', 'mode', 0, 7]] }],
    ['mode unknown', { given: { target: 80, mode: 'bridge' }, want: [['port-mode', 'mode', 0, 6]] }],
    [
      'app_protocol not a string',
      { given: { target: 80, app_protocol: 1 }, want: [['port-long-type', 'app_protocol', 0, 0]] },
    ],
    ['kleene and docker', { given: { kleene: '80', docker: '80' }, want: [['port-long-conflict', 'docker', 0, 0]] }],
    ['kleene with a long-form key', { given: { kleene: '80', target: 80 }, want: [['port-long-key', 'target', 0, 0]] }],
    [
      'kleene error inside the string',
      { given: { kleene: 'em0:8080:080' }, want: [['port-leading-zero', 'kleene', 9, 12]] },
    ],
    [
      'docker error inside the string',
      { given: { docker: 'em0:8080:80' }, want: [['port-interface-in-docker', 'docker', 0, 3]] },
    ],
    ['kleene not a string', { given: { kleene: ['80'] }, want: [['port-long-type', 'kleene', 0, 0]] }],
    [
      'docker family mismatch',
      { given: { docker: '127.0.0.1:80:80', family: 'inet6' }, want: [['port-family-mismatch', 'family', 0, 0]] },
    ],
    [
      'kleene from mismatch',
      {
        given: { kleene: '80', family: 'inet6', from: ['10.0.0.0/8'] },
        want: [['port-family-mismatch', 'from', 0, 0, 0]],
      },
    ],
    ['kleene bad name', { given: { kleene: '80', name: '' }, want: [['port-name', 'name', 0, 0]] }],
  ];
  it.each(invalid)('%s', (_name, { given, want }) => {
    const result = parsePortObject(given);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(
        result.errors.map((e) => [e.code, e.key, e.start, e.end, ...(e.index === undefined ? [] : [e.index])]),
      ).toEqual(want);
    }
  });

  it('suggests the right key', () => {
    const result = parsePortObject({ target: 80, 'host-ip': '10.0.0.1' });
    expect(result.ok ? '' : result.errors[0]?.message).toMatch(/did you mean host_ip\?/);
    const docker = parsePortObject({ container_port: 80 });
    expect(docker.ok ? '' : docker.errors[0]?.message).toMatch(/did you mean target\?/);
  });

  it('says what is wrong and what is right for host bits', () => {
    const result = parsePortObject({ target: 80, from: ['192.0.2.1/24'] });
    expect(result.ok ? '' : result.errors[0]?.message).toBe(
      'source network "192.0.2.1/24" has bits set beyond its /24 prefix: write 192.0.2.0/24 for the network, or 192.0.2.1 for the single host',
    );
  });

  it('explains ingress', () => {
    const result = parsePortObject({ target: 80, mode: 'ingress' });
    expect(result.ok ? '' : result.errors[0]?.message).toMatch(/Swarm/);
  });

  it('never reads accessors and survives throwing proxies', () => {
    const withGetter = Object.defineProperty({}, 'target', {
      enumerable: true,
      get(): never {
        throw new Error('read');
      },
    });
    expect(parsePortObject(withGetter)).toMatchObject({
      ok: false,
      errors: [{ code: 'port-long-type', key: 'target' }],
    });
    const hostile = new Proxy(
      {},
      {
        ownKeys(): never {
          throw new Error('trap');
        },
      },
    );
    expect(parsePortObject(hostile)).toMatchObject({ ok: false, errors: [{ code: 'port-long-type' }] });
  });
});

describe('parsePortSpec', () => {
  it.each([
    ['kleene number', 8080, 'kleene', { ok: true }],
    ['docker number', 8080, 'docker', { ok: true }],
    ['kleene string', 'em0:80:80', 'kleene', { ok: true }],
    ['docker string', '127.0.0.1::80', 'docker', { ok: true }],
  ] as const)('%s', (_name, value, syntax, want) => {
    expect(parsePortSpec(value, syntax)).toMatchObject(want);
  });

  it('converts numbers with String()', () => {
    expect(parsePortSpec(0, 'kleene')).toMatchObject({ ok: false, errors: [{ code: 'port-zero', start: 0, end: 1 }] });
    expect(parsePortSpec(1e21, 'docker')).toMatchObject({ ok: false, errors: [{ code: 'port-not-a-number' }] });
  });

  it('reports a wrong type instead of throwing', () => {
    expect(parsePortSpec(null as unknown as string, 'kleene')).toMatchObject({
      ok: false,
      errors: [{ code: 'port-long-type' }],
    });
  });
});
