// The schema's patterns say, for editors, what the port, address and network grammars say for the
// CLI. They must agree: a pattern stricter than its grammar would mark a valid manifest wrong in
// every editor, a looser one would let a wrong value pass there. Where JSON Schema cannot say a rule
// (two ranges of the same length, host bits past a prefix), the schema accepts and only the grammar
// refuses, with exactly the codes listed here.
import Ajv2020 from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ajvOptions, manifestSchema } from '../../src/manifest/generated/validate-manifest.js';
import { parseExpose } from '../../src/manifest/parse-expose.js';
import { parseAddress, parseNetwork } from '../../src/ports/address.js';
import { parseDockerPort } from '../../src/ports/parse-docker-port.js';
import { parseKleenePort } from '../../src/ports/parse-kleene-port.js';
import { parsePortRange } from '../../src/ports/port-number.js';

const ajv = new Ajv2020.default({ ...ajvOptions, allErrors: false });
ajv.addSchema(manifestSchema);
const id = (manifestSchema as { $id: string }).$id;
const schemaOf = (def: string) => ajv.compile({ $ref: `${id}#/$defs/${def}` });

/** The grammar's verdict: ok, or the codes of its errors. */
type Verdict = true | string[];
const codes = (result: { ok: true } | { ok: false; errors: { code: string }[] }): Verdict =>
  result.ok ? true : result.errors.map((e) => e.code);

interface Case {
  def: string;
  grammar: (text: string) => Verdict;
  /** Codes of rules the schema cannot say: the grammar alone refuses such a value. */
  unsayable: string[];
}

const cases: [string, Case][] = [
  [
    'Kleene port specs',
    { def: 'kleeneSpec', grammar: (t) => codes(parseKleenePort(t)), unsayable: ['port-range-length'] },
  ],
  [
    'Docker port specs',
    { def: 'dockerSpec', grammar: (t) => codes(parseDockerPort(t)), unsayable: ['port-range-length'] },
  ],
  ['expose entries', { def: 'exposeEntry', grammar: (t) => codes(parseExpose(t)), unsayable: [] }],
  [
    'ports and ranges of the long form',
    { def: 'portOrRange', grammar: (t) => codes(parsePortRange(t)), unsayable: [] },
  ],
  [
    'pools',
    {
      def: 'portPool',
      // A pool is always written START-END (a single port is no pool: the schema's rule, kept by the CLI).
      grammar: (t) => (parsePortRange(t).ok && t.indexOf('-', 1) > 0 ? true : ['not-a-pool']),
      unsayable: [],
    },
  ],
  [
    'host addresses',
    { def: 'hostAddress', grammar: (t) => (parseAddress(t) !== null ? true : ['bad']), unsayable: [] },
  ],
  [
    'IPv6 addresses',
    { def: 'ipv6', grammar: (t) => (parseAddress(t)?.family === 'inet6' ? true : ['bad']), unsayable: [] },
  ],
  [
    'source networks',
    {
      def: 'network',
      grammar: (t) => {
        const network = parseNetwork(t);
        if (network === null) return ['bad'];
        return network.hostBitsSet ? ['host-bits'] : true;
      },
      unsayable: ['host-bits'],
    },
  ],
  [
    'container networks',
    {
      def: 'containerNetwork',
      grammar: (t) => {
        const network = parseNetwork(t);
        if (network === null || !t.includes('/')) return ['bad'];
        return network.hostBitsSet ? ['host-bits'] : true;
      },
      unsayable: ['host-bits'],
    },
  ],
];

