import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDiagnosticCode } from '../../src/diagnostics/codes.js';
import { portCodes } from '../../src/diagnostics/codes-ports.js';
import { parseDockerPort } from '../../src/ports/parse-docker-port.js';
import { PF_KEYWORDS } from '../../src/ports/interface-name.js';
import { parseKleenePort } from '../../src/ports/parse-kleene-port.js';
import { parsePortObject, parsePortSpec } from '../../src/ports/parse-long-port.js';
import type { PortSpecResult } from '../../src/ports/port-spec.js';
import { printPortSpec } from '../../src/ports/print-port-spec.js';

/** Pieces the grammars care about, so random specs reach deep into the parsers. */
const piece = fc.constantFrom(
  '8080',
  '80',
  '1',
  '65535',
  '65536',
  '0',
  '080',
  '+',
  '-',
  ':',
  '::',
  '/',
  'tcp',
  'udp',
  'sctp',
  'TCP',
  'em0',
  'vtnet0.100',
  '[',
  ']',
  '127.0.0.1',
  '::1',
  'fe80::1',
  '%',
  ' ',
  '\n',
  '9000-9010',
  '2001:db8::',
  '0.0.0.0',
  'a',
  '.',
  '1.2.3.4',
);
const specSoup = fc.array(piece, { maxLength: 10 }).map((parts) => parts.join(''));

const anyString = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), specSoup);

/** Every invisible or line-breaking character a message must never carry raw. */
const RAW_CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u00a0\ud800-\udfff]/u;

function checkResult(result: PortSpecResult, text?: string): void {
  if (result.ok) return;
  expect(result.errors.length).toBeGreaterThan(0);
  for (const error of result.errors) {
    expect(isDiagnosticCode(error.code)).toBe(true);
    expect(error.message).not.toMatch(RAW_CONTROL);
    expect(error.start).toBeLessThanOrEqual(error.end);
    expect(error.start).toBeGreaterThanOrEqual(0);
    if (text !== undefined && error.key === undefined) expect(error.end).toBeLessThanOrEqual(text.length);
  }
}

describe('no parser throws, every error is registered and printable', () => {
  it('parseKleenePort on any string', () => {
    fc.assert(
      fc.property(anyString, (text) => checkResult(parseKleenePort(text), text)),
      { numRuns: 3000 },
    );
  });

  it('parseDockerPort on any string', () => {
    fc.assert(
      fc.property(anyString, (text) => checkResult(parseDockerPort(text), text)),
      { numRuns: 3000 },
    );
  });

  it('parsePortSpec on any number', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double(), fc.integer()),
        fc.constantFrom<'kleene' | 'docker'>('kleene', 'docker'),
        (n, syntax) => checkResult(parsePortSpec(n, syntax)),
      ),
    );
  });

  it('parsePortObject on anything', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withObjectString: true }), (value) =>
        checkResult(parsePortObject(value)),
      ),
      {
        numRuns: 2000,
      },
    );
  });

  it('parsePortObject on objects with our keys and arbitrary values', () => {
    const key = fc.constantFrom(
      'target',
      'published',
      'host_ip',
      'protocol',
      'name',
      'interface',
      'interfaces',
      'from',
      'family',
      'mode',
      'app_protocol',
      'kleene',
      'docker',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
    );
    const value = fc.oneof(
      anyString,
      fc.integer({ min: -2, max: 70000 }),
      fc.array(fc.oneof(anyString, fc.constant('10.0.0.0/8'), fc.constant('em0')), { maxLength: 3 }),
      fc.anything(),
    );
    const entries = fc.array(fc.tuple(key, value), { maxLength: 6 });
    fc.assert(
      fc.property(entries, (pairs) => {
        // defineProperty makes `__proto__` an own key, as YAML and JSON.parse do.
        const object = {};
        for (const [k, v] of pairs)
          Object.defineProperty(object, k, { value: v, enumerable: true, configurable: true, writable: true });
        checkResult(parsePortObject(object));
      }),
      { numRuns: 3000 },
    );
  });

  it('every registered port code has a summary', () => {
    for (const [code, info] of Object.entries(portCodes)) {
      expect(code).toMatch(/^port-[a-z0-9-]+$/);
      expect(info.summary.length).toBeGreaterThan(10);
    }
  });
});

const port = fc.integer({ min: 1, max: 65535 });
const range = fc
  .tuple(port, fc.integer({ min: 0, max: 20 }))
  .map(([start, extra]) => ({ start, end: Math.min(65535, start + extra) }));
const rangeText = (r: { start: number; end: number }): string =>
  r.start === r.end ? String(r.start) : `${r.start}-${r.end}`;
/** Interface names: the character set pf allows, minus the words of pf's grammar. */
const iface = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.]{0,14}$/).filter((name) => !PF_KEYWORDS.has(name));
const ipv4 = fc.ipV4();
const ipv6 = fc.ipV6().filter((a) => !a.includes('%'));
const protocolSuffix = (allowed: string[]) =>
  fc.oneof(fc.constant(''), fc.constantFrom(...allowed.map((p) => `/${p}`)));

