import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ManifestSet } from '../../src/manifest/manifest.js';
import type { PortSpec } from '../../src/ports/port-spec.js';
import type { LockEntry, Lockfile } from '../../src/model/lockfile.js';
import { emptyLockfile, serializeLockfile } from '../../src/model/lockfile.js';
import type { ResolveOptions } from '../../src/model/resolve-exposures.js';
import { resolveExposures } from '../../src/model/resolve-exposures.js';
import { container, docker, dockerPick, documentOf, hostDeclaration, kleene, manifestSet, r, single } from './build-manifest.js';

function resolve(set: ManifestSet, options: Partial<ResolveOptions> = {}) {
  return resolveExposures(set, { lock: emptyLockfile(), frozen: false, ...options });
}

const ports = (result: ReturnType<typeof resolve>): string[] =>
  result.exposures.map((e) => `${e.container} ${e.family} ${e.hostAddress ?? e.interface ?? '*'} ${e.hostPort.start}-${e.hostPort.end}`);

const codes = (result: ReturnType<typeof resolve>): string[] =>
  result.diagnostics.map((d) => `${d.code} ${d.severity} ${d.file}:${d.line}:${d.column}`);

const lockEntry = (over: Partial<LockEntry>): LockEntry => ({
  host: null,
  container: 'a',
  protocol: 'tcp',
  interface: null,
  hostAddress: null,
  kind: 'ephemeral',
  containerPort: r(80),
  hostPort: r(49000),
  ...over,
});

