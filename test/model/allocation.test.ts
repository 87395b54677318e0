import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ManifestSet } from '../../src/manifest/manifest.js';
import type { PortRange, PortSpec } from '../../src/ports/port-spec.js';
import type { LockEntry, Lockfile } from '../../src/model/lockfile.js';
import { emptyLockfile, serializeLockfile } from '../../src/model/lockfile.js';
import type { ResolveOptions } from '../../src/model/resolve-exposures.js';
import { resolveExposures } from '../../src/model/resolve-exposures.js';
import {
  container,
  docker,
  dockerPick,
  documentOf,
  hostDeclaration,
  kleene,
  manifestSet,
  r,
  single,
} from './build-manifest.js';

function resolve(set: ManifestSet, options: Partial<ResolveOptions> = {}) {
  return resolveExposures(set, { lock: emptyLockfile(), frozen: false, ...options });
}

const ports = (result: ReturnType<typeof resolve>): string[] =>
  result.exposures.map(
    (e) => `${e.container} ${e.family} ${e.hostAddress ?? e.interface ?? '*'} ${e.hostPort.start}-${e.hostPort.end}`,
  );

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
      single([
        container({
          name: 'a',
          ip6: 'fd00::2',
          syntax: 'docker',
          ports: [docker(null, 80), docker(null, 81, { hostAddress: '127.0.0.1' })],
        }),
      ]),
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
      container({
        name: 'fixed',
        ports: [kleene(49000, 80, { interfaces: ['em0'] }), kleene(49001, 80, { interfaces: ['em1'] })],
      }),
      container({
        name: 'z',
        line: 20,
        syntax: 'docker',
        ports: [docker(null, 80), docker(null, 81, { hostAddress: '127.0.0.1' })],
      }),
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
    const set = single([
      container({ name: 'a', syntax: 'docker', ports: [docker(null, 1), docker(null, 2), docker(null, 3)] }),
    ]);
    const result = resolve(set, { pool: r(50000, 50001) });
    expect(codes(result)).toEqual(['pool-full error a.yaml:7:9']);
    expect(result.diagnostics[0]?.message).toContain('50000-50001');
    expect(ports(result)).toEqual(['a inet * 50000-50000', 'a inet * 50001-50001']);
  });

  it("a full pick-one range is a located error too; the host's declared pool is used", () => {
    const set = single(
      [
        container({
          name: 'a',
          syntax: 'docker',
          ports: [docker(8000, 80), dockerPick(r(8000, 8000), 81), docker(null, 82)],
        }),
      ],
      { hosts: [hostDeclaration('h', { pool: r(60000, 60005) })] },
    );
    const result = resolve(set);
    expect(codes(result)).toEqual(['pool-full error a.yaml:6:9']);
    expect(ports(result)).toContain('a inet * 60000-60000');
  });

  it('reuses valid lock entries, moves those outside the pool (a warning), drops stale ones, keeps other hosts', () => {
    const set = manifestSet(
      documentOf('a.yaml', [container({ name: 'a', syntax: 'docker', ports: [docker(null, 80), docker(null, 81)] })], {
        host: 'h',
        hosts: [hostDeclaration('h')],
      }),
      documentOf('b.yaml', [container({ name: 'x', file: 'b.yaml', syntax: 'docker', ports: [docker(null, 80)] })], {
        host: 'other',
      }),
    );
    const lock: Lockfile = {
      version: 1,
      entries: [
        lockEntry({ host: 'h', hostPort: r(49500) }),
        lockEntry({ host: 'h', containerPort: r(81), hostPort: r(100) }), // outside the pool
        lockEntry({ host: 'h', container: 'gone', hostPort: r(49000) }),
        lockEntry({ host: 'other', container: 'x', hostPort: r(49000) }),
      ],
    };
    const result = resolve(set, { lock, host: 'h' });
    expect(codes(result)).toEqual(['lock-moved warning a.yaml:6:9']);
    expect(result.diagnostics[0]?.message).toMatch(/100 .* outside the default pool 49000-49900; moved to 49000/);
    expect(ports(result)).toEqual(['a inet * 49000-49000', 'a inet * 49500-49500']);
    expect(
      result.lock.entries.map((e) => `${e.host} ${e.container} ${e.containerPort.start} ${e.hostPort.start}`),
    ).toEqual(['h a 80 49500', 'h a 81 49000', 'other x 80 49000']);
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

  describe('--frozen', () => {
    it('a missing allocation is an error at the entry', () => {
      const result = resolve(single([container({ name: 'a', syntax: 'docker', ports: [docker(null, 80)] })]), {
        frozen: true,
      });
      expect(codes(result)).toEqual(['lock-frozen error a.yaml:5:9']);
      expect(result.diagnostics[0]?.message).toContain('49000');
      expect(result.diagnostics[0]?.hint).toContain('pfexpose compile` without --frozen');
    });

    it('a stale entry is an error at the lock file', () => {
      const result = resolve(single([]), {
        frozen: true,
        lock: { version: 1, entries: [lockEntry({})] },
        lockFileName: 'x/pfexpose.lock.json',
      });
      expect(codes(result)).toEqual(['lock-frozen error x/pfexpose.lock.json:1:1']);
      expect(result.lockChanged).toBe(true);
    });

    it('an allocation that would move is an error saying where to', () => {
      const set = single([container({ name: 'a', syntax: 'docker', ports: [docker(null, 80)] })]);
      const result = resolve(set, {
        frozen: true,
        pool: r(50000, 50010),
        lock: { version: 1, entries: [lockEntry({})] },
      });
      expect(codes(result)).toEqual(['lock-frozen error a.yaml:5:9']);
      expect(result.diagnostics[0]?.message).toMatch(/49000 .* would move to 50000/);
    });
  });
});

