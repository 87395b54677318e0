// pf never rewrites SCTP ports: the model gives an SCTP entry whose host port it would choose the
// container port itself, refuses it when that port is taken, and refuses a port-changing entry even
// when the manifest check was skipped.
import { describe, expect, it } from 'vitest';
import type { ManifestSet } from '../../src/manifest/manifest.js';
import { emptyLockfile } from '../../src/model/lockfile.js';
import type { ResolveOptions } from '../../src/model/resolve-exposures.js';
import { resolveExposures } from '../../src/model/resolve-exposures.js';
import { container, docker, dockerPick, r, single, spec } from './build-manifest.js';

function resolve(set: ManifestSet, options: Partial<ResolveOptions> = {}) {
  return resolveExposures(set, { lock: emptyLockfile(), frozen: false, gateway: 'em0', ...options });
}

function view(result: ReturnType<typeof resolve>): string[] {
  return result.exposures.map(
    (e) =>
      `${e.container} ${e.protocol} ${e.hostAddress ?? e.interface ?? '*'}:${e.hostPort.start}-${e.hostPort.end} -> ${e.containerPort.start}-${e.containerPort.end}${e.dynamic ? ' dyn' : ''}`,
  );
}

function codes(result: ReturnType<typeof resolve>): string[] {
  return result.diagnostics.map((d) => `${d.severity} ${d.code} ${d.file}:${d.line}:${d.column}`);
}

const sctp = { protocol: 'sctp' as const };

describe('resolveExposures: sctp keeps its port', () => {
  it.each([
    [
      'an ephemeral sctp entry takes its container port, not a pool port',
      docker(null, 80, sctp),
      ['s sctp *:80-80 -> 80-80'],
    ],
    [
      'a pick-one range that holds the container port picks it',
      dockerPick(r(75, 85), 80, sctp),
      ['s sctp *:80-80 -> 80-80'],
    ],
    [
      'a same-port range compiles one-to-one',
      docker(r(7000, 7001), r(7000, 7001), sctp),
      ['s sctp *:7000-7001 -> 7000-7001'],
    ],
    [
      'an ephemeral sctp entry on a host address',
      docker(null, 90, { ...sctp, hostAddress: '192.0.2.1' }),
      ['s sctp 192.0.2.1:90-90 -> 90-90'],
    ],
  ])('%s', (_name, entry, want) => {
    const result = resolve(single([container({ name: 's', syntax: 'docker', ports: [entry] })]));
    expect(codes(result)).toEqual([]);
    expect(view(result)).toEqual(want);
    // Nothing is chosen, so nothing is recorded: the port can never move.
    expect(result.lock.entries).toEqual([]);
  });

  it('publishAll publishes an sctp expose port on itself and tcp from the pool', () => {
    const set = single([
      container({
        name: 's',
        syntax: 'docker',
        publishAll: true,
        expose: [{ port: 92, protocol: 'sctp' }, { port: 93 }],
      }),
    ]);
    const result = resolve(set);
    expect(codes(result)).toEqual([]);
    expect(view(result)).toEqual(['s sctp *:92-92 -> 92-92', 's tcp *:49000-49000 -> 93-93 dyn']);
    expect(result.lock.entries.map((e) => e.protocol)).toEqual(['tcp']);
  });

  it.each([
    ['fixed host port', docker(8203, 80, sctp)],
    ['one-to-one range', docker(r(9000, 9001), r(7000, 7001), sctp)],
    ['pick-one range without the container port', dockerPick(r(8000, 8010), 80, sctp)],
    ['long form', spec({ syntax: 'long', hostPort: r(8204), containerPort: r(80), ...sctp })],
  ])('a port-changing entry (%s) is refused at the entry even without the manifest check', (_name, entry) => {
    const result = resolve(single([container({ name: 's', syntax: 'docker', ports: [entry] })]));
    expect(codes(result)).toEqual(['error port-sctp-translation a.yaml:5:9']);
    expect(result.exposures).toEqual([]);
  });

  it('the container port taken by a fixed entry: an error at the dynamic entry, naming the holder', () => {
    const set = single([
      container({ name: 'a', syntax: 'docker', ports: [docker(91, 91, sctp)] }),
      container({
        name: 'b',
        line: 20,
        syntax: 'docker',
        ports: [docker(null, 91, sctp), docker(null, 91, { ...sctp, hostAddress: '192.0.2.1' })],
      }),
    ]);
    const result = resolve(set);
    expect(codes(result)).toEqual([
      'error port-sctp-translation a.yaml:22:9',
      'error port-sctp-translation a.yaml:23:9',
    ]);
    expect(result.diagnostics[0]?.message).toContain('already published by a at a.yaml:5:9');
    expect(view(result)).toEqual(['a sctp *:91-91 -> 91-91']);
  });

  it('two dynamic entries of one port: the first container by name takes it, whatever the order', () => {
    const a = container({ name: 'a', syntax: 'docker', ports: [docker(null, 90, sctp)] });
    const b = container({ name: 'b', line: 20, syntax: 'docker', ports: [docker(null, 90, sctp)] });
    for (const set of [single([a, b]), single([b, a])]) {
      const result = resolve(set);
      expect(codes(result)).toEqual(['error port-sctp-translation a.yaml:22:9']);
      expect(view(result)).toEqual(['a sctp *:90-90 -> 90-90']);
    }
  });

  it('listen sides that do not overlap and other protocols do not compete', () => {
    const set = single([
      container({
        name: 'a',
        syntax: 'docker',
        ports: [docker(null, 90, { ...sctp, hostAddress: '192.0.2.1' }), docker(90, 90)],
      }),
      container({
        name: 'b',
        line: 20,
        syntax: 'docker',
        ports: [spec({ syntax: 'long', hostPort: null, containerPort: r(90), interfaces: ['em1'], ...sctp })],
      }),
    ]);
    const result = resolve(set);
    expect(codes(result)).toEqual([]);
    expect(view(result)).toEqual([
      'a tcp *:90-90 -> 90-90',
      'a sctp 192.0.2.1:90-90 -> 90-90',
      'b sctp em1:90-90 -> 90-90',
    ]);
  });

  it('a lock entry an sctp entry once had from the pool is dropped (and --frozen says so)', () => {
    const set = single([container({ name: 's', syntax: 'docker', ports: [docker(null, 80, sctp)] })]);
    const lock = {
      version: 1 as const,
      entries: [
        {
          host: null,
          container: 's',
          protocol: 'sctp' as const,
          interface: null,
          hostAddress: null,
          kind: 'ephemeral' as const,
          containerPort: r(80),
          hostPort: r(49000),
        },
      ],
    };
    const updated = resolve(set, { lock });
    expect(codes(updated)).toEqual([]);
    expect(updated.lock.entries).toEqual([]);
    expect(updated.lockChanged).toBe(true);
    expect(codes(resolve(set, { lock, frozen: true }))).toEqual(['error lock-frozen pfexpose.lock.json:1:1']);
  });
});
