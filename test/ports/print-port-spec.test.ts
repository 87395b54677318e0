import { describe, expect, it } from 'vitest';
import { parseDockerPort } from '../../src/ports/parse-docker-port.js';
import { parseKleenePort } from '../../src/ports/parse-kleene-port.js';
import { parsePortObject } from '../../src/ports/parse-long-port.js';
import type { PortSpec, PortSpecResult } from '../../src/ports/port-spec.js';
import { printPortSpec } from '../../src/ports/print-port-spec.js';

function spec(result: PortSpecResult): PortSpec {
  if (!result.ok) throw new Error(`test input does not parse: ${JSON.stringify(result.errors)}`);
  return result.spec;
}

describe('printPortSpec', () => {
  const cases: [string, { given: PortSpec; want: unknown }][] = [
    ['kleene single', { given: spec(parseKleenePort('8080')), want: '8080' }],
    ['kleene pair', { given: spec(parseKleenePort('8080:80/tcp')), want: '8080:80' }],
    ['kleene interface udp', { given: spec(parseKleenePort('em0:8080:80/udp')), want: 'em0:8080:80/udp' }],
    ['kleene equal pair collapses', { given: spec(parseKleenePort('8080:8080')), want: '8080' }],
    ['kleene range', { given: spec(parseKleenePort('9000-9010:9000-9010')), want: '9000-9010' }],
    ['docker ephemeral', { given: spec(parseDockerPort('8080')), want: '8080' }],
    ['docker address', { given: spec(parseDockerPort('127.0.0.1:53:5353/udp')), want: '127.0.0.1:53:5353/udp' }],
    ['docker address ephemeral', { given: spec(parseDockerPort('127.0.0.1::8080')), want: '127.0.0.1::8080' }],
    ['docker bare IPv6 printed bracketed', { given: spec(parseDockerPort('::1:80:80')), want: '[::1]:80:80' }],
    ['docker protocol lower-cased', { given: spec(parseDockerPort('80/SCTP')), want: '80/sctp' }],
    ['docker pool', { given: spec(parseDockerPort('8000-8010:80')), want: '8000-8010:80' }],
    ['docker empty fields dropped', { given: spec(parseDockerPort('::80')), want: '80' }],
    [
      'kleene with from',
      {
        given: spec(parsePortObject({ kleene: '8080:80', from: ['10.0.0.0/8'], name: 'web' })),
        want: { kleene: '8080:80', from: ['10.0.0.0/8'], name: 'web' },
      },
    ],
    [
      'long form',
      {
        given: spec(
          parsePortObject({
            target: '80-90',
            published: '8080-8090',
            interfaces: ['em1', 'em0'],
            protocol: 'udp',
            family: 'inet',
          }),
        ),
        want: { target: '80-90', published: '8080-8090', protocol: 'udp', interfaces: ['em0', 'em1'], family: 'inet' },
      },
    ],
    [
      'long form single interface',
      { given: spec(parsePortObject({ target: 80, interfaces: ['em0'] })), want: { target: 80, interface: 'em0' } },
    ],
    [
      'long form host_ip',
      {
        given: spec(parsePortObject({ target: 80, host_ip: '::1', published: 8080 })),
        want: { target: 80, published: 8080, host_ip: '::1' },
      },
    ],
    [
      'kleene spec that no longer fits its short form',
      {
        given: { ...spec(parseKleenePort('80')), interfaces: ['em0', 'em1'] },
        want: { target: 80, published: 80, interfaces: ['em0', 'em1'] },
      },
    ],
    [
      'docker spec with an interface',
      {
        given: { ...spec(parseDockerPort('80:80')), interfaces: ['em0'] },
        want: { target: 80, published: 80, interface: 'em0' },
      },
    ],
  ];
  it.each(cases)('%s', (_name, { given, want }) => {
    expect(printPortSpec(given)).toEqual(want);
  });
});