describe('stability: other containers never move an allocation', () => {
  // Entries with dynamic host ports: pick-one entries of one container port with overlapping ranges
  // included (each must get its own allocation), and fixed ports, new ones landing on allocated ports
  // too (a conflict, never a move).
  const dynamicSpec: fc.Arbitrary<PortSpec> = fc.oneof(
    fc.integer({ min: 1, max: 200 }).map((p) => docker(null, p)),
    fc.integer({ min: 1, max: 200 }).map((p) => docker(null, p, { hostAddress: '127.0.0.1', protocol: 'udp' })),
    fc.integer({ min: 1, max: 200 }).map((p) => docker(null, r(p, p + 2))),
    fc
      .tuple(fc.integer({ min: 1, max: 20 }), fc.constantFrom(r(8000, 8050), r(8030, 8090), r(9000, 9050)))
      .map(([p, range]) => dockerPick(range, p)),
    fc.integer({ min: 1, max: 200 }).map((p) => docker(null, p, { syntax: 'long', interfaces: ['em0'] })),
  );
  const fixedSpec = fc
    .oneof(
      fc.integer({ min: 1000, max: 7000 }),
      fc.integer({ min: 49000, max: 49010 }),
      fc.integer({ min: 8000, max: 8010 }),
    )
    .map((p) => docker(p, 80));
  const containerArb = (name: string, fixed: boolean) =>
    fc
      .record({
        // Unique: the same entry written twice is a conflict of its own, not what this property is about.
        dynamic: fc.uniqueArray(dynamicSpec, { minLength: 1, maxLength: 3, selector: (spec) => JSON.stringify(spec) }),
        fixed: fixed ? fc.array(fixedSpec, { maxLength: 1 }) : fc.constant([]),
        ip6: fc.boolean(),
        publish: fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { maxLength: 2 }),
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
  const withoutHost = ({ host: _host, ...rest }: LockEntry) => JSON.stringify(rest);

  it('survivors keep every host port after removals, renames, additions, declaring the host and widening the pool', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,7}$/), { minLength: 1, maxLength: 8 }).chain((names) =>
          fc.record({
            before: fc.tuple(...names.map((n) => containerArb(n, false))),
            keep: fc.array(fc.boolean(), { minLength: names.length, maxLength: names.length }),
            added: fc
              .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,7}$/), { maxLength: 4 })
              .chain((more) =>
                fc.tuple(...more.filter((m) => !names.includes(m)).map((n) => containerArb(`new-${n}`, true))),
              ),
            declareHost: fc.boolean(),
            pool: fc.option(fc.constantFrom(r(48000, 49900), r(49000, 50000)), { nil: undefined }),
          }),
        ),
        ({ before, keep, added, declareHost, pool }) => {
          const first = resolve(single(before));
          expect(first.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
          const survivors = before.filter((_, i) => keep[i]);
          const renamed = before.filter((_, i) => !keep[i]).map((c) => ({ ...c, name: `renamed-${c.name}` }));
          const hosts = declareHost ? { hosts: [hostDeclaration('www1')] } : {};
          const second = resolve(single([...survivors, ...renamed, ...added], hosts), { lock: first.lock, pool });
          if (second.diagnostics.some((d) => d.code === 'pool-full')) return;
          const names = new Set(survivors.map((c) => c.name));
          const byContainer = (entries: LockEntry[]) =>
            entries
              .filter((e) => names.has(e.container))
              .map(withoutHost)
              .sort();
          // Whatever else happens (a new fixed port on an allocated one is an error), the lock keeps them.
          expect(byContainer(second.lock.entries)).toEqual(byContainer(first.lock.entries));
          expect(second.diagnostics.filter((d) => d.code === 'lock-moved')).toEqual([]);
          if (second.diagnostics.some((d) => d.severity === 'error')) {
            expect(second.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)).not.toContain(
              'lock-frozen',
            );
            return;
          }
          const exposuresOf = (res: typeof first) => res.exposures.filter((e) => names.has(e.container));
          expect(exposuresOf(second)).toEqual(exposuresOf(first));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a concrete case: removing the first container does not shift the others', () => {
    const make = (names: string[]) =>
      single(
        names.map((n, i) => container({ name: n, line: 10 * (i + 1), syntax: 'docker', ports: [docker(null, 80)] })),
      );
    const first = resolve(make(['a', 'b', 'c']));
    expect(ports(first)).toEqual(['a inet * 49000-49000', 'b inet * 49001-49001', 'c inet * 49002-49002']);
    const second = resolve(make(['b', 'c']), { lock: first.lock });
    expect(ports(second)).toEqual(['b inet * 49001-49001', 'c inet * 49002-49002']);
    // A newcomer fills the hole; it does not push the others along.
    const third = resolve(make(['c', 'b', 'zz', 'aa']), { lock: second.lock });
    expect(ports(third)).toEqual([
      'aa inet * 49000-49000',
      'b inet * 49001-49001',
      'c inet * 49002-49002',
      'zz inet * 49003-49003',
    ]);
  });

  it('lock entries are keyed per host', () => {
    const set = manifestSet(
      documentOf('a.yaml', [container({ name: 'a', syntax: 'docker', ports: [docker(null, 80)] })], { host: 'h1' }),
      documentOf('b.yaml', [container({ name: 'a', file: 'b.yaml', syntax: 'docker', ports: [docker(null, 80)] })], {
        host: 'h2',
      }),
    );
    const one = resolve(set, { host: 'h1' });
    const two = resolve(set, { host: 'h2', lock: one.lock });
    expect(two.lock.entries.map((e) => `${e.host} ${e.hostPort.start}`)).toEqual(['h1 49000', 'h2 49000']);
  });
});

