import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ajvOptions, manifestSchema, validate } from '../../src/manifest/generated/validate-manifest.js';

const schema = JSON.parse(readFileSync('schema/pfexpose.schema.json', 'utf8')) as Record<string, unknown>;

/**
 * Definitions that only add checks to keys described elsewhere (which syntax a container's short
 * port entries are read in): their `properties` repeat no documentation.
 */
const CHECK_ONLY_DEFS = new Set([
  'kleeneShortPorts',
  'dockerShortPorts',
  'containerInKleeneDocument',
  'containerInDockerDocument',
]);

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
    // `if` schemas are conditions that pick a branch, not properties a user writes; the root's
    // then/else and the check-only definitions pick the syntax of short port entries.
    const checkOnly =
      key === 'if' || (pointer === '' && (key === 'then' || key === 'else')) || CHECK_ONLY_DEFS.has(key);
    if (key !== 'examples' && key !== 'defaultSnippets' && !checkOnly) {
      found.push(...propertySchemas(value, `${pointer}/${key}`));
    }
  }
  return found;
}

/** Every node with an examples or defaultSnippets keyword, with its JSON pointer. */
function annotatedNodes(node: unknown, pointer = ''): Array<[string, Record<string, unknown>]> {
  if (typeof node !== 'object' || node === null) return [];
  const record = node as Record<string, unknown>;
  const own: Array<[string, Record<string, unknown>]> =
    'examples' in record || 'defaultSnippets' in record ? [[pointer, record]] : [];
  return [
    ...own,
    ...Object.entries(record)
      .filter(([key]) => key !== 'examples' && key !== 'defaultSnippets' && key !== 'const' && key !== 'enum')
      .flatMap(([key, value]) =>
        annotatedNodes(value, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`),
      ),
  ];
}

const isPlainObject = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value);

describe('schema/pfexpose.schema.json', () => {
  it('is draft 2020-12 whose $id is the address of this file in the project repository', () => {
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { repository: { url: string } };
    const repository = /github\.com\/([^/]+\/[^/.]+)/.exec(pkg.repository.url)?.[1];
    expect(schema['$id']).toBe(`https://raw.githubusercontent.com/${repository}/main/schema/pfexpose.schema.json`);
  });

  const properties = propertySchemas(schema);
  it('has many properties', () => {
    expect(properties.length).toBeGreaterThan(30);
  });
  it.each(properties)('%s has a title, a description, its markdown and examples', (_pointer, property) => {
    expect(typeof property['title']).toBe('string');
    expect(typeof property['description']).toBe('string');
    expect(property['markdownDescription']).toBe(property['description']);
    const examples = (property['examples'] ?? []) as unknown[];
    const snippets = (property['defaultSnippets'] ?? []) as unknown[];
    expect(examples.length + snippets.length).toBeGreaterThan(0);
  });

  const defs = Object.entries(schema['$defs'] as Record<string, Record<string, unknown>>);
  it.each(defs)('$defs/%s has a title and a description', (_name, def) => {
    expect(typeof def['title']).toBe('string');
    expect(typeof def['description']).toBe('string');
  });

  // yaml-language-server labels an object example "[object Object]": objects are offered as
  // defaultSnippets, which have labels, and every example and snippet is a value the node accepts.
  const annotated = annotatedNodes(schema);
  const ajv = new Ajv2020.default({ ...ajvOptions });
  ajv.addSchema(schema);
  it.each(annotated)('%s offers only complete, valid examples, none a bare object', (pointer, node) => {
    const check = ajv.compile({ $ref: `${schema['$id'] as string}#${pointer}` });
    const examples = (node['examples'] ?? []) as unknown[];
    const snippets = (node['defaultSnippets'] ?? []) as { label?: unknown; body?: unknown }[];
    expect(examples.filter(isPlainObject)).toEqual([]);
    expect(isPlainObject(node['default'])).toBe(false);
    for (const example of examples) expect([example, check(example)]).toEqual([example, true]);
    for (const snippet of snippets) {
      expect(typeof snippet.label).toBe('string');
      expect([snippet.body, check(snippet.body)]).toEqual([snippet.body, true]);
    }
  });
  it('has examples on many nodes', () => {
    expect(annotated.length).toBeGreaterThan(40);
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
