import { describe, expect, it } from 'vitest';
import { checkManifests } from '../../src/manifest/check-manifest.js';
import type { ManifestContainer, ManifestSet } from '../../src/manifest/manifest.js';
import type { PortSpec } from '../../src/ports/port-spec.js';
import { portSpec } from '../helpers/builders.js';

const at = (file: string, line: number) => ({ file, line, column: 3, endLine: line, endColumn: 6 });
const port: PortSpec = portSpec();

function container(
  name: string,
  host: string | null,
  file: string,
  line: number,
  extra: Partial<ManifestContainer> = {},
): ManifestContainer {
  return {
    name,
    host,
    ip: '10.0.0.1',
    ip6: null,
    syntax: 'kleene',
    ports: [],
    expose: [],
    publishAll: false,
    stack: null,
    source: at(file, line),
    ...extra,
  };
}

function set(...containers: ManifestContainer[]): ManifestSet {
  return { files: [], documents: [{ file: 'a.yaml', index: 0, host: null, hosts: [], containers }] };
}

describe('checkManifests (without finer positions)', () => {
  it.each([
    [
      'same name, same host: both places',
      set(container('web', 'h', 'a.yaml', 3), container('web', 'h', 'b.yaml', 9)),
      [
        ['duplicate-container', 'a.yaml', 3],
        ['duplicate-container', 'b.yaml', 9],
      ],
    ],
    ['same name, other hosts: fine', set(container('web', 'h', 'a.yaml', 3), container('web', 'g', 'b.yaml', 9)), []],
    [
      'ports but no address',
      set(container('web', null, 'a.yaml', 3, { ip: null, ports: [{ spec: port, source: at('a.yaml', 5) }] })),
      [['missing-address', 'a.yaml', 3]],
    ],
    [
      'publishAll but no address',
      set(
        container('web', null, 'a.yaml', 3, {
          ip: null,
          publishAll: true,
          expose: [{ port: { start: 80, end: 80 }, protocol: 'tcp', source: at('a.yaml', 4) }],
        }),
      ),
      [['missing-address', 'a.yaml', 3]],
    ],
    [
      'family inet6 without ip6',
      set(
        container('web', null, 'a.yaml', 3, {
          ports: [{ spec: { ...port, family: 'inet6' }, source: at('a.yaml', 5) }],
        }),
      ),
      [['missing-address', 'a.yaml', 5]],
    ],
    [
      'IPv6 host address on an IPv4 container',
      set(
        container('web', null, 'a.yaml', 3, {
          ports: [{ spec: { ...port, hostAddress: '::1' }, source: at('a.yaml', 5) }],
        }),
      ),
      [['family-mismatch', 'a.yaml', 5]],
    ],
    [
      'IPv6 source network on an IPv4 container',
      set(
        container('web', null, 'a.yaml', 3, {
          ports: [{ spec: { ...port, from: ['10.0.0.0/8', '2001:db8::/32'] }, source: at('a.yaml', 5) }],
        }),
      ),
      [['family-mismatch', 'a.yaml', 5]],
    ],
  ] as const)('%s', (_name, given, want) => {
    expect(checkManifests(given).map((d) => [d.code, d.file, d.line])).toEqual(want);
  });
});