describe('new allocations do not depend on container names', () => {
  // Each container is given as its entries; the names are laid on afterwards, in every order, so a
  // request that used to be served first for its name (a pool request before a pick-one range inside
  // the pool, one block before another) can no longer take the only ports another one has.
  type Given = PortSpec[][];
  const named = (given: Given, names: readonly string[]): ManifestSet =>
    single(
      given.map((entries, i) =>
        container({
          name: names[i] as string,
          ip: `10.0.0.${i + 2}`,
          line: 10 * (i + 1),
          syntax: 'docker',
          ports: entries,
        }),
      ),
    );
  const orderings = (names: string[]): string[][] =>
    names.length <= 1
      ? [names]
      : names.flatMap((n, i) => orderings([...names.slice(0, i), ...names.slice(i + 1)]).map((rest) => [n, ...rest]));
  const NAMES = ['a', 'b', '0b', 'zz'];

  it.each<[string, { given: Given; pool?: PortRange; want: string[] }]>([
    [
      'a pick-one range inside the pool is served before the pool (the names a, b used to fail)',
      {
        given: [[docker(null, 80), docker(null, 81)], [dockerPick(r(49000, 49001), 80)]],
        want: ['b inet * 49000-49000', 'a inet * 49001-49001', 'a inet * 49002-49002'],
      },
    ],
    [
      'overlapping pick-one ranges of one width: the one that ends first is served first',
      {
        given: [
          [dockerPick(r(8000, 8001), 80)],
          [dockerPick(r(8000, 8001), 80)],
          [dockerPick(r(8002, 8004), 80)],
          [dockerPick(r(8000, 8002), 80)],
        ],
        want: ['a inet * 8000-8000', 'b inet * 8001-8001', 'zz inet * 8002-8002', '0b inet * 8003-8003'],
      },
    ],
    [
      'a block and a port in a pool with a hole: the port goes where the block does not fit',
      {
        given: [[docker(8002, 80)], [docker(null, 90)], [docker(null, r(80, 81))]],
        pool: r(8000, 8003),
        want: ['0b inet * 8000-8001', 'a inet * 8002-8002', 'b inet * 8003-8003'],
      },
    ],
  ])('%s', (_name, { given, pool, want }) => {
    const names = NAMES.slice(0, given.length);
    expect(ports(resolve(named(given, names), { pool }))).toEqual(want);
    for (const order of orderings(names)) {
      const result = resolve(named(given, order), { pool });
      expect(codes(result), order.join(' ')).toEqual([]);
      expect(result.exposures).toHaveLength(want.length);
    }
  });

  it('whether every request gets a host port never depends on the names (small pools, every kind of request)', () => {
    const pool = r(49000, 49007);
    const inPool = fc.integer({ min: pool.start, max: pool.end });
    const entry: fc.Arbitrary<PortSpec> = fc.oneof(
      fc.integer({ min: 1, max: 9 }).map((p) => docker(null, p)),
      fc.integer({ min: 1, max: 9 }).map((p) => docker(null, p, { hostAddress: '127.0.0.1' })),
      fc
        .tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 2 }))
        .map(([p, more]) => docker(null, r(p, p + more))),
      fc
        .tuple(inPool, inPool, fc.integer({ min: 1, max: 9 }))
        .map(([x, y, p]) => dockerPick(r(Math.min(x, y), Math.max(x, y)), p)),
      fc.tuple(inPool, fc.integer({ min: 1, max: 9 })).map(([x, p]) => docker(x, 100 + p)),
    );
    const given = fc.array(
      fc.uniqueArray(entry, { minLength: 1, maxLength: 3, selector: (spec) => JSON.stringify(spec) }),
      { minLength: 2, maxLength: 4 },
    );
    let served = 0;
    let full = 0;
    fc.assert(
      fc.property(
        given.chain((g) =>
          fc.tuple(
            fc.constant(g),
            fc.shuffledSubarray(NAMES.slice(0, g.length), { minLength: g.length, maxLength: g.length }),
          ),
        ),
        ([g, renamed]) => {
          const poolFull = (names: readonly string[]): boolean =>
            resolve(named(g, names), { pool }).diagnostics.some((d) => d.code === 'pool-full');
          const before = poolFull(NAMES.slice(0, g.length));
          if (before) full++;
          else served++;
          expect(poolFull(renamed)).toBe(before);
        },
      ),
      { numRuns: 500 },
    );
    // Both outcomes were tried, so the property says something.
    expect(served).toBeGreaterThan(0);
    expect(full).toBeGreaterThan(0);
  });
});

