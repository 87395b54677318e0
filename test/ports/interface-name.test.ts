import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadManifestText } from '../../src/manifest/load-manifests.js';
import { describeInterfaceNameProblem, isInterfaceName, looksLikeInterfaceName, PF_KEYWORDS } from '../../src/ports/interface-name.js';

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
    const dangerous = fc.constantFrom('"', "'", '{', '}', '#', ' ', '\t', '-', '\n', '\r', '$', '(', ')', '!', '<', '>', '\\', ',');
    fc.assert(
      fc.property(fc.string(), dangerous, fc.string(), (before, bad, after) => {
        expect(isInterfaceName(`${before}${bad}${after}`)).toBe(false);
      }),
    );
  });

  it('tells what is wrong and what would be right', () => {
    expect(describeInterfaceNameProblem('em-0')).toBe('interface name "em-0" contains "-": use only letters, digits, "_" and "."');
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
  const schema = JSON.parse(readFileSync('schema/pfexpose.schema.json', 'utf8')) as { $defs: { interfaceName: { pattern: string } } };
  const schemaPattern = new RegExp(schema.$defs.interfaceName.pattern, 'u');

  it.each([...PF_KEYWORDS].map((k) => [k]))('%s is refused, by the code and by the schema', (word) => {
    expect(isInterfaceName(word)).toBe(false);
    expect(describeInterfaceNameProblem(word)).toMatch(/word of pf's rule grammar/);
    expect(schemaPattern.test(word)).toBe(false);
  });

  it('the schema pattern and isInterfaceName agree on any text', () => {
    const near = fc.oneof(fc.constantFrom(...PF_KEYWORDS), fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.]{0,16}$/), fc.string());
    fc.assert(
      fc.property(near, fc.constantFrom('', '0', 'x', '.1'), (base, suffix) => {
        const text = `${base}${suffix}`;
        expect(schemaPattern.test(text)).toBe(isInterfaceName(text));
      }),
    );
  });

  it('a manifest naming self as an interface gets a located error, never a rule', () => {
    const { diagnostics } = loadManifestText('version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: [self:80:80]\n', 'm.yaml');
    expect(diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([['port-interface-name', 5, 13]]);
  });
});