const PIECES = [
  '0',
  '1',
  '8',
  '9',
  '53',
  '80',
  '080',
  '443',
  '8080',
  '9000',
  '9010',
  '49000',
  '65535',
  '65536',
  '70000',
  '99999',
  '123456',
  ':',
  ':',
  ':',
  '-',
  '-',
  '/',
  '/',
  'tcp',
  'udp',
  'sctp',
  'TCP',
  'Udp',
  'icmp',
  'em0',
  'vtnet1',
  'self',
  'all',
  '[',
  ']',
  '::',
  '::1',
  'fd00',
  'ffff',
  'g',
  '127.0.0.1',
  '10.0.0.0',
  '0.0.0.0',
  '1.2.3',
  '256',
  '.',
  ' ',
  '%em0',
  '24',
  '32',
  '33',
  '64',
  '128',
  '129',
  '1.2.3.4',
];
const noise = fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 8 }).map((parts) => parts.join(''));
/** Entries built the way the grammars read them, each part sometimes wrong. */
const PORT = fc.constantFrom('1', '80', '8080', '9000', '65535', '0', '080', '65536', '', 'x');
const RANGE = fc.oneof(
  PORT,
  fc.tuple(PORT, PORT).map(([a, b]) => `${a}-${b}`),
);
const PREFIX = fc.constantFrom('', 'em0:', 'self:', '127.0.0.1:', '[::1]:', '::1:', '[10.0.0.1]:', '1.2.3:', ':');
const SUFFIX = fc.constantFrom('', '/tcp', '/udp', '/sctp', '/TCP', '/icmp', '/', '/tcp/udp');
const shaped = fc
  .tuple(PREFIX, fc.option(RANGE, { nil: undefined }), RANGE, SUFFIX)
  .map(([prefix, host, container, suffix]) => `${prefix}${host === undefined ? '' : `${host}:`}${container}${suffix}`);
const text = fc.oneof(noise, shaped);

/** Values that hit each grammar's interesting cases, beside the random ones. */
const KNOWN = [
  '8080',
  '8080:80',
  '8080:80/udp',
  'em0:8080:80',
  'em0:8080:80/udp',
  '9000-9010:9000-9010',
  '9000-9010',
  '9010-9000',
  '9000-9010:80',
  '80:9000-9010',
  '9000-9010:9000-9020',
  'em0:8080:80:extra',
  '8080:80/tcp/udp',
  '127.0.0.1:8081:80',
  '[::1]::53/udp',
  '[::1]:80:80',
  '::1:80:80',
  '8000-8010:80',
  '8000-8010:80-90',
  '80/TCP',
  ':80',
  '::80',
  '127.0.0.1::80',
  '[127.0.0.1]:80:80',
  '[::1]80',
  'em0:80:80',
  'self:80:80',
  '0',
  '080',
  '65535',
  '65536',
  '1-65535',
  '65535-1',
  '5-5',
  '53/udp',
  '8000-8010/tcp',
  '80/icmp',
  '10.0.0.0/8',
  '10.0.0.1/8',
  '10.0.0.0/99',
  '2001:db8::/32',
  '2001:db8::/129',
  '::ffff:1.2.3.4',
  '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7::8',
  '1::2::3',
  'fe80::1%em0',
  '::',
  '0.0.0.0/0',
  '10.0.0.0/08',
  '1.2.3.04',
  '60000-50000',
  '49000-49900',
  '1:2:3:4:5:6:1.2.3.4',
  '::1.2.3.4',
  '1::1.2.3.4',
  '1:2:3:4:5::1.2.3.4',
  '1:2:3:4:5:6::1.2.3.4',
];

describe('the schema patterns agree with the grammars', () => {
  describe.each(cases)('%s', (_name, { def, grammar, unsayable }) => {
    const schema = schemaOf(def);
    const agree = (value: string): void => {
      const verdict = grammar(value);
      const accepted = schema(value);
      if (verdict === true) expect([value, accepted]).toEqual([value, true]);
      else if (verdict.every((code) => unsayable.includes(code))) expect([value, accepted]).toEqual([value, true]);
      else expect([value, accepted, verdict]).toEqual([value, false, verdict]);
    };

    it('on known values', () => {
      for (const value of KNOWN) agree(value);
    });

    it('on generated values', () => {
      fc.assert(fc.property(text, agree), { numRuns: 3000 });
    });
  });

  it('the random values reach both verdicts', () => {
    const kleene = schemaOf('kleeneSpec');
    const sample = fc.sample(text, { numRuns: 3000, seed: 14 });
    expect(sample.filter((t) => kleene(t)).length).toBeGreaterThan(10);
    expect(sample.filter((t) => !kleene(t)).length).toBeGreaterThan(10);
  });
});