describe('dynamic host ports', () => {
  it('ephemeral forms take the lowest free port of the pool; one port serves both families', () => {
    const result = resolve(
      single([container({ name: 'a', ip6: 'fd00::2', syntax: 'docker', ports: [docker(null, 80), docker(null, 81, { hostAddress: '127.0.0.1' })] })]),
    );
    expect(codes(result)).toEqual([]);
    expect(ports(result)).toEqual(['a inet * 49000-49000', 'a inet6 * 49000-49000', 'a inet 127.0.0.1 49001-49001']);
    expect(result.lockChanged).toBe(true);
    expect(result.lock.entries.map((e) => [e.kind, e.hostAddress, e.hostPort.start])).toEqual([
      ['ephemeral', null, 49000],
      ['ephemeral', '127.0.0.1', 49001],
    ]);
  });

  it('avoids ports of fixed exposures on overlapping listen sides only', () => {
    const set = single([
      container({ name: 'fixed', ports: [kleene(49000, 80, { interfaces: ['em0'] }), kleene(49001, 80, { interfaces: ['em1'] })] }),
      container({ name: 'z', line: 20, syntax: 'docker', ports: [docker(null, 80), docker(null, 81, { hostAddress: '127.0.0.1' })] }),
      container({ name: 'y', line: 30, ports: [docker(null, 80, { interfaces: ['em1'], syntax: 'long' })] }),
    ]);
    const result = resolve(set);
    expect(codes(result)).toEqual([]);
    // y (served first: key order) avoids em1's fixed 49001; z on every address avoids all of them;
    // z on 127.0.0.1 only avoids every-address ports (an address is not known to overlap an interface).
    expect(ports(result).filter((p) => !p.startsWith('fixed'))).toEqual([
      'z inet * 49002-49002',
      'z inet 127.0.0.1 49000-49000',
      'y inet em1 49000-49000',
    ]);
  });

  it('a container range gets a contiguous block', () => {
    const set = single([
      container({ name: 'a', ports: [kleene(49001, 80, { interfaces: ['em0'] })] }),
      container({ name: 'b', line: 20, syntax: 'docker', ports: [docker(null, r(80, 82))] }),
    ]);
    expect(ports(resolve(set))).toContain('b inet * 49002-49004');
  });

  it("the pick-one form chooses from the entry's own range", () => {
    const set = single([
      container({ name: 'a', syntax: 'docker', ports: [docker(8000, 80)] }),
      container({ name: 'b', line: 20, syntax: 'docker', ports: [dockerPick(r(8000, 8002), 80)] }),
    ]);
    const result = resolve(set);
    expect(ports(result)).toEqual(['a inet * 8000-8000', 'b inet * 8001-8001']);
    expect(result.lock.entries[0]).toMatchObject({ container: 'b', kind: 'pick', hostPort: r(8001) });
  });

  it('a full pool is a located error at the entry', () => {
    const set = single([container({ name: 'a', syntax: 'docker', ports: [docker(null, 1), docker(null, 2), docker(null, 3)] })]);
    const result = resolve(set, { pool: r(50000, 50001) });
    expect(codes(result)).toEqual(['pool-full error a.yaml:7:9']);
    expect(result.diagnostics[0]?.message).toContain('50000-50001');
    expect(ports(result)).toEqual(['a inet * 50000-50000', 'a inet * 50001-50001']);
  });

  it("a full pick-one range is a located error too; the host's declared pool is used", () => {
    const set = single(
      [container({ name: 'a', syntax: 'docker', ports: [docker(8000, 80), dockerPick(r(8000, 8000), 81), docker(null, 82)] })],
      { hosts: [hostDeclaration('h', { pool: r(60000, 60005) })] },
    );
    const result = resolve(set);
    expect(codes(result)).toEqual(['pool-full error a.yaml:6:9']);
    expect(ports(result)).toContain('a inet * 60000-60000');
  });

  it('reuses valid lock entries, replaces invalid ones, drops stale ones, keeps other hosts', () => {
    const set = single([container({ name: 'a', syntax: 'docker', ports: [docker(null, 80), docker(null, 81)] })], {
      hosts: [hostDeclaration('h')],
    });
    const lock: Lockfile = {
      version: 1,
      entries: [
        lockEntry({ host: 'h', hostPort: r(49500) }),
        lockEntry({ host: 'h', containerPort: r(81), hostPort: r(100) }), // outside the pool
        lockEntry({ host: 'h', container: 'gone', hostPort: r(49000) }),
        lockEntry({ host: 'other', container: 'x', hostPort: r(49000) }),
      ],
    };
    const result = resolve(set, { lock });
    expect(codes(result)).toEqual([]);
    expect(ports(result)).toEqual(['a inet * 49000-49000', 'a inet * 49500-49500']);
    expect(result.lock.entries.map((e) => `${e.host} ${e.container} ${e.containerPort.start} ${e.hostPort.start}`)).toEqual([
      'h a 80 49500',
      'h a 81 49000',
      'other x 80 49000',
    ]);
    expect(result.lockChanged).toBe(true);
  });

  it('an unchanged lock is reported as unchanged', () => {
    const set = single([container({ name: 'a', syntax: 'docker', ports: [docker(null, 80)] })]);
    const first = resolve(set);
    const second = resolve(set, { lock: first.lock, frozen: true });
    expect(second.lockChanged).toBe(false);
    expect(second.diagnostics).toEqual([]);
    expect(serializeLockfile(second.lock)).toBe(serializeLockfile(first.lock));
  });

  it('a fixed exposure taking a locked port moves the allocation with a warning', () => {
    const set = single([
      container({ name: 'a', syntax: 'docker', ports: [docker(null, 80)] }),
      container({ name: 'b', line: 20, ports: [kleene(49000, 80, { interfaces: ['em0'] })] }),
    ]);
    const result = resolve(set, { lock: { version: 1, entries: [lockEntry({})] } });
    expect(codes(result)).toEqual(['lock-moved warning a.yaml:5:9']);
    expect(result.diagnostics[0]?.message).toContain('b at a.yaml:22:9');
    expect(ports(result)[0]).toBe('a inet * 49001-49001');
  });

  describe('--frozen', () => {
    it('a missing allocation is an error at the entry', () => {
      const result = resolve(single([container({ name: 'a', syntax: 'docker', ports: [docker(null, 80)] })]), { frozen: true });
      expect(codes(result)).toEqual(['lock-frozen error a.yaml:5:9']);
      expect(result.diagnostics[0]?.message).toContain('49000');
      expect(result.diagnostics[0]?.hint).toContain('pfexpose compile` without --frozen');
    });

    it('a stale entry is an error at the lock file', () => {
      const result = resolve(single([]), { frozen: true, lock: { version: 1, entries: [lockEntry({})] }, lockFileName: 'x/pfexpose.lock.json' });
      expect(codes(result)).toEqual(['lock-frozen error x/pfexpose.lock.json:1:1']);
      expect(result.lockChanged).toBe(true);
    });

    it('an allocation that would move is an error saying where to', () => {
      const set = single([container({ name: 'a', syntax: 'docker', ports: [docker(null, 80)] })]);
      const result = resolve(set, { frozen: true, pool: r(50000, 50010), lock: { version: 1, entries: [lockEntry({})] } });
      expect(codes(result)).toEqual(['lock-frozen error a.yaml:5:9']);
      expect(result.diagnostics[0]?.message).toMatch(/49000 .* would move to 50000/);
    });
  });
});

