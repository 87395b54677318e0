// compile's JSON and its ruleset name a `from` source the same way (issue 12): the exposure JSON's
// `from` holds exactly the networks the exposure's rules print, for every written form of a source
// (IPv4, IPv6 compressed or not and in any case, IPv4-mapped, with and without a prefix). A source
// with host bits set is refused; the network its message suggests is then compiled in its place.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSources } from '../src/compile/compile.js';
import type { CompileOutcome } from '../src/compile/options.js';
import { exposureJson } from '../src/model/exposure-json.js';

function compileFrom(source: string): CompileOutcome {
  const manifest = [
    'version: 1',
    'containers:',
    '  web:',
    '    ip: 10.13.37.2',
    '    ip6: 2001:db8::2',
    '    ports:',
    `      - {published: 8080, target: 80, interface: em0, from: [${JSON.stringify(source)}]}`,
    '',
  ].join('\n');
  return compileSources(
    [{ file: 'm.yaml', text: manifest }],
    { dialect: 'freebsd', frozen: false, anchor: 'pfexpose' },
    null,
  );
}

/** The `from` of every rule of a family, as printed: `from X to`. */
function ruleSources(ruleset: string, family: string): string[] {
  const sources = new Set<string>();
  for (const line of ruleset.split('\n')) {
    if (line.startsWith('#') || !line.includes(` ${family} `)) continue;
    const match = / from (\S+) to /.exec(line);
    expect(match, line).not.toBeNull();
    sources.add(match![1]!);
  }
  return [...sources].sort();
}

function expectParity(outcome: CompileOutcome): void {
  expect(outcome.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  expect(outcome.exposures.length).toBeGreaterThan(0);
  for (const exposure of outcome.exposures) {
    const from = exposureJson(exposure).from;
    const printed = ruleSources(outcome.ruleset, exposure.family);
    expect(printed).toEqual(from.length === 0 ? ['any'] : [...from].sort());
  }
}

/** Compiles a source; when it has host bits set, checks the refusal and compiles the suggestion. */
function checkSource(source: string): void {
  const outcome = compileFrom(source);
  const hostBits = outcome.diagnostics.find((d) => d.code === 'port-from-host-bits');
  if (hostBits === undefined) {
    expectParity(outcome);
    return;
  }
  expect(outcome.ok).toBe(false);
  const suggested = /write (\S+) for the network/.exec(hostBits.message)?.[1];
  expect(suggested, hostBits.message).toBeDefined();
  const again = compileFrom(suggested!);
  expect(again.diagnostics.find((d) => d.code === 'port-from-host-bits')).toBeUndefined();
  expectParity(again);
}

const hexGroup = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
/** Hex groups written with leading zeros and in either case, as people paste them. */
const paddedGroup = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.boolean(), fc.boolean()).map(([n, pad, upper]) => {
  const text = pad ? n.toString(16).padStart(4, '0') : n.toString(16);
  return upper ? text.toUpperCase() : text;
});
const fullIpv6 = fc.array(paddedGroup, { minLength: 8, maxLength: 8 }).map((groups) => groups.join(':'));
/** Zero runs of every length and place, compressed with `::` or written out. */
const zeroRunIpv6 = fc
  .tuple(
    fc.array(hexGroup, { minLength: 8, maxLength: 8 }),
    fc.integer({ min: 0, max: 7 }),
    fc.integer({ min: 1, max: 8 }),
  )
  .map(([groups, start, length]) => {
    const words = groups.map((g, i) => (i >= start && i < start + length ? '0' : g));
    const end = Math.min(8, start + length);
    return `${words.slice(0, start).join(':')}::${words.slice(end).join(':')}`;
  })
  .filter((text) => !text.includes(':::'));
const mapped = fc
  .tuple(fc.ipV4(), fc.constantFrom('::ffff:', '::FFFF:', '0:0:0:0:0:ffff:', '0000:0000:0000:0000:0000:FFFF:'))
  .map(([v4, head]) => `${head}${v4}`);
const mappedHex = fc.tuple(hexGroup, hexGroup).map(([hi, lo]) => `::ffff:${hi}:${lo}`);
const ipv6 = fc.oneof(fc.ipV6(), fullIpv6, zeroRunIpv6, mapped, mappedHex);

const withPrefix = (address: fc.Arbitrary<string>, bits: number): fc.Arbitrary<string> =>
  fc
    .tuple(address, fc.option(fc.integer({ min: 0, max: bits }), { nil: undefined }))
    .map(([text, prefix]) => (prefix === undefined ? text : `${text}/${prefix}`));

describe('from: the exposure JSON and the ruleset print the same network', () => {
  it.each([
    ['::ffff:198.51.100.0/120'],
    ['::ffff:c633:6400/120'],
    ['0:0:0:0:0:FFFF:198.51.100.7'],
    ['2001:DB8:0:0::1'],
    ['10.1.2.3/8'],
    ['::/0'],
  ])('%s', (source) => {
    checkSource(source);
  });

  it('holds for generated IPv4 and IPv6 sources, with and without a prefix', () => {
    fc.assert(
      fc.property(fc.oneof(withPrefix(fc.ipV4(), 32), withPrefix(ipv6, 128)), (source) => {
        checkSource(source);
      }),
      { numRuns: 300 },
    );
  });
});
