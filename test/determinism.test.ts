// Determinism is a feature users rely on in code review: the same manifests give byte-identical
// rules whatever the order of files, documents, containers and unordered lists.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSources } from '../src/compile/compile.js';
import type { CompileOptions } from '../src/compile/options.js';
import { normalizedLines, parsedNormalizedLines } from '../src/pf/rule-lines.js';
import { renderedRuleLines } from '../src/pf/render-ruleset.js';

interface Entry {
  text: string;
}

interface ContainerDef {
  name: string;
  ip: string;
  ip6: string | null;
  entries: Entry[];
  expose: string[];
}

const SOURCES = ['203.0.113.0/24', '198.51.100.7', '2001:db8::/32', '192.0.2.0/25'];

/** Every entry form, each on host ports unique to (container, entry) so that nothing conflicts. */
function entryFor(container: number, index: number, kind: number, sources: string[], ifaces: string[]): Entry {
  const port = 10000 + container * 20 + index;
  switch (kind % 6) {
    case 0:
      return { text: `- ${port}` };
    case 1:
      return { text: `- em1:${port}:80/udp` };
    case 2:
      return { text: `- docker: 127.0.0.1:${port}:8080` };
    case 3:
      return { text: `- docker: "${7000 + container * 20 + index}"` };
    case 4:
      return {
        text: [
          `- published: ${port}`,
          '  target: 443',
          `  interfaces: [${ifaces.join(', ')}]`,
          `  from: [${sources.join(', ')}]`,
        ].join('\n'),
      };
    default:
      return { text: `- kleene: ${port}-${port + 0}:${9000 + index}/tcp\n  from: [${sources.join(', ')}]` };
  }
}

const containerArb = fc
  .record({
    hasIp6: fc.boolean(),
    kinds: fc.array(fc.nat(5), { minLength: 0, maxLength: 5 }),
    // Always one IPv4 source: every container has an IPv4 address, so no entry is left without one.
    sources: fc.subarray(SOURCES.slice(1)).map((rest) => [...rest, SOURCES[0]!]),
    ifaces: fc.subarray(['em0', 'em1'], { minLength: 1 }),
    expose: fc.subarray(['80', '53/udp', '9100'], { minLength: 0 }),
  })
  .map((r) => r);

const setArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 8 })
  .chain((ids) => fc.tuple(fc.constant(ids), fc.array(containerArb, { minLength: ids.length, maxLength: ids.length })));

function build(
  ids: number[],
  defs: { hasIp6: boolean; kinds: number[]; sources: string[]; ifaces: string[]; expose: string[] }[],
): ContainerDef[] {
  return ids.map((id, i) => {
    const d = defs[i]!;
    return {
      name: `c${id}`,
      ip: `10.0.${id}.2`,
      ip6: d.hasIp6 ? `fd00::${id + 1}` : null,
      entries: d.kinds.map((kind, j) => entryFor(id, j, kind, d.sources, d.ifaces)),
      expose: d.expose,
    };
  });
}

function containerYaml(c: ContainerDef, order: (n: number) => number[]): string {
  const lines = [`  ${c.name}:`, `    ip: ${c.ip}`];
  if (c.ip6 !== null) lines.push(`    ip6: ${c.ip6}`);
  if (c.entries.length > 0) {
    lines.push('    ports:');
    for (const i of order(c.entries.length)) lines.push(...c.entries[i]!.text.split('\n').map((l) => `      ${l}`));
  }
  if (c.expose.length > 0) {
    lines.push(
      `    expose: [${order(c.expose.length)
        .map((i) => c.expose[i])
        .join(', ')}]`,
      '    publishAll: true',
    );
  }
  return lines.join('\n');
}

/** Lays the containers out over files and documents; `shuffle` decides every order. */
function layout(containers: ContainerDef[], files: number, seed: number[]): { file: string; text: string }[] {
  let k = 0;
  const next = (): number => seed[k++ % seed.length] ?? 0;
  const order = (n: number): number[] => {
    const idx = [...Array(n).keys()];
    for (let i = n - 1; i > 0; i -= 1) {
      const j = next() % (i + 1);
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    return idx;
  };
  const buckets: ContainerDef[][][] = Array.from({ length: files }, () => [[], []]);
  for (const i of order(containers.length)) buckets[next() % files]![next() % 2]!.push(containers[i]!);
  return order(files).map((f, position) => {
    const docs = buckets[f]!.filter((d) => d.length > 0).map((doc) =>
      ['version: 1', 'containers:', ...doc.map((c) => containerYaml(c, order))].join('\n'),
    );
    return { file: `m${position}.yaml`, text: `${(docs.length > 0 ? docs : ['version: 1']).join('\n---\n')}\n` };
  });
}

const options: CompileOptions = { gateway: 'em0', dialect: 'freebsd', frozen: false, anchor: 'pfexpose' };

describe('determinism', () => {
  it('permuting files, documents, containers and unordered lists gives byte-identical output', () => {
    fc.assert(
      fc.property(
        setArb,
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat(1000), { minLength: 1 }),
        fc.array(fc.nat(1000), { minLength: 1 }),
        ([ids, defs], files, seedA, seedB) => {
          const containers = build(ids, defs);
          const a = compileSources(layout(containers, files, seedA), options, null);
          const b = compileSources(layout(containers, files, seedB), options, null);
          expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
          expect(a.ok).toBe(true);
          expect(b.ruleset).toBe(a.ruleset);
          expect(JSON.stringify(b.lock)).toBe(JSON.stringify(a.lock));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the same input compiled twice is byte-identical (openbsd dialect too)', () => {
    const containers = build(
      [1, 2, 3],
      [0, 1, 2].map(() => ({
        hasIp6: true,
        kinds: [0, 1, 2, 3, 4, 5],
        sources: SOURCES,
        ifaces: ['em0', 'em1'],
        expose: ['80'],
      })),
    );
    const sources = layout(containers, 2, [3, 1, 4, 1, 5]);
    for (const dialect of ['freebsd', 'openbsd'] as const) {
      const first = compileSources(sources, { ...options, dialect }, null);
      expect(first.ok).toBe(true);
      expect(compileSources(sources, { ...options, dialect }, null).ruleset).toBe(first.ruleset);
    }
  });

  it('the lines of a rendered ruleset are already what pfctl prints back (the digest shortcut is exact)', () => {
    fc.assert(
      fc.property(setArb, fc.constantFrom('freebsd' as const, 'openbsd' as const), ([ids, defs], dialect) => {
        const outcome = compileSources(layout(build(ids, defs), 2, [7, 3]), { ...options, dialect }, null);
        expect(outcome.ok).toBe(true);
        const fast = renderedRuleLines(outcome.ruleset);
        expect(fast).not.toBeNull();
        if (dialect === 'freebsd') expect(fast).toEqual(parsedNormalizedLines(outcome.ruleset));
        expect(normalizedLines(outcome.ruleset)).toEqual(fast);
      }),
      { numRuns: 40 },
    );
  });

  it('an edited ruleset no longer matches its digest and is parsed instead', () => {
    const outcome = compileSources(
      layout(
        build([1], [{ hasIp6: false, kinds: [0, 1], sources: [SOURCES[0]!], ifaces: ['em0'], expose: [] }]),
        1,
        [1],
      ),
      options,
      null,
    );
    const edited = outcome.ruleset.replace('port = 10020 ', 'port = 10001 ');
    expect(edited).not.toBe(outcome.ruleset);
    expect(renderedRuleLines(edited)).toBeNull();
    expect(normalizedLines(edited).join('\n')).toContain('port = 10001');
  });
});