/** Valid Kleene texts: equal-length ranges, optional interface, tcp or udp. */
const kleeneText = fc
  .tuple(
    fc.option(iface, { nil: undefined }),
    range,
    fc.integer({ min: 1, max: 65535 }),
    fc.boolean(),
    protocolSuffix(['tcp', 'udp']),
  )
  .map(([name, host, containerStart, same, proto]) => {
    const length = host.end - host.start;
    const start = Math.min(containerStart, 65535 - length);
    const container = { start, end: start + length };
    const ports = same && name === undefined ? rangeText(host) : `${rangeText(host)}:${rangeText(container)}`;
    return `${name === undefined ? '' : `${name}:`}${ports}${proto}`;
  });

/** Valid Docker texts: every documented shape, bracketed and bare IPv6. */
const dockerText = fc
  .tuple(
    fc.oneof(
      fc.constant(''),
      ipv4,
      ipv6.map((a) => `[${a}]`),
      ipv6,
    ),
    fc.oneof(fc.constant('same'), fc.constant('pool'), fc.constant('ephemeral')),
    range,
    port,
    protocolSuffix(['tcp', 'udp', 'sctp', 'UDP']),
  )
  .map(([address, shape, container, hostStart, proto]) => {
    const length = container.end - container.start;
    let host = '';
    if (shape === 'same')
      host = rangeText({
        start: Math.min(hostStart, 65535 - length),
        end: Math.min(hostStart, 65535 - length) + length,
      });
    if (shape === 'pool') host = `${Math.min(hostStart, 65000)}-${Math.min(hostStart, 65000) + 10}`;
    const containerText = shape === 'pool' ? String(container.start) : rangeText(container);
    if (address === '') return host === '' ? `${containerText}${proto}` : `${host}:${containerText}${proto}`;
    return `${address}:${host}:${containerText}${proto}`;
  })
  // A bare IPv6 address that ends in a group which looks like a port is ambiguous by design.
  .filter((text) => parseDockerPort(text).ok);

function reparse(printed: unknown, syntax: 'kleene' | 'docker' | 'long'): PortSpecResult {
  if (typeof printed === 'string') {
    if (syntax === 'long') throw new Error('long form printed as a string');
    return parsePortSpec(printed, syntax);
  }
  return parsePortObject(printed);
}

describe('print then parse is the identity on parsed specs', () => {
  it('kleene texts', () => {
    fc.assert(
      fc.property(kleeneText, (text) => {
        const first = parseKleenePort(text);
        expect(first.ok).toBe(true);
        if (!first.ok) return;
        const printed = printPortSpec(first.spec);
        expect(typeof printed).toBe('string');
        expect(reparse(printed, 'kleene')).toEqual(first);
      }),
      { numRuns: 2000 },
    );
  });

  it('docker texts', () => {
    fc.assert(
      fc.property(dockerText, (text) => {
        const first = parseDockerPort(text);
        if (!first.ok) return;
        const printed = printPortSpec(first.spec);
        expect(typeof printed).toBe('string');
        expect(reparse(printed, 'docker')).toEqual(first);
      }),
      { numRuns: 2000 },
    );
  });

  it('random token soup that happens to parse', () => {
    fc.assert(
      fc.property(specSoup, (text) => {
        for (const syntax of ['kleene', 'docker'] as const) {
          const first = parsePortSpec(text, syntax);
          if (first.ok) expect(reparse(printPortSpec(first.spec), syntax)).toEqual(first);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('long-form and explicit-syntax objects', () => {
    const network = fc.oneof(
      ipv4,
      fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`),
      fc.tuple(ipv6, fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`),
    );
    const longObject = fc.record(
      {
        target: fc.oneof(port, range.map(rangeText)),
        published: fc.oneof(port, range.map(rangeText)),
        host_ip: fc.oneof(ipv4, ipv6),
        protocol: fc.constantFrom('tcp', 'udp', 'sctp'),
        name: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/),
        interfaces: fc.uniqueArray(iface, { minLength: 1, maxLength: 3 }),
        from: fc.array(network, { minLength: 1, maxLength: 3 }),
        family: fc.constantFrom('inet', 'inet6'),
        mode: fc.constant('host'),
        app_protocol: fc.constant('http'),
      },
      { requiredKeys: ['target'] },
    );
    const explicit = fc.record(
      {
        kleene: kleeneText,
        from: fc.array(network, { minLength: 1, maxLength: 3 }),
        family: fc.constantFrom('inet', 'inet6'),
        name: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/),
      },
      { requiredKeys: ['kleene'] },
    );
    let valid = 0;
    fc.assert(
      fc.property(fc.oneof(longObject, explicit), (object) => {
        const first = parsePortObject(object);
        if (!first.ok) return;
        valid++;
        expect(reparse(printPortSpec(first.spec), first.spec.syntax)).toEqual(first);
      }),
      { numRuns: 3000 },
    );
    // The generator must produce enough valid entries for the property to mean something.
    expect(valid).toBeGreaterThan(300);
  });
});
