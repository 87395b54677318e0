// What cannot be carried over is a located diagnostic in the source file, and nothing is written:
// one row per problem, asserted by code and position (line:column), never by the message's words.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AddressOptions } from '../../src/import/import-containers.js';
import { importContainers, parseIpOptions } from '../../src/import/import-containers.js';
import type { ImportFormat } from '../../src/import/imported-container.js';
import { IMPORT_FORMATS } from '../../src/import/imported-container.js';

interface Given {
  format: ImportFormat;
  text: string;
  /** Directories holding the file, nearest first; default jails/web for Bastille, web/conf for pot. */
  directories?: string[];
  ip?: Record<string, string>;
  interfaces?: string[];
}

function importOne(given: Given) {
  const directories = given.directories ?? (given.format === 'pot' ? ['conf', 'web'] : ['web', 'jails']);
  const addresses: AddressOptions = new Map(
    Object.entries(given.ip ?? { web: '10.0.0.2' }).map(([n, ip]) => [n, { ip }]),
  );
  return importContainers(given.format, [{ file: 'src.txt', text: given.text, directories }], {
    addresses,
    interfaces: given.interfaces ?? null,
    schemaRef: null,
  });
}

const compose = (ports: string) => `services:\n  web:\n    image: nginx\n    ports:\n${ports}`;