const held = (result: ReturnType<typeof resolve>): string[] =>
  result.lock.entries.map(
    (e) =>
      `${e.host} ${e.container} ${e.containerPort.start} ${e.range == null ? '' : `${e.range.start}-${e.range.end} `}${e.hostPort.start}`,
  );

describe('pick-one entries: one allocation each, within its own range', () => {
  const legacy = lockEntry({ kind: 'pick', hostPort: r(8003) }); // written before ranges were recorded

  it('two entries on one container port get a host port each, and a lock that --frozen accepts', () => {
    const set = single([
      container({ name: 'a', syntax: 'docker', ports: [dockerPick(r(8000, 8010), 80), dockerPick(r(9000, 9010), 80)] }),
    ]);
    const result = resolve(set);
    expect(codes(result)).toEqual([]);
    expect(ports(result)).toEqual(['a inet * 8000-8000', 'a inet * 9000-9000']);
    expect(held(result)).toEqual(['null a 80 8000-8010 8000', 'null a 80 9000-9010 9000']);
    const again = resolve(set, { lock: result.lock, frozen: true });
    expect(again.diagnostics).toEqual([]);
    expect(again.lockChanged).toBe(false);
  });

  it('overlapping ranges: each keeps its own port when the other entry goes', () => {
    const fixed = container({ name: 'f', line: 20, syntax: 'docker', ports: [docker(8000, 80)] });
    const both = container({
      name: 'a',
      syntax: 'docker',
      ports: [dockerPick(r(8000, 8020), 80), dockerPick(r(8000, 8010), 80)],
    });
    const first = resolve(single([both, fixed]));
    expect(codes(first)).toEqual([]);
    expect(held(first)).toEqual(['null a 80 8000-8010 8001', 'null a 80 8000-8020 8002']);
    const second = resolve(
      single([container({ name: 'a', syntax: 'docker', ports: [dockerPick(r(8000, 8020), 80)] })]),
      { lock: first.lock },
    );
    expect(codes(second)).toEqual([]);
    expect(ports(second)).toEqual(['a inet * 8002-8002']);
  });

  it('an entry recorded without its range (an older lock) is kept as written', () => {
    const set = single([container({ name: 'a', syntax: 'docker', ports: [dockerPick(r(8000, 8010), 80)] })]);
    const result = resolve(set, { lock: { version: 1, entries: [legacy] }, frozen: true });
    expect(result.diagnostics).toEqual([]);
    expect(result.lockChanged).toBe(false);
    expect(ports(result)).toEqual(['a inet * 8003-8003']);
  });

  it('... and claimed by the narrowest range holding its port once a second entry of that port appears', () => {
    const set = single([
      container({ name: 'a', syntax: 'docker', ports: [dockerPick(r(8002, 8020), 80), dockerPick(r(8000, 8010), 80)] }),
    ]);
    const result = resolve(set, { lock: { version: 1, entries: [legacy] } });
    expect(codes(result)).toEqual([]);
    expect(held(result)).toEqual(['null a 80 8000-8010 8003', 'null a 80 8002-8020 8002']);
  });

  it('a range edited so that it still holds the port keeps it; under --frozen the new range is a change', () => {
    const before = single([container({ name: 'a', syntax: 'docker', ports: [dockerPick(r(8000, 8010), 80)] })]);
    const lock: Lockfile = {
      version: 1,
      entries: [lockEntry({ kind: 'pick', range: r(8000, 8010), hostPort: r(8004) })],
    };
    expect(resolve(before, { lock, frozen: true }).diagnostics).toEqual([]);
    const after = single([container({ name: 'a', syntax: 'docker', ports: [dockerPick(r(7990, 8020), 80)] })]);
    const result = resolve(after, { lock });
    expect(codes(result)).toEqual([]);
    expect(held(result)).toEqual(['null a 80 7990-8020 8004']);
    const frozen = resolve(after, { lock, frozen: true });
    expect(codes(frozen)).toEqual(['lock-frozen error a.yaml:5:9']);
    expect(frozen.diagnostics[0]?.message).toContain(
      'recorded with the range 8000-8010; it would record the range 7990-8020, keeping host port 8004',
    );
  });
});