describe('stability: other containers never move an allocation', () => {
  // Entries with dynamic host ports, plus fixed ports outside the pool (the survivors may hold pool ports).
  const dynamicSpec: fc.Arbitrary<PortSpec> = fc.oneof(
    fc.integer({ min: 1, max: 200 }).map((p) => docker(null, p)),
    fc.integer({ min: 1, max: 200 }).map((p) => docker(null, p, { hostAddress: '127.0.0.1', protocol: 'udp' })),
    fc.integer({ min: 1, max: 200 }).map((p) => docker(null, r(p, p + 2))),
    fc.integer({ min: 1, max: 200 }).map((p) => dockerPick(r(8000, 8050), p)),
    fc.integer({ min: 1, max: 200 }).map((p) => docker(null, p, { syntax: 'long', interfaces: ['em0'] })),
  );
  const fixedSpec = fc.integer({ min: 1000, max: 7000 }).map((p) => docker(p, 80));
  const containerArb = (name: string, fixed: boolean) =>
    fc
      .record({
        dynamic: fc.array(dynamicSpec, { minLength: 1, maxLength: 3 }),
        fixed: fixed ? fc.array(fixedSpec, { maxLength: 1 }) : fc.constant([]),
        ip6: fc.boolean(),
        publish: fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 2 }),
      })
      .map((c) =>
        container({
          name,
          syntax: 'docker',
          ip6: c.ip6 ? 'fd00::2' : null,
          ports: [...c.dynamic, ...c.fixed],
          expose: c.publish.map((p) => ({ port: p })),
          publishAll: c.publish.length > 0,
        }),
      );

  it('survivors keep every host port after removals, renames and additions', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,7}$/), { minLength: 1, maxLength: 8 }).chain((names) =>
          fc.record({
            before: fc.tuple(...names.map((n) => containerArb(n, false))),
            keep: fc.array(fc.boolean(), { minLength: names.length, maxLength: names.length }),
            added: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,7}$/), { maxLength: 4 }).chain((more) =>
              fc.tuple(...more.filter((m) => !names.includes(m)).map((n) => containerArb(`new-${n}`, true))),
            ),
          }),
        ),
        ({ before, keep, added }) => {
          const first = resolve(single(before));
          fc.pre(first.diagnostics.every((d) => d.code !== 'pool-full' && d.code !== 'port-conflict'));
          const survivors = before.filter((_, i) => keep[i]);
          const renamed = before.filter((_, i) => !keep[i]).map((c) => ({ ...c, name: `renamed-${c.name}` }));
          const second = resolve(single([...survivors, ...renamed, ...added]), { lock: first.lock });
          const byContainer = (entries: LockEntry[], names: Set<string>) =>
            entries.filter((e) => names.has(e.container)).map((e) => JSON.stringify(e));
          const names = new Set(survivors.map((c) => c.name));
          if (second.diagnostics.some((d) => d.code === 'pool-full')) return;
          expect(byContainer(second.lock.entries, names)).toEqual(byContainer(first.lock.entries, names));
          const exposuresOf = (res: typeof first) => res.exposures.filter((e) => names.has(e.container));
          expect(exposuresOf(second)).toEqual(exposuresOf(first));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a concrete case: removing the first container does not shift the others', () => {
    const make = (names: string[]) => single(names.map((n, i) => container({ name: n, line: 10 * (i + 1), syntax: 'docker', ports: [docker(null, 80)] })));
    const first = resolve(make(['a', 'b', 'c']));
    expect(ports(first)).toEqual(['a inet * 49000-49000', 'b inet * 49001-49001', 'c inet * 49002-49002']);
    const second = resolve(make(['b', 'c']), { lock: first.lock });
    expect(ports(second)).toEqual(['b inet * 49001-49001', 'c inet * 49002-49002']);
    // A newcomer fills the hole; it does not push the others along.
    const third = resolve(make(['c', 'b', 'zz', 'aa']), { lock: second.lock });
    expect(ports(third)).toEqual(['aa inet * 49000-49000', 'b inet * 49001-49001', 'c inet * 49002-49002', 'zz inet * 49003-49003']);
  });

  it('lock entries are keyed per host', () => {
    const set = manifestSet(
      documentOf('a.yaml', [container({ name: 'a', syntax: 'docker', ports: [docker(null, 80)] })], { host: 'h1' }),
      documentOf('b.yaml', [container({ name: 'a', file: 'b.yaml', syntax: 'docker', ports: [docker(null, 80)] })], { host: 'h2' }),
    );
    const one = resolve(set, { host: 'h1' });
    const two = resolve(set, { host: 'h2', lock: one.lock });
    expect(two.lock.entries.map((e) => `${e.host} ${e.hostPort.start}`)).toEqual(['h1 49000', 'h2 49000']);
  });
});

describe('the lock file of an example', () => {
  it('matches the golden file', async () => {
    const set = manifestSet(
      documentOf('hosts.yaml', [], { hosts: [hostDeclaration('edge', { gateway: 'em0' })] }),
      documentOf('apps.yaml', [
        container({ name: 'legacy', file: 'apps.yaml', ip6: 'fd00::11', syntax: 'docker', ports: [docker(null, 53, { hostAddress: '::1', protocol: 'udp' }), dockerPick(r(8000, 8010), 80)] }),
        container({ name: 'worker', file: 'apps.yaml', line: 20, syntax: 'docker', ports: [docker(null, r(7000, 7002))], expose: [{ port: 9000 }], publishAll: true }),
      ]),
    );
    const result = resolve(set);
    expect(result.diagnostics).toEqual([]);
    await expect(serializeLockfile(result.lock)).toMatchFileSnapshot('../fixtures/model/example.lock.json');
  });
});
