// The schema owns a port entry's shape (issue 12): whatever keys and value types a long-form or
// explicit-syntax entry has, users see the schema's words for its shape, never the port grammar's
// shape guards (port-long-type, -key, -empty, -missing-target), which only keep the grammar safe
// on entries the schema flagged.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadManifestText } from '../../src/manifest/load-manifests.js';

const GUARD_CODES = new Set(['port-long-type', 'port-long-key', 'port-long-empty', 'port-long-missing-target']);

const KEYS = [
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
  'container_port',
  'host-ip',
] as const;

/** YAML flow values of every kind, right and wrong for the keys above. */
const VALUE = fc.constantFrom(
  '80',
  '"8000-8010"',
  '0',
  'true',
  'null',
  '[]',
  '[em0]',
  '[1]',
  '["10.0.0.0/8"]',
  '{a: 1}',
  '"127.0.0.1"',
  'tcp',
  'ingress',
  'host',
  'inet6',
  'em0',
  '"em0:8080:80"',
  '1.5',
  '""',
);

function entryText(pairs: [string, string][]): string {
  return `{${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')}}`;
}

function manifest(entry: string): string {
  return `version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ip6: 2001:db8::2\n    ports:\n      - ${entry}\n`;
}

describe('the schema owns the port entry shape', () => {
  it.each([
    ['a wrong type', '{target: true}', 'schema'],
    ['an unknown key', '{target: 80, host_port: 8080}', 'unknown-key'],
    ['no target', '{published: 80}', 'missing-key'],
    ['an empty list', '{target: 80, from: []}', 'schema'],
    ['explicit syntax of the wrong type', '{kleene: [80]}', 'schema'],
  ])('%s: the schema reports it, the grammar guard does not', (_name, entry, code) => {
    const codes = loadManifestText(manifest(entry), 'm.yaml').diagnostics.map((d) => d.code);
    expect(codes).toContain(code);
    expect(codes.filter((c) => GUARD_CODES.has(c))).toEqual([]);
  });

  it('holds for generated entries', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.constantFrom(...KEYS), VALUE), { selector: ([k]) => k, maxLength: 5 }),
        (pairs) => {
          const { diagnostics } = loadManifestText(manifest(entryText(pairs)), 'm.yaml');
          expect(diagnostics.filter((d) => GUARD_CODES.has(d.code))).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });
});
