import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadManifests } from '../../src/manifest/load-manifests.js';
import type { ManifestContainer } from '../../src/manifest/manifest.js';
import type { PortSpec } from '../../src/ports/port-spec.js';
import { portSpec } from '../helpers/builders.js';

const files = readdirSync('examples')
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

function spec(partial: Partial<PortSpec> & Pick<PortSpec, 'syntax' | 'containerPort'>): PortSpec {
  return portSpec({ hostPort: null, ...partial });
}
const range = (start: number, end = start) => ({ start, end });

describe('examples/', () => {
  it('holds several examples', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it.each(files)('%s starts with the schema modeline', (file) => {
    const first = readFileSync(`examples/${file}`, 'utf8').split('\n')[0];
    expect(first).toBe('# yaml-language-server: $schema=../schema/pfexpose.schema.json');
  });

  it('validates with no error; the only warning is the [::1] entry of the issue document', async () => {
    const { diagnostics, manifests } = await loadManifests(['examples']);
    expect(diagnostics.map((d) => [d.severity, d.code, d.file, d.line, d.column])).toEqual([
      ['warning', 'family-mismatch', 'examples/web.yaml', 22, 11],
    ]);
    expect(manifests.files).toEqual(files.map((f) => `examples/${f}`));
  });

  it('means what the comments of the issue document say', async () => {
    const { manifests } = await loadManifests(['examples/web.yaml']);
    const containers = new Map<string, ManifestContainer>(
      manifests.documents.flatMap((d) => d.containers).map((c) => [c.name, c]),
    );
    const web = containers.get('web');
    expect(web).toMatchObject({ ip: '10.13.37.10', ip6: 'fd00:13:37::10', syntax: 'kleene', host: null });
    expect(web?.ports.map((p) => p.spec)).toEqual([
      spec({ syntax: 'kleene', hostPort: range(8080), containerPort: range(8080) }),
      spec({ syntax: 'kleene', protocol: 'udp', hostPort: range(8080), containerPort: range(80) }),
      spec({ syntax: 'kleene', interfaces: ['em1'], hostPort: range(8443), containerPort: range(443) }),
      spec({ syntax: 'kleene', hostPort: range(9000, 9010), containerPort: range(9000, 9010) }),
      spec({
        syntax: 'long',
        protocol: 'udp',
        hostPort: range(5000),
        containerPort: range(5000),
        interfaces: ['em0', 'em1'],
        from: ['2001:db8::/32', '203.0.113.0/24'],
      }),
    ]);
    const legacy = containers.get('legacy');
    expect(legacy).toMatchObject({ ip: '10.13.37.11', ip6: null, syntax: 'docker' });
    expect(legacy?.ports.map((p) => p.spec)).toEqual([
      spec({ syntax: 'docker', hostAddress: '127.0.0.1', hostPort: range(8081), containerPort: range(80) }),
      spec({ syntax: 'docker', protocol: 'udp', hostAddress: '::1', hostPort: null, containerPort: range(53) }),
      spec({ syntax: 'docker', hostPort: range(8000, 8010), hostPortIsPool: true, containerPort: range(80) }),
    ]);
    expect(legacy?.ports.map((p) => p.source.line)).toEqual([21, 22, 23]);
  });

  it('declares one host with its gateway and interfaces', async () => {
    const { manifests } = await loadManifests(['examples']);
    const hosts = manifests.documents.flatMap((d) => d.hosts);
    expect(hosts).toMatchObject([
      { name: 'www1', gateway: 'em0', interfaces: ['em0', 'em1'], pool: range(49000, 49900) },
    ]);
  });

  it('declares the network stacks: VNET jails on the host, shared-stack containers where loopback entries need it', async () => {
    const { manifests } = await loadManifests(['examples']);
    expect(manifests.documents.flatMap((d) => d.hosts).map((h) => [h.name, h.stack?.value ?? null])).toEqual([
      ['www1', 'vnet'],
    ]);
    const stacks = manifests.documents.flatMap((d) => d.containers).map((c) => [c.name, c.stack?.value ?? null]);
    expect(stacks.sort()).toEqual([
      ['api', null],
      ['dns', null],
      ['legacy', 'shared'],
      ['metrics', 'shared'],
      ['web', null],
    ]);
  });

  it('reads the Docker-style example as Docker would', async () => {
    const { manifests } = await loadManifests(['examples/docker-style.yaml']);
    const containers = new Map(manifests.documents.flatMap((d) => d.containers).map((c) => [c.name, c]));
    expect(containers.get('api')).toMatchObject({
      publishAll: true,
      expose: [
        { port: range(8080), protocol: 'tcp' },
        { port: range(9090), protocol: 'tcp' },
      ],
      ports: [],
    });
    expect(containers.get('dns')?.ports.map((p) => [p.spec.protocol, p.spec.hostAddress, p.spec.hostPort])).toEqual([
      ['udp', null, range(53)],
      ['tcp', null, range(53)],
    ]);
    expect(containers.get('metrics')?.ports.map((p) => p.spec)).toEqual([
      spec({
        syntax: 'long',
        hostAddress: '127.0.0.1',
        hostPort: range(9100),
        containerPort: range(9100),
        name: 'node-exporter',
      }),
      spec({
        syntax: 'kleene',
        interfaces: ['em1'],
        hostPort: range(2222),
        containerPort: range(22),
        from: ['198.51.100.0/24'],
        family: 'inet',
      }),
    ]);
  });
});