describe('the host of the lock entries', () => {
  const zed = container({ name: 'zed', line: 20, expose: [{ port: 80 }], publishAll: true });
  const aaa = container({ name: 'aaa', line: 10, expose: [{ port: 80 }], publishAll: true });

  it('declaring, renaming or undeclaring the host of a one-host repository moves no allocation', () => {
    const first = resolve(single([zed]));
    const second = resolve(single([zed, aaa]), { lock: first.lock });
    expect(held(second)).toEqual(['null aaa 80 49001', 'null zed 80 49000']);
    const declared = resolve(single([zed, aaa], { hosts: [hostDeclaration('www1')] }), { lock: second.lock });
    expect(codes(declared)).toEqual([]);
    expect(ports(declared)).toEqual(ports(second));
    expect(held(declared)).toEqual(['www1 aaa 80 49001', 'www1 zed 80 49000']);
    const renamed = resolve(single([zed, aaa], { host: 'web1' }), { lock: declared.lock });
    expect(held(renamed)).toEqual(['web1 aaa 80 49001', 'web1 zed 80 49000']);
    const undeclared = resolve(single([zed, aaa]), { lock: renamed.lock });
    expect(held(undeclared)).toEqual(held(second));
  });

  it('under --frozen, recording an entry for the newly declared host is a change, located at the entry', () => {
    const lock = resolve(single([zed])).lock;
    const result = resolve(single([zed], { hosts: [hostDeclaration('www1')] }), { lock, frozen: true });
    expect(codes(result)).toEqual(['lock-frozen error a.yaml:23:9']);
    expect(result.diagnostics[0]?.message).toContain('it would be recorded for host www1, keeping host port 49000');
  });

  it('entries of a host no manifest names any more are dropped; under --frozen that is an error naming the entry', () => {
    const set = single([zed], { hosts: [hostDeclaration('www1')] });
    const own = lockEntry({ host: 'www1', container: 'zed', kind: 'publish-all', hostPort: r(49000) });
    const stale = lockEntry({ host: 'old', container: 'x', hostPort: r(49005) });
    const lock: Lockfile = { version: 1, entries: [own, stale] };
    const result = resolve(set, { lock });
    expect(codes(result)).toEqual([]);
    expect(held(result)).toEqual(['www1 zed 80 49000']);
    expect(result.lockChanged).toBe(true);
    const frozen = resolve(set, { lock, frozen: true, lockFileName: 'm/pfexpose.lock.json' });
    expect(codes(frozen)).toEqual(['lock-frozen error m/pfexpose.lock.json:1:1']);
    expect(frozen.diagnostics[0]?.message).toContain('old: x 80/tcp on every address (ephemeral) -> 49005');
    expect(frozen.diagnostics[0]?.message).toContain('which no manifest names any more');
  });

  it('a repository that grows from one host to several: each host adopts the entries of its containers', () => {
    const a = container({ name: 'a', syntax: 'docker', ports: [docker(null, 80)] });
    const b = container({ name: 'b', file: 'b.yaml', line: 20, syntax: 'docker', ports: [docker(null, 80)] });
    const first = resolve(manifestSet(documentOf('a.yaml', [a]), documentOf('b.yaml', [b])));
    expect(held(first)).toEqual(['null a 80 49000', 'null b 80 49001']);
    const multi = manifestSet(documentOf('a.yaml', [a], { host: 'h1' }), documentOf('b.yaml', [b], { host: 'h2' }));
    const h1 = resolve(multi, { host: 'h1', lock: first.lock });
    expect(codes(h1)).toEqual([]);
    expect(held(h1)).toEqual(['null b 80 49001', 'h1 a 80 49000']);
    const h2 = resolve(multi, { host: 'h2', lock: h1.lock });
    expect(held(h2)).toEqual(['h1 a 80 49000', 'h2 b 80 49001']);
  });
});

