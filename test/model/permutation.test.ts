import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ManifestContainer, ManifestDocument, ManifestSet } from '../../src/manifest/manifest.js';
import type { PortSpec } from '../../src/ports/port-spec.js';
import { emptyLockfile, serializeLockfile } from '../../src/model/lockfile.js';
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
} from './build-manifest.js';

/** Fisher-Yates driven by a small deterministic generator, so fast-check can shrink the seed. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function permute(set: ManifestSet, seed: number): ManifestSet {
  let n = seed;
  const next = (): number => (n = (Math.imul(n, 69069) + 1) >>> 0);
  const documents = shuffle(set.documents, next()).map((d): ManifestDocument => ({
    ...d,
    hosts: shuffle(d.hosts, next()).map((h) => ({
      ...h,
      interfaces: h.interfaces === null ? null : shuffle(h.interfaces, next()),
    })),
    containers: shuffle(d.containers, next()).map((c): ManifestContainer => ({
      ...c,
      expose: shuffle(c.expose, next()),
      ports: shuffle(c.ports, next()).map((p) => ({
        ...p,
        spec: { ...p.spec, from: shuffle(p.spec.from, next()), interfaces: shuffle(p.spec.interfaces, next()) },
      })),
    })),
  }));
  return { files: [...set.files], documents };
}

const portSpec: fc.Arbitrary<PortSpec> = fc.oneof(
  fc.integer({ min: 1, max: 40 }).map((p) => kleene(p, 80)),
  fc
    .integer({ min: 1, max: 40 })
    .map((p) => kleene(p, 80, { interfaces: ['em1', 'em0'], from: ['2001:db8::/32', '192.0.2.0/24', '10.0.0.0/8'] })),
  fc.integer({ min: 1, max: 40 }).map((p) => docker(p, 80)),
  fc.integer({ min: 1, max: 40 }).map((p) => docker(null, p, { protocol: 'udp' })),
  fc.integer({ min: 1, max: 40 }).map((p) => docker(null, r(p, p + 3), { hostAddress: '127.0.0.1' })),
  fc.integer({ min: 1, max: 40 }).map((p) => docker(p, p, { hostAddress: '::' })),
  fc.integer({ min: 1, max: 40 }).map((p) => dockerPick(r(30, 35), p)),
);

const manifests: fc.Arbitrary<ManifestSet> = fc
  .array(
    fc.record({
      name: fc.constantFrom('web', 'db', 'cache', 'api', 'mail', 'dns', 'proxy'),
      file: fc.constantFrom('a.yaml', 'b.yaml', 'c/d.yml'),
      ip6: fc.boolean(),
      syntax: fc.constantFrom('kleene' as const, 'docker' as const),
      ports: fc.array(portSpec, { maxLength: 4 }),
      expose: fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 2 }),
    }),
    { maxLength: 8 },
  )
  .map((raw) => {
    const byFile = new Map<string, ManifestContainer[]>();
    raw.forEach((c, i) => {
      const list = byFile.get(c.file) ?? [];
      list.push(
        container({
          name: c.name,
          file: c.file,
          line: 10 + 20 * i,
          ip6: c.ip6 ? `fd00::${i + 1}` : null,
          syntax: c.syntax,
          ports: c.ports,
          expose: c.expose.map((port) => ({ port })),
          publishAll: c.expose.length > 0,
        }),
      );
      byFile.set(c.file, list);
    });
    const documents = [...byFile].map(([file, containers]) => documentOf(file, containers));
    documents.push(
      documentOf('hosts.yaml', [], {
        hosts: [hostDeclaration('h', { gateway: 'em0', interfaces: ['em0', 'em1'], pool: r(20, 60) })],
      }),
    );
    return manifestSet(...documents);
  });

describe('determinism', () => {
  it('permuting documents, containers and unordered lists changes nothing', () => {
    fc.assert(
      fc.property(manifests, fc.integer(), (set, seed) => {
        const first = resolveExposures(set, { lock: emptyLockfile(), frozen: false });
        const lock = first.lock;
        const a = resolveExposures(set, { lock, frozen: false });
        const b = resolveExposures(permute(set, seed), { lock, frozen: false });
        expect(b.exposures).toEqual(a.exposures);
        expect(serializeLockfile(b.lock)).toBe(serializeLockfile(a.lock));
        expect(b.diagnostics).toEqual(a.diagnostics);
        // And from an empty lock too: the allocation order itself must not depend on input order.
        const c = resolveExposures(permute(set, seed + 1), { lock: emptyLockfile(), frozen: false });
        expect(c.exposures).toEqual(first.exposures);
        expect(serializeLockfile(c.lock)).toBe(serializeLockfile(first.lock));
        expect(c.diagnostics).toEqual(first.diagnostics);
      }),
      { numRuns: 200 },
    );
  });
});
