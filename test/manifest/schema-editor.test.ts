// The editor experience, checked with the real yaml-language-server over LSP stdio: diagnostics
// where the CLI puts them, completion that offers every kind of port object and no junk, hover
// with each key's own title, and a modeline in each document of a multi-document file.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifestText } from '../../src/manifest/load-manifests.js';
import { YamlLanguageClient } from '../helpers/yaml-language-client.js';

const schemaPath = resolve('schema/pfexpose.schema.json');
const workspace = pathToFileURL(resolve('test')).href;
const uri = (name: string): string => `${workspace}/editor-${name}.yaml`;

// Each line a value the CLI refuses, which it points at as a whole (so columns can be compared).
const INVALID = [
  'version: 1',
  'hosts:',
  '  www1:',
  '    pool: 60000-50000',
  'containers:',
  '  web:',
  '    ip: 10.13.37.10',
  '    ip6: "1:2:3"',
  '    ports:',
  '      - target: abc',
  '        host_ip: 1.2.3',
  '        from: [10.0.0.0/99]',
  '',
].join('\n');

const COMPLETION = [
  'version: 1',
  'containers:',
  '  web:',
  '    ip: 10.13.37.10',
  '    ports:',
  '      - ',
  '      - target: 80',
  '        ',
  '',
].join('\n');

const MULTI = (modeline: string): string =>
  [
    modeline,
    'version: 1',
    'containers:',
    '  web:',
    '    ports: ["70000:80"]',
    '---',
    modeline,
    'version: 1',
    'containers:',
    '  db:',
    '    ports: ["8080:80/icmp"]',
    '',
  ].join('\n');

let glob: YamlLanguageClient;
let modeline: YamlLanguageClient;
beforeAll(async () => {
  // As README's VS Code setting does it: the schema for every manifest the glob matches.
  [glob, modeline] = await Promise.all([
    YamlLanguageClient.start(
      { validate: true, completion: true, hover: true, schemas: { [pathToFileURL(schemaPath).href]: 'editor-*.yaml' } },
      workspace,
    ),
    YamlLanguageClient.start({ validate: true, completion: true, hover: true }, workspace),
  ]);
  glob.open(uri('invalid'), INVALID);
  glob.open(uri('completion'), COMPLETION);
  modeline.open(uri('multi'), MULTI(`# yaml-language-server: $schema=${schemaPath}`));
  modeline.open(
    uri('first-only'),
    MULTI(`# yaml-language-server: $schema=${schemaPath}`).replace(/---\n#.*\n/, '---\n\n'),
  );
}, 20_000);
afterAll(async () => {
  await Promise.all([glob.stop(), modeline.stop()]);
});

describe('yaml-language-server with schema/pfexpose.schema.json', () => {
  it('marks each invalid value where pfexpose validate does, with the schema message', async () => {
    const editor = await glob.diagnosticsFor(uri('invalid'));
    const cli = loadManifestText(INVALID, 'editor.yaml').diagnostics;
    const asRange = (d: { line: number; column: number; endLine: number; endColumn: number }) =>
      `${d.line - 1}:${d.column - 1}-${d.endLine - 1}:${d.endColumn - 1}`;
    const editorRanges = editor
      .map((d) => `${d.range.start.line}:${d.range.start.character}-${d.range.end.line}:${d.range.end.character}`)
      .sort();
    expect(cli.map((d) => d.code)).toEqual([
      'invalid-pool',
      'invalid-address',
      'port-not-a-number',
      'port-address-invalid',
      'port-address-invalid',
    ]);
    expect(editorRanges).toEqual(cli.map(asRange).sort());
    // The schema's own words, never a raw regular expression.
    expect(editor.map((d) => d.message).filter((m) => /\(\?[:!=]|\[0-9\]/.test(m))).toEqual([]);
    expect(editor.find((d) => d.range.start.line === 3)?.message).toMatch(/^Not a pool: write START-END/);
  });

  it('offers kleene, docker and the long form in a new port entry, and no [object Object]', async () => {
    const fresh = (await glob.completion(uri('completion'), { line: 5, character: 8 })).map((i) => i.label);
    expect(fresh).toEqual(expect.arrayContaining(['kleene', 'docker', 'target', 'published']));
    const inLongForm = (await glob.completion(uri('completion'), { line: 7, character: 8 })).map((i) => i.label);
    expect(inLongForm).toEqual(expect.arrayContaining(['published', 'protocol', 'host_ip']));
    expect(inLongForm).not.toContain('kleene');
    const document = (await glob.completion(uri('completion'), { line: 2, character: 4 })).map((i) => i.label);
    for (const labels of [fresh, inLongForm, document]) {
      expect(labels.filter((l) => l.includes('[object Object]'))).toEqual([]);
    }
  });

  it('titles each hover with the key it is on', async () => {
    const titleAt = async (line: number, character: number): Promise<string | undefined> => {
      const hover = await glob.hover(uri('invalid'), { line, character });
      const text = typeof hover?.contents === 'string' ? hover.contents : hover?.contents.value;
      return /^#### (.*)$/m.exec(text ?? '')?.[1];
    };
    expect(await titleAt(3, 6)).toBe('Host port pool');
    expect(await titleAt(8, 6)).toBe('Published ports');
    expect(await titleAt(9, 10)).toBe('Container port');
    expect(await titleAt(10, 10)).toBe('Host address');
  });

  it('checks every document that has its own modeline, the second one too', async () => {
    const lines = async (name: string) =>
      (await modeline.diagnosticsFor(uri(name))).map((d) => d.range.start.line).sort((a, b) => a - b);
    expect(await lines('multi')).toEqual([4, 10]);
    // Why README puts the modeline in every document: one at the top of the file covers the first.
    expect(await lines('first-only')).toEqual([4]);
  });
});