describe('fixed host ports and pools never move an allocation silently', () => {
  const app = container({ name: 'app', syntax: 'docker', ports: [docker(null, 80)] });

  it.each([
    ['on every address', docker(49000, 80)],
    ['on an interface', kleene(49000, 80, { interfaces: ['em0'] })],
  ])(
    'a new fixed host port %s on an allocated one is a conflict at both places; the allocation stays',
    (_name, fixed) => {
      const first = resolve(single([app]));
      const intruder = container({ name: 'new', file: 'b.yaml', syntax: 'docker', ports: [fixed] });
      const set = manifestSet(documentOf('a.yaml', [app]), documentOf('b.yaml', [intruder]));
      for (const frozen of [false, true]) {
        const result = resolve(set, { lock: first.lock, frozen, lockFileName: 'm/pfexpose.lock.json' });
        expect(codes(result)).toEqual(['port-conflict error a.yaml:5:9', 'port-conflict error b.yaml:5:9']);
        const [atApp, atNew] = result.diagnostics;
        expect(atNew?.message).toContain('is allocated to app at a.yaml:5:9 (recorded in m/pfexpose.lock.json)');
        expect(atApp?.message).toContain('is also claimed by new at b.yaml:5:9');
        for (const d of [atApp, atNew]) {
          expect(d?.hint).toMatch(
            /choose another host port .*, or delete the lock entry of app from m\/pfexpose\.lock\.json/,
          );
        }
        expect(serializeLockfile(result.lock)).toBe(serializeLockfile(first.lock));
        expect(result.lockChanged).toBe(false);
      }
    },
  );

  it('a narrower pool keeps the allocations inside it and moves the others, with a warning naming each; --frozen refuses', () => {
    const set = single([
      container({ name: 'a', syntax: 'docker', ports: [docker(null, 80), docker(null, 81), docker(null, 82)] }),
    ]);
    const first = resolve(set);
    expect(ports(first)).toEqual(['a inet * 49000-49000', 'a inet * 49001-49001', 'a inet * 49002-49002']);
    const narrowed = resolve(set, { lock: first.lock, pool: r(49001, 49100) });
    expect(codes(narrowed)).toEqual(['lock-moved warning a.yaml:5:9']);
    expect(narrowed.diagnostics[0]?.message).toBe(
      'the host port 49000 locked for a 80/tcp on every address (ephemeral) is outside the pool 49001-49100 (--pool); moved to 49003',
    );
    expect(ports(narrowed)).toEqual(['a inet * 49001-49001', 'a inet * 49002-49002', 'a inet * 49003-49003']);
    const frozen = resolve(set, { lock: first.lock, pool: r(49001, 49100), frozen: true });
    expect(codes(frozen)).toEqual(['lock-frozen error a.yaml:5:9']);
    expect(frozen.diagnostics[0]?.message).toContain('outside the pool 49001-49100 (--pool)');
    // The same through a host's declared pool (and declaring the host moves nothing by itself).
    const declared = resolve(
      single(
        [container({ name: 'a', syntax: 'docker', ports: [docker(null, 80), docker(null, 81), docker(null, 82)] })],
        {
          hosts: [hostDeclaration('h', { pool: r(49002, 49100) })],
        },
      ),
      { lock: first.lock },
    );
    expect(codes(declared)).toEqual(['lock-moved warning a.yaml:5:9', 'lock-moved warning a.yaml:6:9']);
    expect(declared.diagnostics.map((d) => d.message).join('\n')).toContain('outside the pool 49002-49100 of host h');
    expect(held(declared)).toEqual(['h a 80 49003', 'h a 81 49004', 'h a 82 49002']);
  });

  it('two lock entries on one port (merged branches): the later one in key order moves, with a warning', () => {
    const set = single([container({ name: 'a', syntax: 'docker', ports: [docker(null, 80), docker(null, 81)] })]);
    const lock: Lockfile = {
      version: 1,
      entries: [lockEntry({ hostPort: r(49000) }), lockEntry({ containerPort: r(81), hostPort: r(49000) })],
    };
    const result = resolve(set, { lock });
    expect(codes(result)).toEqual(['lock-moved warning a.yaml:6:9']);
    expect(result.diagnostics[0]?.message).toContain('is also locked for a at a.yaml:5:9; moved to 49001');
  });
});

