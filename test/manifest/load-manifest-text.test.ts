import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLoadCache, loadManifestDocuments, loadManifestText } from '../../src/manifest/load-manifests.js';
import { parseYamlDocuments } from '../../src/manifest/parse-yaml-documents.js';

/** Text built from manifest-like pieces, so the property tests reach the schema and the grammars. */
const yamlish = fc
  .array(
    fc.constantFrom(
      'version: 1\n',
      'containers:\n',
      '  web:\n',
      '    ip: 10.0.0.1\n',
      '    ip6: fd00::1\n',
      '    ports:\n',
      '      - 8080\n',
      '      - em0:80:8080/udp\n',
      '      - "[::1]::53"\n',
      '      - target: 80\n',
      '        from: [10.0.0.0/8]\n',
      '    syntax: docker\n',
      '---\n',
      '\t',
      ' ',
      ':',
      '[',
      ']',
      '{',
      '}',
      '&a ',
      '*a',
      '"',
      "'",
      '#',
      '- ',
      '__proto__: 1\n',
      '    expose: [80, 53/udp]\n',
      '    publishAll: true\n',
      'hosts:\n',
      '  h: { gateway: em0 }\n',
      '\r\n',
      '\ufeff',
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

type Want = [code: string, line: number, column: number, endLine: number, endColumn: number];

function positions(text: string): Want[] {
  return loadManifestText(text, 'm.yaml').diagnostics.map((d) => [d.code, d.line, d.column, d.endLine, d.endColumn]);
}

const cases: Array<[string, { given: string; want: Want[] }]> = [
  [
    'yaml syntax: unclosed flow list',
    {
      given: 'version: 1\ncontainers: [a\n',
      want: [['yaml-syntax', 3, 1, 3, 2]],
    },
  ],
  [
    'duplicate key',
    {
      given: 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.1\n    ip: 10.0.0.2\n',
      want: [
        ['yaml-duplicate-key', 4, 5, 4, 7],
        ['yaml-duplicate-key', 5, 5, 5, 7],
      ],
    },
  ],
  [
    'tab indentation',
    {
      given: 'version: 1\ncontainers:\n  web:\n\tip: 10.0.0.1\n',
      want: [['yaml-tab-indent', 4, 1, 4, 2]],
    },
  ],
  [
    'missing version',
    {
      given: 'containers: {}\n',
      want: [['missing-key', 1, 1, 1, 15]],
    },
  ],
  [
    'version as a string',
    {
      given: 'version: "1"\n',
      want: [['schema', 1, 10, 1, 13]],
    },
  ],
  [
    'enum typo with suggestion',
    {
      given: 'version: 1\nsyntax: dockr\n',
      want: [['schema', 2, 9, 2, 14]],
    },
  ],
  [
    'unknown key with suggestion',
    {
      given: 'version: 1\ncontainers:\n  web:\n    prots: [80]\n',
      want: [['unknown-key', 4, 5, 4, 10]],
    },
  ],
  [
    'container name with #',
    {
      given: 'version: 1\ncontainers:\n  web#1:\n    ip: 10.0.0.1\n',
      want: [['invalid-name', 3, 3, 3, 8]],
    },
  ],
  [
    'ip out of range',
    {
      given: 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.256\n',
      want: [['invalid-address', 4, 9, 4, 19]],
    },
  ],
  [
    'IPv4 in ip6',
    {
      given: 'version: 1\ncontainers:\n  web:\n    ip6: 10.0.0.1\n',
      want: [['invalid-address', 4, 10, 4, 18]],
    },
  ],
  [
    'IPv6 with two ::',
    {
      given: 'version: 1\ncontainers:\n  web:\n    ip6: "fd00::1::2"\n',
      want: [['invalid-address', 4, 10, 4, 22]],
    },
  ],
  [
    'ports not a list',
    {
      given: 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.1\n    ports: 8080\n',
      want: [['schema', 5, 12, 5, 16]],
    },
  ],
  [
    'short-form errors inside a list, quoted and single-quoted',
    {
      given:
        'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.1\n    ports:\n      - 8080\n      - em0:080:80\n      - "em0:8080:80/icmp"\n      - \'8080:70000\'\n',
      want: [
        ['port-leading-zero', 7, 13, 7, 16],
        ['port-protocol', 8, 22, 8, 26],
        ['port-out-of-range', 9, 15, 9, 20],
      ],
    },
  ],
  [
    'quoted scalar with escapes points at the whole scalar',
    {
      given: 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.1\n    ports:\n      - "em0:8080:\\u0038\\u0030x"\n',
      want: [['port-not-a-number', 6, 9, 6, 33]],
    },
  ],
  [
    'docker syntax: interface instead of address; family mismatch',
    {
      given:
        'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.1\n    syntax: docker\n    ports:\n      - em0:8080:80\n      - "[::1]:80:80"\n',
      want: [
        ['port-interface-in-docker', 7, 9, 7, 12],
        ['family-mismatch', 8, 11, 8, 14],
      ],
    },
  ],
  [
    'long-form errors point into their keys',
    {
      given:
        'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.1\n    ports:\n      - target: 80\n        published: 90-80\n        interfaces: [em0, em0]\n      - published: 80\n      - { target: 80, publshed: 80 }\n      - { kleene: "127.0.0.1:80:80" }\n      - target: 80\n        from: [10.0.0.1/8]\n',
      want: [
        ['port-range-reversed', 7, 20, 7, 25],
        ['port-long-duplicate', 8, 27, 8, 30],
        ['missing-key', 9, 9, 9, 22],
        ['unknown-key', 10, 23, 10, 31],
        ['port-address-in-kleene', 11, 20, 11, 29],
        ['port-from-host-bits', 13, 16, 13, 26],
      ],
    },
  ],
  [
    'hosts, pool, expose and publishAll',
    {
      given:
        'version: 1\nhosts:\n  h1:\n    gateway: em0-1\n    interfaces: []\n    pool: 900-100\ncontainers:\n  web:\n    host: h1\n    ip: 10.0.0.1\n    expose: [80, 53/udp, "0", 8000-8010/tcp, 80/icmp]\n    publishAll: yes\n',
      want: [
        ['invalid-name', 4, 14, 4, 19],
        ['schema', 5, 17, 5, 19],
        ['invalid-pool', 6, 11, 6, 18],
        ['port-zero', 11, 27, 11, 28],
        ['port-protocol', 11, 49, 11, 53],
        ['schema', 12, 17, 12, 20],
      ],
    },
  ],
  [
    'address families',
    {
      given:
        'version: 1\ncontainers:\n  web:\n    ports: [8080]\n  db:\n    ip6: fd00::2\n    ports:\n      - 5432\n      - { target: 53, family: inet }\n      - { target: 53, host_ip: 127.0.0.1 }\n      - { target: 53, from: [10.0.0.0/8, fd00::/8] }\n',
      want: [
        ['missing-address', 3, 3, 3, 6],
        ['missing-address', 9, 31, 9, 35],
        ['family-mismatch', 10, 32, 10, 41],
        ['family-mismatch', 11, 30, 11, 40],
      ],
    },
  ],
  [
    'container declared twice for one host (both places)',
    {
      given:
        'version: 1\nhost: a\ncontainers:\n  web:\n    ip: 10.0.0.1\n---\nversion: 1\nhost: a\ncontainers:\n  web:\n    ip: 10.0.0.2\n---\nversion: 1\nhost: b\ncontainers:\n  web:\n    ip: 10.0.0.3\n',
      want: [
        ['duplicate-container', 4, 3, 4, 6],
        ['duplicate-container', 10, 3, 10, 6],
      ],
    },
  ],
  [
    'host declared twice',
    {
      given: 'version: 1\nhosts:\n  a: {}\n---\nversion: 1\nhosts:\n  a: {}\n',
      want: [
        ['duplicate-host', 3, 3, 3, 4],
        ['duplicate-host', 7, 3, 7, 4],
      ],
    },
  ],
  [
    'empty document in a stream',
    {
      given: '---\n---\nversion: 1\n',
      want: [['empty-document', 1, 1, 1, 1]],
    },
  ],
  [
    'names that would smuggle a brace or a quote',
    {
      given:
        'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.1\n    ports:\n      - { target: 80, interface: "em0}" }\n      - { target: 80, name: "a\\"b" }\n',
      want: [
        ['invalid-name', 6, 34, 6, 40],
        ['invalid-name', 7, 29, 7, 35],
      ],
    },
  ],
  [
    'undefined alias',
    {
      given: 'version: 1\ncontainers:\n  "1":\n    ip: 10.0.0.1\n  2:\n    ip: 10.0.0.1\n    ports: [*x]\n',
      want: [['yaml-syntax', 7, 13, 7, 15]],
    },
  ],
  [
    'alias shares a container',
    {
      given: 'version: 1\ncontainers:\n  a: &c\n    ip: 10.0.0.1\n    ports: [80, 0]\n  b: *c\n',
      want: [
        ['port-zero', 5, 17, 5, 18],
        ['port-zero', 5, 17, 5, 18],
      ],
    },
  ],
];

describe('loadManifestText: diagnostic codes and positions', () => {
  it.each(cases)('%s', (_name, { given, want }) => {
    expect(positions(given)).toEqual(want);
  });
});

describe('loadManifestText: messages say what is wrong and what would be right', () => {
  const message = (text: string, code: string): string =>
    loadManifestText(text, 'm.yaml').diagnostics.find((d) => d.code === code)?.message ?? '';

  it('an unknown key names the closest allowed key and lists them all', () => {
    const text = message('version: 1\ncontainers:\n  web:\n    prots: [80]\n', 'unknown-key');
    expect(text).toContain('did you mean ports?');
    expect(text).toContain('description, expose, host, ip, ip6, jail, links, ports, publishAll, stack, syntax');
  });

  it('a misspelt long-form key is reported once, not also as a missing target', () => {
    const { diagnostics } = loadManifestText(
      'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.1\n    ports:\n      - { traget: 80 }\n',
      'm.yaml',
    );
    expect(diagnostics.map((d) => d.code)).toEqual(['unknown-key']);
    expect(diagnostics[0]?.message).toContain('did you mean target?');
  });

  it('a missing version says to add version: 1', () => {
    expect(message('containers: {}\n', 'missing-key')).toContain('add version: 1');
  });

  it('an IPv6 address in ip says to move it to ip6', () => {
    expect(message('version: 1\ncontainers:\n  web:\n    ip: "fd00::1"\n', 'invalid-address')).toContain(
      'put it in ip6',
    );
  });

  it('user text in messages is quoted with control characters escaped', () => {
    const text = message('version: 1\ncontainers:\n  web:\n    "pr\\u001b[31mots": 1\n', 'unknown-key');
    expect(text).toContain('\\u001b');
    expect(text).not.toContain('\u001b');
  });
});

describe('loadManifestText: data never touches prototypes', () => {
  it('__proto__ and constructor keys are plain data and unknown keys', () => {
    const { manifests, diagnostics } = loadManifestText(
      'version: 1\n__proto__: { polluted: true }\ncontainers:\n  constructor:\n    ip: 10.0.0.1\n    __proto__: { isAdmin: true }\n',
      'm.yaml',
    );
    expect(diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([
      ['unknown-key', 2, 1],
      ['unknown-key', 6, 5],
    ]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
    expect(manifests.documents[0]?.containers.map((c) => c.name)).toEqual(['constructor']);
  });
});

describe('loadManifestText: one problem of an entry does not hide the others', () => {
  it('reports a bad port and a bad source beside a schema error in the same entry, each once', () => {
    const text = [
      'version: 1',
      'containers:',
      '  web:',
      '    ip: 10.0.0.2',
      '    ports:',
      '      - published: "080"',
      '        target: 80',
      '        interface: em-0',
      '        from: [any, 10.0.0.0/33]',
      '',
    ].join('\n');
    const { manifests, diagnostics } = loadManifestText(text, 's.yaml');
    expect(diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([
      ['port-leading-zero', 6, 21],
      ['invalid-name', 8, 20],
      ['invalid-address', 9, 16],
      ['port-address-invalid', 9, 21],
    ]);
    expect(manifests.documents[0]?.containers[0]?.ports).toEqual([]);
  });
});

describe('loadManifestText: container addresses traffic can be redirected to', () => {
  it.each([
    ['ip', '0.0.0.0', /unspecified address/],
    ['ip6', '"::"', /unspecified address/],
    ['ip', '255.255.255.255', /limited broadcast/],
    ['ip', '239.1.2.3', /multicast/],
    ['ip6', 'ff02::1', /multicast/],
    ['ip6', 'fd00:::1', /":::" is not allowed/],
    ['ip6', 'fe80::1', /link-local/],
    ['ip6', '"::ffff:10.0.0.1"', /IPv4-mapped/],
    ['ip6', '"::1.2.3.4"', /IPv4-compatible/],
  ])('%s %s is refused at its value', (key, value, message) => {
    const { diagnostics } = loadManifestText(`version: 1\ncontainers:\n  web:\n    ${key}: ${value}\n`, 'a.yaml');
    expect(diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([['invalid-address', 4, key.length + 7]]);
    expect(diagnostics[0]?.message).toMatch(message);
  });
});

describe('loadManifestText: numbers only in plain decimal', () => {
  it("ports written as other YAML numbers get the port grammar's errors, not a silent conversion", () => {
    const text = [
      'version: 1',
      'containers:',
      '  web:',
      '    ip: 10.0.0.2',
      '    ports:',
      '      - 08080',
      '      - +81',
      '      - 0x50',
      '      - 0o17',
      '      - 1e3',
      '      - 80.0',
      '      - published: +8001',
      '        target: 0x51',
      '      - 8080',
      '',
    ].join('\n');
    const { manifests, diagnostics } = loadManifestText(text, 'n.yaml');
    expect(diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([
      ['port-leading-zero', 6, 9],
      ['port-sign', 7, 9],
      ['port-not-a-number', 8, 9],
      ['port-not-a-number', 9, 9],
      ['port-not-a-number', 10, 9],
      ['port-not-a-number', 11, 9],
      ['port-sign', 12, 20],
      ['port-not-a-number', 13, 17],
    ]);
    expect(manifests.documents[0]?.containers[0]?.ports.map((p) => p.spec.hostPort)).toEqual([
      { start: 8080, end: 8080 },
    ]);
  });

  it('an explicit tag does not turn other number forms into ports, and long decimals keep their digits', () => {
    const text =
      'version: 1\ncontainers:\n  12345678901234567890:\n    ip: 10.0.0.2\n    ports:\n      - published: !!int "0x50"\n        target: !!int "080"\n';
    const { manifests, diagnostics } = loadManifestText(text, 't.yaml');
    expect(diagnostics.map((d) => [d.code, d.line])).toEqual([
      ['port-not-a-number', 6],
      ['port-leading-zero', 7],
    ]);
    expect(manifests.documents[0]?.containers.map((c) => c.name)).toEqual(['12345678901234567890']);
  });

  it('keys that read as the same name clash, however they are written', () => {
    const text = 'version: 1\ncontainers:\n  1:\n    ip: 10.0.0.2\n  "1":\n    ip: 10.0.0.3\n';
    const { diagnostics } = loadManifestText(text, 'd.yaml');
    expect(diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([
      ['yaml-duplicate-key', 3, 3],
      ['yaml-duplicate-key', 5, 3],
    ]);
    expect(diagnostics[0]?.message).toContain('written "1" and "\\"1\\"", both read as "1"');
    // 0x10 and 16 are different names here (numbers only in plain decimal), so no clash.
    const hex = loadManifestText(
      'version: 1\ncontainers:\n  0x10:\n    ip: 10.0.0.2\n  16:\n    ip: 10.0.0.3\nx: &unused 1\n',
      'h.yaml',
    );
    expect(hex.diagnostics.map((d) => d.code)).toEqual(['unknown-key']);
  });

  it('a name that YAML would read as a number keeps the text it was written with', () => {
    const text =
      'version: 1\ncontainers:\n  0x10:\n    ip: 10.0.0.2\n  010:\n    ip: 10.0.0.3\n  16:\n    ip: 10.0.0.4\n';
    const { manifests, diagnostics } = loadManifestText(text, 'k.yaml');
    expect(diagnostics).toEqual([]);
    expect(manifests.documents[0]?.containers.map((c) => c.name)).toEqual(['010', '0x10', '16']);
  });

  it('resolves thousands of aliases at once (each alias is not a walk of the whole document)', () => {
    const text = `version: 1\ncontainers:\n  web:\n    ip: &addr 10.0.0.2\n${Array.from({ length: 3000 }, (_, i) => `  c${i}:\n    ip: *addr\n`).join('')}`;
    const { manifests, diagnostics } = loadManifestText(text, 'a.yaml');
    expect(diagnostics).toEqual([]);
    expect(manifests.documents[0]?.containers).toHaveLength(3001);
    expect(manifests.documents[0]?.containers.every((c) => c.ip === '10.0.0.2')).toBe(true);
  });
});

describe('loadManifestText: properties', () => {
  it('never throws and always returns sorted, positioned diagnostics, whatever the text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), yamlish), (text) => {
        const { diagnostics } = loadManifestText(text, 'p.yaml');
        for (const d of diagnostics) {
          expect(d.line).toBeGreaterThanOrEqual(1);
          expect(d.column).toBeGreaterThanOrEqual(1);
          expect(d.endLine * 1e6 + d.endColumn).toBeGreaterThanOrEqual(d.line * 1e6 + d.column);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same result for the same text (deterministic)', () => {
    fc.assert(
      fc.property(yamlish, (text) => {
        expect(loadManifestText(text, 'p.yaml')).toEqual(loadManifestText(text, 'p.yaml'));
      }),
      { numRuns: 100 },
    );
  });
});

describe('loadManifestDocuments with a cache', () => {
  const text = (port: number): string =>
    `version: 1\nsyntax: docker\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: ["[::1]:${port}:80"]\n`;

  it('builds an unchanged file once, and reports the same as without the cache', () => {
    const cache = createLoadCache();
    const a = parseYamlDocuments(text(8080), 'a.yaml');
    const b = parseYamlDocuments(text(8081), 'b.yaml');
    const first = loadManifestDocuments([a, b], cache);
    const bAgain = parseYamlDocuments(text(8082), 'b.yaml');
    const second = loadManifestDocuments([a, bAgain], cache);
    expect(second.manifests.documents[0]).toBe(first.manifests.documents[0]);
    expect(second.manifests.documents[1]).not.toBe(first.manifests.documents[1]);
    const uncached = loadManifestDocuments([a, bAgain]);
    expect(second.diagnostics).toEqual(uncached.diagnostics);
    expect(second.manifests).toEqual(uncached.manifests);
    // The family check still points at the host address of every file's entry, cached or not.
    expect(second.diagnostics.map((d) => [d.code, d.file, d.line, d.column])).toEqual([
      ['duplicate-container', 'a.yaml', 4, 3],
      ['family-mismatch', 'a.yaml', 6, 15],
      ['duplicate-container', 'b.yaml', 4, 3],
      ['family-mismatch', 'b.yaml', 6, 15],
    ]);
  });
});

describe('loadManifestText: the jail: key', () => {
  it('carries the jail a container runs as; absent, none; a name jail(8) cannot take is a schema error', () => {
    const named = loadManifestText('version: 1\ncontainers:\n  web:\n    jail: www-1\n    ip: 10.0.0.2\n', 'm.yaml');
    expect(named.diagnostics).toEqual([]);
    expect(named.manifests.documents[0]?.containers[0]?.jail).toBe('www-1');
    const plain = loadManifestText('version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n', 'm.yaml');
    expect(plain.manifests.documents[0]?.containers[0]?.jail ?? null).toBeNull();
    const bad = loadManifestText('version: 1\ncontainers:\n  web:\n    jail: "a b"\n    ip: 10.0.0.2\n', 'm.yaml');
    expect(bad.diagnostics.map((d) => [d.code, d.line])).toEqual([['schema', 4]]);
  });
});
