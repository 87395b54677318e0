// scripts/build-validator.mjs writes the standalone validator that ships in dist/. ajv is only a
// devDependency, so the generated code must load nothing at run time: the runtime helpers ajv's code
// would require are written into it, and a schema needing one the script does not know stops the build.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(root, 'scripts', 'build-validator.mjs');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pfexpose-build-validator-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

type Validate = (data: unknown) => boolean;

/** Runs the script on a schema; the generated module is written as .mjs so that node can import it. */
async function generate(schema: object): Promise<{ code: string; validate: Validate }> {
  const schemaFile = join(dir, 'schema.json');
  const out = join(dir, `validate-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(schemaFile, JSON.stringify(schema));
  execFileSync(process.execPath, [script, '--schema', schemaFile, '--out', out], { stdio: 'pipe' });
  const module = (await import(pathToFileURL(out).href)) as { validate: Validate };
  return { code: readFileSync(out, 'utf8'), validate: module.validate };
}

const draft = 'https://json-schema.org/draft/2020-12/schema';

describe('scripts/build-validator.mjs', () => {
  it('generates a validator for the project schema that imports nothing', () => {
    const generated = readFileSync(join(root, 'src', 'manifest', 'generated', 'validate-manifest.ts'), 'utf8');
    expect(generated).not.toMatch(/^\s*import\b|\brequire\(|from\s*["']ajv/m);
    const built = readFileSync(join(root, 'dist', 'manifest', 'generated', 'validate-manifest.js'), 'utf8');
    expect(built).not.toMatch(/^\s*import\b|\brequire\(|from\s*["']ajv/m);
  });

  // Each helper's schema, and values on both sides of it: the generated code must agree with ajv
  // compiling the same schema at run time (where the helpers come from ajv itself).
  const cases: [string, { schema: object; values: unknown[] }][] = [
    [
      'ucs2length (maxLength, minLength)',
      {
        schema: { $schema: draft, type: 'string', minLength: 2, maxLength: 3 },
        values: [
          'a',
          'ab',
          'abc',
          'abcd',
          '😀',
          '😀😀',
          '😀😀😀',
          '😀😀😀😀',
          '\ud800',
          '\ud800\ud800',
          'a\udc00b',
          '',
        ],
      },
    ],
    [
      'equal (uniqueItems, enum and const of objects)',
      {
        schema: {
          $schema: draft,
          type: 'object',
          properties: {
            list: { type: 'array', uniqueItems: true },
            pick: { enum: [{ a: 1, b: [1, 2] }, [1, { c: null }], 'x'] },
            fixed: { const: { k: [true, { n: 1 }] } },
          },
        },
        values: [
          { list: [1, 2, 3] },
          { list: [1, 2, 1] },
          { list: [{ a: 1 }, { a: 1 }] },
          { list: [{ a: 1 }, { a: 2 }] },
          {
            list: [
              [1, 2],
              [1, 2],
            ],
          },
          {
            list: [
              [1, 2],
              [2, 1],
            ],
          },
          {
            list: [
              { a: 1, b: 2 },
              { b: 2, a: 1 },
            ],
          },
          { list: [{ a: 1 }, { a: 1, b: 2 }] },
          { list: [[], {}] },
          { list: [null, null] },
          { list: ['1', 1] },
          { pick: { b: [1, 2], a: 1 } },
          { pick: { a: 1, b: [2, 1] } },
          { pick: [1, { c: null }] },
          { pick: [1, { c: 0 }] },
          { pick: 'x' },
          { pick: { a: 1 } },
          { fixed: { k: [true, { n: 1 }] } },
          { fixed: { k: [true, { n: 1, m: 2 }] } },
          { fixed: { k: [true] } },
        ],
      },
    ],
  ];

  it.each(cases)('writes %s into the code, agreeing with ajv', async (_name, { schema, values }) => {
    const { code, validate } = await generate(schema);
    expect(code).not.toMatch(/\brequire\(|^\s*import\b/m);
    const runtime = new Ajv2020.default({ strict: true, allowUnionTypes: true }).compile(schema);
    for (const value of values) expect([value, validate(value)]).toEqual([value, runtime(value)]);
  });

  it('stops the build when the code would need a helper it cannot write out', () => {
    const schemaFile = join(dir, 'schema.json');
    const out = join(dir, 'validate.mjs');
    // An $async schema's code throws ajv's own error class, which must come from ajv.
    writeFileSync(schemaFile, JSON.stringify({ $schema: draft, $async: true, type: 'string', minLength: 1 }));
    const result = spawnSync(process.execPath, [script, '--schema', schemaFile, '--out', out], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^build-validator: .* needs ajv\/dist\/runtime\/validation_error at run time/);
    expect(() => readFileSync(out)).toThrow();
  });
});