describe("a partial compile: manifests under the lock's directory that were not read", () => {
  const lock: Lockfile = {
    version: 1,
    entries: [
      lockEntry({ container: 'unread', hostPort: r(49000) }),
      lockEntry({ container: 'a', containerPort: r(81), hostPort: r(49001) }),
    ],
  };
  const set = single([container({ name: 'a', syntax: 'docker', ports: [docker(null, 80)] })]);

  it('keeps the entries of containers it did not see, and their ports; entries of containers it read are up to date', () => {
    const partial = resolve(set, { lock, partialLoad: true });
    expect(codes(partial)).toEqual([]);
    expect(held(partial)).toEqual(['null a 80 49001', 'null unread 80 49000']);
    expect(resolve(set, { lock: partial.lock, partialLoad: true, frozen: true }).diagnostics).toEqual([]);
    // Reading everything, the entry of a container no manifest declares is gone.
    const complete = resolve(set, { lock: partial.lock });
    expect(held(complete)).toEqual(['null a 80 49001']);
    expect(codes(resolve(set, { lock: partial.lock, frozen: true }))).toEqual([
      'lock-frozen error pfexpose.lock.json:1:1',
    ]);
  });

  it('a fixed host port on the port of a container not read is a conflict naming it and the lock file', () => {
    const fixed = single([container({ name: 'a', syntax: 'docker', ports: [docker(49000, 80)] })]);
    const result = resolve(fixed, { lock, partialLoad: true });
    expect(codes(result)).toEqual(['port-conflict error a.yaml:5:9']);
    expect(result.diagnostics[0]?.message).toContain(
      'is allocated to unread in pfexpose.lock.json (its manifest was not read in this compile)',
    );
    expect(result.diagnostics[0]?.hint).toContain('delete that entry from pfexpose.lock.json');
  });
});

describe('the lock file of an example', () => {
  it('matches the golden file', async () => {
    const set = manifestSet(
      documentOf('hosts.yaml', [], { hosts: [hostDeclaration('edge', { gateway: 'em0' })] }),
      documentOf('apps.yaml', [
        container({
          name: 'legacy',
          file: 'apps.yaml',
          ip6: 'fd00::11',
          syntax: 'docker',
          ports: [docker(null, 53, { hostAddress: '::1', protocol: 'udp' }), dockerPick(r(8000, 8010), 80)],
        }),
        container({
          name: 'worker',
          file: 'apps.yaml',
          line: 20,
          syntax: 'docker',
          ports: [docker(null, r(7000, 7002))],
          expose: [{ port: 9000 }],
          publishAll: true,
        }),
      ]),
    );
    const result = resolve(set);
    expect(result.diagnostics).toEqual([]);
    await expect(serializeLockfile(result.lock)).toMatchFileSnapshot('../fixtures/model/example.lock.json');
  });
});
