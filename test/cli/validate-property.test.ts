// The property behind "validate and compile agree" (issue 11): for generated manifests (hosts
// declared or not, host: values right or misspelt, allowlists, tiny pools, conflicting entries,
// duplicate names, a lock file or a broken one), validate's errors, as (code, file, line, column),
// are exactly the union of compile's errors over every host the manifests name (compile without
// --host when they name at most one). Where a host declares no gateway, compile is given one that no
// entry names (apply would ask route(8) for it); its command-line complaints about that stand-in
// are not the manifests' and are left out.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSources } from '../../src/compile/check.js';
import { compileSources } from '../../src/compile/compile.js';
import { isCommandLine } from '../../src/diagnostics/diagnostic.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';

const ENTRIES = [
  '8080',
  '8080:80/udp',
  'em0:8080:80',
  'em1:8080:80',
  'em2:80:80',
  '9000-9001:9000-9001',
  '{docker: "80"}',
  '{docker: "127.0.0.1:8080:80"}',
  '{docker: "8000-8001:80"}',
  '{docker: "[::1]::53/udp"}',
  '{docker: "80/sctp"}',
  '{published: 8080, target: 80, interfaces: [em0, em1]}',
  '{target: 443}',
  '{kleene: "8443:443", from: ["2001:db8::/32"]}',
] as const;

const HOSTS = ['db1', 'db2', 'www1'] as const;
const HOST_NAMES = [...HOSTS, 'db3'] as const;
const FILES = ['a.yaml', 'b.yaml', 'sub/c.yml'] as const;

interface HostDef {
  name: string;
  gateway: string | null;
  interfaces: string[] | null;
  pool: string | null;
}

interface ContainerDef {
  name: string;
  file: string;
  host: string | null;
  ip: number;
  ip6: boolean;
  ports: string[];
}

const hostArb: fc.Arbitrary<HostDef> = fc.record({
  name: fc.constantFrom(...HOSTS),
  gateway: fc.option(fc.constantFrom('em0', 'em1'), { freq: 2 }),
  interfaces: fc.option(fc.constantFrom(['em0'], ['em0', 'em1']), { freq: 2 }),
  pool: fc.option(fc.constantFrom('40000-40001', '49000-49900'), { freq: 2 }),
});

const containerArb: fc.Arbitrary<ContainerDef> = fc.record({
  name: fc.constantFrom('web', 'api', 'db', 'mail'),
  file: fc.constantFrom(...FILES),
  host: fc.option(fc.constantFrom(...HOST_NAMES), { freq: 2 }),
  ip: fc.integer({ min: 2, max: 9 }),
  ip6: fc.boolean(),
  ports: fc.array(fc.constantFrom(...ENTRIES), { maxLength: 3 }),
});

const LOCKS = [
  null,
  '{"version": 1, "entries": [',
  JSON.stringify({
    version: 1,
    entries: [
      {
        host: null,
        container: 'web',
        protocol: 'tcp',
        interface: null,
        hostAddress: null,
        containerPort: { start: 80, end: 80 },
        kind: 'ephemeral',
        hostPort: { start: 49000, end: 49000 },
      },
    ],
  }),
  JSON.stringify({
    version: 1,
    entries: [
      {
        host: 'db1',
        container: 'api',
        protocol: 'tcp',
        interface: null,
        hostAddress: null,
        containerPort: { start: 80, end: 80 },
        kind: 'ephemeral',
        hostPort: { start: 40000, end: 40000 },
      },
    ],
  }),
];

const caseArb = fc.record({
  // Declared in hosts.yaml, sometimes twice (duplicate-host) by listing a name again.
  hosts: fc.array(hostArb, { maxLength: 3 }),
  documentHost: fc.record({
    'a.yaml': fc.option(fc.constantFrom(...HOST_NAMES), { freq: 3 }),
    'b.yaml': fc.constant(null),
    'sub/c.yml': fc.option(fc.constantFrom(...HOST_NAMES), { freq: 3 }),
  }),
  containers: fc.uniqueArray(containerArb, { maxLength: 6, selector: (c) => `${c.file}/${c.name}` }),
  lock: fc.constantFrom(...LOCKS),
});

interface Case {
  hosts: HostDef[];
  documentHost: Record<string, string | null>;
  containers: ContainerDef[];
}

function render(c: Case): { file: string; text: string }[] {
  const sources: { file: string; text: string }[] = [];
  if (c.hosts.length > 0) {
    const lines = ['version: 1', 'hosts:'];
    c.hosts.forEach((h, i) => {
      // A name listed twice goes into a second document of its own (duplicate-host, not a YAML duplicate key).
      if (c.hosts.slice(0, i).some((o) => o.name === h.name)) lines.push('---', 'version: 1', 'hosts:');
      lines.push(`  ${h.name}:`);
      if (h.gateway !== null) lines.push(`    gateway: ${h.gateway}`);
      if (h.interfaces !== null) lines.push(`    interfaces: [${h.interfaces.join(', ')}]`);
      if (h.pool !== null) lines.push(`    pool: ${h.pool}`);
      if (h.gateway === null && h.interfaces === null && h.pool === null) lines.push('    description: no facts');
    });
    sources.push({ file: 'hosts.yaml', text: `${lines.join('\n')}\n` });
  }
  for (const file of FILES) {
    const mine = c.containers.filter((x) => x.file === file);
    const host = c.documentHost[file] ?? null;
    if (mine.length === 0 && host === null) continue;
    const lines = ['version: 1'];
    if (host !== null) lines.push(`host: ${host}`);
    lines.push(mine.length === 0 ? 'containers: {}' : 'containers:');
    for (const x of mine) {
      lines.push(`  ${x.name}:`);
      if (x.host !== null) lines.push(`    host: ${x.host}`);
      lines.push(`    ip: 10.0.0.${x.ip}`);
      if (x.ip6) lines.push(`    ip6: fd00::${x.ip}`);
      if (x.ports.length > 0) lines.push('    ports:', ...x.ports.map((p) => `      - ${p}`));
    }
    sources.push({ file, text: `${lines.join('\n')}\n` });
  }
  return sources;
}