const cases: [string, { given: Given; want: string[] }][] = [
  [
    'compose: mode ingress',
    {
      given: { format: 'compose', text: compose('      - target: 80\n        mode: ingress\n') },
      want: ['error import-unsupported 6:15'],
    },
  ],
  [
    'compose: a key the long syntax does not have',
    {
      given: { format: 'compose', text: compose('      - target: 80\n        interface: em0\n') },
      want: ['error import-syntax 6:9'],
    },
  ],
  [
    'compose: app_protocol is left out with a warning',
    {
      given: {
        format: 'compose',
        text: compose('      - target: 80\n        published: 8080\n        app_protocol: http\n'),
      },
      want: ['warning import-dropped 7:9'],
    },
  ],
  [
    'compose: a port out of range, at its column',
    { given: { format: 'compose', text: compose('      - "8080:70000"\n') }, want: ['error port-out-of-range 5:15'] },
  ],
  [
    'compose: a long-form published port out of range',
    {
      given: { format: 'compose', text: compose('      - target: 80\n        published: 99999\n') },
      want: ['error port-out-of-range 6:20'],
    },
  ],
  [
    'compose: network_mode host with ports',
    {
      given: { format: 'compose', text: `${compose('      - "80:80"\n')}    network_mode: host\n` },
      want: ['error import-unsupported 6:19'],
    },
  ],
  [
    'compose: no services',
    { given: { format: 'compose', text: 'volumes:\n  data:\n' }, want: ['error import-syntax 1:1'] },
  ],
  ['compose: not YAML', { given: { format: 'compose', text: 'services: [\n' }, want: ['error yaml-syntax 2:1'] }],
  [
    'compose: a service name no manifest can take',
    {
      given: { format: 'compose', text: 'services:\n  _web:\n    ports: ["80:80"]\n' },
      want: ['error invalid-name 2:3'],
    },
  ],
  [
    'compose: a link that is not SERVICE:ALIAS',
    {
      given: { format: 'compose', text: `${compose('      - "80:80"\n')}    links: ["db:a:b"]\n` },
      want: ['error import-syntax 6:13'],
    },
  ],
  [
    'compose: ports merged in with <<',
    {
      given: {
        format: 'compose',
        text: 'x-web: &web\n  ports: ["80:70000"]\nservices:\n  web:\n    <<: *web\n',
      },
      want: ['error port-out-of-range 2:15'],
    },
  ],
  [
    'compose: a service without an address',
    {
      given: { format: 'compose', text: compose('      - "80:80"\n'), ip: {} },
      want: ['error import-address-missing 2:3'],
    },
  ],
  [
    'docker-run: an option docker run does not have',
    {
      given: { format: 'docker-run', text: 'docker run --name web --frobnicate 1 nginx\n' },
      want: ['error import-syntax 1:23'],
    },
  ],
  [
    'docker-run: no --name',
    { given: { format: 'docker-run', text: 'docker run -p 80:80 nginx\n' }, want: ['error import-syntax 1:8'] },
  ],
  [
    'docker-run: a bad port inside a continued line',
    {
      given: { format: 'docker-run', text: 'docker run --name web \\\n  -p 8080:0 nginx\n' },
      want: ['error port-zero 2:11'],
    },
  ],
  [
    'docker-run: a bad port in -pVALUE',
    { given: { format: 'docker-run', text: 'docker run --name=web -p8080:0 nginx\n' }, want: ['error port-zero 1:30'] },
  ],
  [
    'docker-run: a shell expansion',
    {
      given: { format: 'docker-run', text: 'docker run --name web -p "$PORT:80" nginx\n' },
      want: ['error import-unsupported 1:27'],
    },
  ],
  [
    'docker-run: a quote never closed',
    {
      given: { format: 'docker-run', text: "docker run --name 'web -p 80:80 nginx\n" },
      want: ['error import-syntax 1:19'],
    },
  ],
  [
    'docker-run: host networking',
    {
      given: { format: 'docker-run', text: 'docker run --name web --network host -p 80:80 nginx\n' },
      want: ['error import-unsupported 1:33'],
    },
  ],
  [
    'docker-run: mode=ingress in the long publish form',
    {
      given: { format: 'docker-run', text: 'docker run --name web -p target=80,published=8080,mode=ingress nginx\n' },
      want: ['error import-unsupported 1:56'],
    },
  ],
  [
    'docker-run: no docker run at all',
    { given: { format: 'docker-run', text: 'set -e\n' }, want: ['error import-syntax 1:1'] },
  ],
  [
    'bastille: a pf table as the source',
    {
      given: { format: 'bastille', text: 'ipv4 em0 <friends> any tcp 22 22\n' },
      want: ['error import-unsupported 1:10'],
    },
  ],
  [
    'bastille: a port range',
    { given: { format: 'bastille', text: 'tcp 8000:8010 80\n' }, want: ['error import-unsupported 1:5'] },
  ],
  [
    'bastille: an unknown first field',
    { given: { format: 'bastille', text: 'sctp 80 80\n' }, want: ['error import-syntax 1:1'] },
  ],
  [
    'bastille: too few fields',
    { given: { format: 'bastille', text: 'dual em0 any tcp 80 80\n' }, want: ['error import-syntax 1:1'] },
  ],
  [
    'bastille: an interface pf cannot take',
    { given: { format: 'bastille', text: 'dual em-0 any any tcp 80 80\n' }, want: ['error port-interface-name 1:6'] },
  ],
  [
    'bastille: an interface outside --interfaces',
    {
      given: { format: 'bastille', text: 'dual em1 any any tcp 80 80\n', interfaces: ['em0'] },
      want: ['error import-interface-unknown 1:1'],
    },
  ],
  [
    'bastille: a jail directory no manifest can name',
    { given: { format: 'bastille', text: 'tcp 80 80\n', directories: ['-web'] }, want: ['error import-syntax 1:1'] },
  ],
  [
    'pot: ports of a pot that is not bridged',
    {
      given: { format: 'pot', text: 'network_type=alias\npot.export.ports=80\n', ip: {} },
      want: ['error import-unsupported 1:14'],
    },
  ],
  [
    'pot: a bad exported port',
    {
      given: { format: 'pot', text: 'ip=10.192.0.3\npot.export.ports=80 tcp:0:30000\n', ip: {} },
      want: ['error port-zero 2:25'],
    },
  ],
  [
    'pot: no ip and no --ip',
    { given: { format: 'pot', text: 'pot.export.ports=80\n', ip: {} }, want: ['error import-address-missing 1:1'] },
  ],
  [
    'kleene: not JSON',
    { given: { format: 'kleene', text: '{"container": }\n', ip: {} }, want: ['error import-syntax 1:15'] },
  ],
  [
    'kleene: ports of a host-driver container',
    {
      given: {
        format: 'kleene',
        text: '{"container": {"name": "web", "network_driver": "host", "public_ports": [{"interfaces": [], "host_port": "80", "container_port": "80", "protocol": "tcp"}]}}\n',
      },
      want: ['error import-unsupported 1:49'],
    },
  ],
  [
    'kleene: klee run without a network uses the host driver',
    { given: { format: 'kleene', text: 'klee run --name web -p 80 nginx\n' }, want: ['error import-unsupported 1:6'] },
  ],
  [
    'kleene: a Kleene port with an address',
    {
      given: { format: 'kleene', text: 'klee run --name web -n net -p 127.0.0.1:80:80 nginx\n' },
      want: ['error port-address-in-kleene 1:31'],
    },
  ],
];

