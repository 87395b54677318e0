import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ajvOptions, manifestSchema, validate } from '../../src/manifest/generated/validate-manifest.js';

const schema = JSON.parse(readFileSync('schema/pfexpose.schema.json', 'utf8')) as Record<string, unknown>;

/** Every property schema under a `properties` keyword, with its JSON pointer. */
function propertySchemas(node: unknown, pointer = ''): Array<[string, Record<string, unknown>]> {
  if (typeof node !== 'object' || node === null) return [];
  const found: Array<[string, Record<string, unknown>]> = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && typeof value === 'object' && value !== null) {
      for (const [name, property] of Object.entries(value)) {
        found.push([`${pointer}/properties/${name}`, property as Record<string, unknown>]);
      }
    }
    // `if` schemas are conditions that pick a branch, not properties a user writes.
    if (key !== 'examples' && key !== 'if') found.push(...propertySchemas(value, `${pointer}/${key}`));
  }
  return found;
}

describe('schema/pfexpose.schema.json', () => {
  it('is draft 2020-12 with a versioned $id', () => {
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema['$id']).toMatch(/\/v1\/pfexpose\.schema\.json$/);
  });

  const properties = propertySchemas(schema);
  it('has many properties', () => {
    expect(properties.length).toBeGreaterThan(30);
  });
  it.each(properties)('%s has a description and examples', (_pointer, property) => {
    expect(typeof property['description']).toBe('string');
    expect(Array.isArray(property['examples'])).toBe(true);
    expect((property['examples'] as unknown[]).length).toBeGreaterThan(0);
  });

  it('is the schema the generated validator was built from', () => {
    expect(manifestSchema).toEqual(schema);
  });
});

const examples = readdirSync('examples')
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map(
    (f) =>
      [f, parse(readFileSync(join('examples', f), 'utf8'), { version: '1.2', schema: 'core' }) as unknown] as const,
  );

const badDocuments: Array<[string, unknown]> = [
  ['no version', { containers: {} }],
  ['version 2', { version: 2 }],
  ['unknown key', { version: 1, contianers: {} }],
  ['bad container name', { version: 1, containers: { 'a b': {} } }],
  ['interface name too long', { version: 1, hosts: { h: { gateway: 'abcdefghijklmnop' } } }],
  ['ipv6 in ip', { version: 1, containers: { web: { ip: 'fd00::1' } } }],
  ['port 0', { version: 1, containers: { web: { ports: [0] } } }],
  ['long form without target', { version: 1, containers: { web: { ports: [{ published: 80 }] } } }],
  ['kleene with unknown key', { version: 1, containers: { web: { ports: [{ kleene: '80', protocol: 'udp' }] } } }],
  ['port entry of wrong type', { version: 1, containers: { web: { ports: [true] } } }],
  ['quote in a port name', { version: 1, containers: { web: { ports: [{ target: 80, name: 'a"b' }] } } }],
  ['newline in a host name', { version: 1, host: 'a\nb' }],
  ['brace in an interface', { version: 1, containers: { web: { ports: [{ target: 80, interface: 'em0}' }] } } }],
  ['hash in a container name', { version: 1, containers: { 'web#1': {} } }],
];

describe('the generated validator', () => {
  const runtime = new Ajv2020.default({ ...ajvOptions }).compile(schema);
  const generated = validate as unknown as typeof runtime;

  it.each(examples)('accepts examples/%s', (_name, data) => {
    expect(generated(data), JSON.stringify(generated.errors)).toBe(true);
    expect(runtime(data)).toBe(true);
  });

  it.each(badDocuments)('rejects %s like a runtime-compiled ajv', (_name, data) => {
    const ok = generated(data);
    const generatedErrors = (generated.errors ?? []).map((e) => [e.instancePath, e.keyword, e.params]);
    expect(ok).toBe(false);
    expect(runtime(data)).toBe(false);
    const runtimeErrors = (runtime.errors ?? []).map((e) => [e.instancePath, e.keyword, e.params]);
    expect(generatedErrors).toEqual(runtimeErrors);
  });
});