/** The hosts the generated manifests name, worked out from the generator's data, not the compiler's. */
function namedHosts(c: Case): string[] {
  const names = new Set<string>(c.hosts.map((h) => h.name));
  for (const file of FILES) {
    const host = c.documentHost[file] ?? null;
    if (host !== null) names.add(host);
    for (const x of c.containers.filter((y) => y.file === file)) {
      const own = x.host ?? host;
      if (own !== null) names.add(own);
    }
  }
  return [...names].sort();
}

const web = (over: Partial<ContainerDef>): ContainerDef => ({
  name: 'web',
  file: 'a.yaml',
  host: null,
  ip: 2,
  ip6: false,
  ports: [],
  ...over,
});
const noDocumentHost = { 'a.yaml': null, 'b.yaml': null, 'sub/c.yml': null };
const EXAMPLES: (Case & { lock: string | null })[] = [
  // interface-not-allowed: em2 on a host that allows em0 only.
  {
    hosts: [{ name: 'www1', gateway: 'em0', interfaces: ['em0'], pool: null }],
    documentHost: noDocumentHost,
    containers: [web({ ports: ['em2:80:80'] })],
    lock: null,
  },
  // port-conflict across files, on an undeclared gateway.
  {
    hosts: [],
    documentHost: noDocumentHost,
    containers: [web({ ports: ['8080'] }), web({ name: 'api', file: 'b.yaml', ip: 3, ports: ['8080:80/udp', '8080'] })],
    lock: null,
  },
  // host-undeclared.
  {
    hosts: [
      { name: 'db1', gateway: null, interfaces: null, pool: null },
      { name: 'db2', gateway: 'em0', interfaces: null, pool: null },
    ],
    documentHost: noDocumentHost,
    containers: [web({ host: 'db3' })],
    lock: null,
  },
  // container-without-host, once although two hosts are checked.
  {
    hosts: [
      { name: 'db1', gateway: 'em0', interfaces: null, pool: null },
      { name: 'db2', gateway: 'em0', interfaces: null, pool: null },
    ],
    documentHost: noDocumentHost,
    containers: [web({ ports: ['8080'] })],
    lock: null,
  },
  // lock-syntax.
  {
    hosts: [],
    documentHost: noDocumentHost,
    containers: [web({ ports: ['{docker: "80"}'] })],
    lock: '{"version": 1, "entries": [',
  },
];

const key = (d: Diagnostic): string => `${d.code} ${d.file}:${d.line}:${d.column}`;
const errorKeys = (diagnostics: readonly Diagnostic[]): string[] =>
  [...new Set(diagnostics.filter((d) => d.severity === 'error' && !isCommandLine(d)).map(key))].sort();

describe('validate and compile agree (property)', () => {
  it("validate's errors are the union of compile's errors over every host", () => {
    let refused = 0;
    let accepted = 0;
    const codes = new Set<string>();
    fc.assert(
      fc.property(caseArb, (c) => {
        const sources = render(c);
        if (sources.length === 0) return;
        const checked = checkSources(sources, {}, c.lock);
        const names = namedHosts(c);
        const union = new Set<string>();
        for (const host of names.length > 1 ? names : [names[0]]) {
          const declared = c.hosts.some((h) => h.name === host && h.gateway !== null);
          const outcome = compileSources(
            sources,
            {
              host: names.length > 1 ? host : undefined,
              gateway: declared ? undefined : 'gw9',
              dialect: 'freebsd',
              frozen: false,
              anchor: 'pfexpose',
            },
            c.lock,
          );
          for (const k of errorKeys(outcome.diagnostics)) union.add(k);
        }
        const validated = errorKeys(checked.diagnostics);
        expect(validated).toEqual([...union].sort());
        expect(checked.ok).toBe(validated.length === 0);
        // Listed once: no diagnostic repeats in validate's output.
        const all = checked.diagnostics.map((d) => JSON.stringify(d));
        expect(new Set(all).size).toBe(all.length);
        if (validated.length > 0) refused += 1;
        else accepted += 1;
        for (const k of validated) codes.add(k.split(' ')[0] ?? '');
      }),
      // Besides the random cases, one case per check this is about, so each is always exercised.
      { numRuns: 200, examples: EXAMPLES.map((e) => [e] as [typeof e]) },
    );
    // The generator must reach both verdicts and the checks this is about, or the property says little.
    expect(refused).toBeGreaterThan(10);
    expect(accepted).toBeGreaterThan(10);
    for (const code of [
      'port-conflict',
      'interface-not-allowed',
      'host-undeclared',
      'container-without-host',
      'lock-syntax',
    ])
      expect(codes).toContain(code);
  }, 120_000);
});