describe('import diagnostics', () => {
  it.each(cases)('%s', (_name, { given, want }) => {
    const outcome = importOne(given);
    expect(outcome.diagnostics.map((d) => `${d.severity} ${d.code} ${d.line}:${d.column}`)).toEqual(want);
    expect(outcome.ok).toBe(!want.some((w) => w.startsWith('error')));
    if (!outcome.ok) expect(outcome.manifests).toEqual([]);
  });

  it('reports a container defined twice at the second place, and writes nothing', () => {
    const sources = ['a', 'b'].map((dir) => ({
      file: `${dir}/rdr.conf`,
      text: 'tcp 80 80\n',
      directories: ['web', dir],
    }));
    const outcome = importContainers('bastille', sources, {
      addresses: new Map([['web', { ip: '10.0.0.2' }]]),
      interfaces: null,
      schemaRef: null,
    });
    expect(outcome.diagnostics.map((d) => `${d.file} ${d.code}`)).toEqual(['b/rdr.conf import-duplicate-container']);
    expect(outcome.manifests).toEqual([]);
  });

  it('names --ip entries that match no container', () => {
    const outcome = importOne({ format: 'bastille', text: 'tcp 80 80\n', ip: { web: '10.0.0.2', wbe: '10.0.0.3' } });
    expect(outcome.unknownNames).toEqual(['wbe']);
  });

  it('lets --ip win over the address the file gives', () => {
    const outcome = importOne({
      format: 'pot',
      text: 'ip=10.192.0.3\npot.export.ports=80:8080\n',
      ip: { web: '10.9.9.9' },
    });
    expect(outcome.manifests[0]?.text).toContain('    ip: 10.9.9.9\n');
  });

  it('never throws, whatever the file holds', () => {
    fc.assert(
      fc.property(fc.constantFrom(...IMPORT_FORMATS), fc.string({ maxLength: 200 }), (format, text) => {
        const outcome = importOne({ format, text });
        expect(Array.isArray(outcome.diagnostics)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('--ip NAME=ADDR', () => {
  it.each([
    [['web=10.0.0.2'], { web: { ip: '10.0.0.2' } }],
    [['web=10.0.0.2', 'web=FD00::2'], { web: { ip: '10.0.0.2', ip6: 'fd00::2' } }],
  ])('%j', (values, want) => {
    const parsed = parseIpOptions(values);
    expect(parsed.ok && Object.fromEntries(parsed.addresses)).toEqual(want);
  });

  it.each([['web'], ['web=10.0.0.300'], ['=10.0.0.2'], ['web=0.0.0.0'], ['web=10.0.0.2,web=10.0.0.3']])(
    'refuses %s',
    (value) => {
      expect(parseIpOptions(value.split(',')).ok).toBe(false);
    },
  );
});
