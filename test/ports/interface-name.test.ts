import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadManifestText } from '../../src/manifest/load-manifests.js';
import {
  describeInterfaceNameProblem,
  isInterfaceName,
  looksLikeInterfaceName,
  PF_KEYWORDS,
} from '../../src/ports/interface-name.js';

describe('isInterfaceName', () => {
  it.each([
    ['em0', true],
    ['vtnet0.100', true],
    ['lagg_0', true],
    ['a', true],
    ['abcdefghijklmno', true],
    ['abcdefghijklmnop', false],
    ['', false],
    ['0em', false],
    ['em-0', false],
    ['em 0', false],
    ['em0\n', false],
    ['"em0"', false],
    ['{em0}', false],
    ['em0#', false],
    ['em0:', false],
    ['ém0', false],
  ])('%j -> %s', (given, want) => {
    expect(isInterfaceName(given)).toBe(want);
    expect(describeInterfaceNameProblem(given) === null).toBe(want);
  });

  it('never lets a character through that could break a pf rule', () => {
    const dangerous = fc.constantFrom(
      '"',
      "'",
      '{',
      '}',
      '#',
      ' ',
      '\t',
      '-',
      '\n',
      '\r',
      '$',
      '(',
      ')',
      '!',
      '<',
      '>',
      '\\',
      ',',
    );
    fc.assert(
      fc.property(fc.string(), dangerous, fc.string(), (before, bad, after) => {
        expect(isInterfaceName(`${before}${bad}${after}`)).toBe(false);
      }),
    );
  });

  it('tells what is wrong and what would be right', () => {
    expect(describeInterfaceNameProblem('em-0')).toBe(
      'interface name "em-0" contains "-": use only letters, digits, "_" and "."',
    );
    expect(describeInterfaceNameProblem('0em')).toBe('interface name "0em" must start with a letter, e.g. em0');
  });
});

describe('looksLikeInterfaceName', () => {
  it.each([
    ['em0', true],
    ['vlan0.100', true],
    ['localhost', false],
    ['example.org', false],
    ['127.0.0.1', false],
  ])('%j -> %s', (given, want) => {
    expect(looksLikeInterfaceName(given)).toBe(want);
  });
});

describe('pf keywords are not interface names', () => {
  const schema = JSON.parse(readFileSync('schema/pfexpose.schema.json', 'utf8')) as {
    $defs: { interfaceName: { pattern: string } };
  };
  const schemaPattern = new RegExp(schema.$defs.interfaceName.pattern, 'u');

  it.each([...PF_KEYWORDS].map((k) => [k]))('%s is refused, by the code and by the schema', (word) => {
    expect(isInterfaceName(word)).toBe(false);
    expect(describeInterfaceNameProblem(word)).toMatch(/word of pf's rule grammar/);
    expect(schemaPattern.test(word)).toBe(false);
  });

  it('the schema pattern and isInterfaceName agree on any text', () => {
    const near = fc.oneof(
      fc.constantFrom(...PF_KEYWORDS),
      fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.]{0,16}$/),
      fc.string(),
    );
    fc.assert(
      fc.property(near, fc.constantFrom('', '0', 'x', '.1'), (base, suffix) => {
        const text = `${base}${suffix}`;
        expect(schemaPattern.test(text)).toBe(isInterfaceName(text));
      }),
    );
  });

  it('a manifest naming self as an interface gets a located error, never a rule', () => {
    const { diagnostics } = loadManifestText(
      'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: [self:80:80]\n',
      'm.yaml',
    );
    expect(diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([['port-interface-name', 5, 13]]);
  });
});

describe("every keyword of pfctl's lexer is refused as an interface name", () => {
  // FreeBSD sbin/pfctl/parse.y, lookup(): the keyword table, words with a '-' left out (the
  // interface character set refuses them anyway). pfctl turns these into keyword tokens, so a rule
  // `on dnpipe` is never about an interface.
  const FREEBSD_PFCTL_KEYWORDS = [
    'all',
    'altq',
    'anchor',
    'antispoof',
    'any',
    'bandwidth',
    'binat',
    'bitmask',
    'block',
    'buckets',
    'cbq',
    'code',
    'codelq',
    'debug',
    'dnpipe',
    'dnqueue',
    'drop',
    'ether',
    'fairq',
    'fastroute',
    'file',
    'fingerprints',
    'flags',
    'floating',
    'flush',
    'for',
    'fragment',
    'from',
    'global',
    'group',
    'hfsc',
    'hogs',
    'hostid',
    'in',
    'include',
    'inet',
    'inet6',
    'interval',
    'keep',
    'keepcounters',
    'l3',
    'label',
    'limit',
    'linkshare',
    'load',
    'log',
    'loginterface',
    'match',
    'max',
    'modulate',
    'nat',
    'no',
    'on',
    'optimization',
    'os',
    'out',
    'overload',
    'pass',
    'port',
    'prio',
    'priority',
    'priq',
    'probability',
    'proto',
    'qlimit',
    'queue',
    'quick',
    'random',
    'rdr',
    'realtime',
    'reassemble',
    'return',
    'ridentifier',
    'route',
    'rtable',
    'rule',
    'scrub',
    'set',
    'skip',
    'sloppy',
    'state',
    'syncookies',
    'synproxy',
    'table',
    'tag',
    'tagged',
    'target',
    'tbrsize',
    'timeout',
    'to',
    'tos',
    'ttl',
    'upperlimit',
    'user',
  ];

  it.each(FREEBSD_PFCTL_KEYWORDS.map((k) => [k]))('%s', (word) => {
    expect(PF_KEYWORDS.has(word)).toBe(true);
    expect(isInterfaceName(word)).toBe(false);
  });

  it.each([['dnpipe'], ['dnqueue']])("%s says it is a word of pf's grammar and what to write instead", (word) => {
    expect(describeInterfaceNameProblem(word)).toBe(
      `"${word}" is a word of pf's rule grammar, not an interface: write the interface's real name, e.g. em0`,
    );
  });

  it.each([['dnpipe'], ['dnqueue']])(
    'a manifest naming %s as an interface gets a located error, in every port syntax',
    (word) => {
      const kleene = loadManifestText(
        `version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: [${word}:80:80]\n`,
        'm.yaml',
      );
      expect(kleene.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([['port-interface-name', 5, 13]]);
      const long = loadManifestText(
        `version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports:\n      - { container: 80, host: 80, interface: ${word} }\n`,
        'm.yaml',
      );
      expect(long.diagnostics.length).toBeGreaterThan(0);
      expect(long.diagnostics.every((d) => d.severity === 'error' && d.line === 6)).toBe(true);
      expect(long.diagnostics.map((d) => d.message).join('\n')).toMatch(/word of pf's rule grammar/);
    },
  );

  it('names that only look like the keywords stay interface names', () => {
    for (const name of ['dnpipe0', 'dnqueue1', 'Dnpipe', 'self0', 'any1']) expect(isInterfaceName(name)).toBe(true);
  });
});
