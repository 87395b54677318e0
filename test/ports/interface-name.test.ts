import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeInterfaceNameProblem, isInterfaceName, looksLikeInterfaceName } from '../../src/ports/interface-name.js';

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
