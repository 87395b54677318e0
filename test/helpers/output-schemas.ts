// The JSON Schemas of pfexpose's outputs (schema/output/), compiled once with ajv in strict mode
// with the options the manifest schema is compiled with, for tests that check real outputs against
// them; and the mutations that show a schema is not vacuous (an unknown key, a key left out).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { ajvOptions } from '../../src/manifest/generated/validate-manifest.js';

export const OUTPUT_SCHEMA_DIR = join('schema', 'output');
/** The $id of every output schema is this followed by its file name. */
export const OUTPUT_SCHEMA_BASE = 'https://raw.githubusercontent.com/pfexpose/pfexpose/main/schema/output/';

export type OutputSchemaName =
  | 'validate'
  | 'compile'
  | 'plan'
  | 'saved-plan'
  | 'apply'
  | 'confirm'
  | 'ls'
  | 'port'
  | 'env'
  | 'status'
  | 'history'
  | 'lock';

/** Every schema file of schema/output/, by file name. */
export function outputSchemaFiles(): Map<string, Record<string, unknown>> {
  const files = readdirSync(OUTPUT_SCHEMA_DIR)
    .filter((f) => f.endsWith('.schema.json'))
    .sort();
  return new Map(
    files.map((f) => [f, JSON.parse(readFileSync(join(OUTPUT_SCHEMA_DIR, f), 'utf8')) as Record<string, unknown>]),
  );
}

let compiled: Map<string, ValidateFunction> | null = null;

/** Compiles every output schema (each may refer to the others); throws on what strict mode refuses. */
export function compileOutputSchemas(): Map<string, ValidateFunction> {
  if (compiled !== null) return compiled;
  const ajv = new Ajv2020.default({ ...ajvOptions });
  const schemas = outputSchemaFiles();
  for (const schema of schemas.values()) ajv.addSchema(schema);
  const validators = new Map<string, ValidateFunction>();
  for (const [file, schema] of schemas) {
    const validate = ajv.getSchema(String(schema['$id']));
    if (validate === undefined) throw new Error(`${file}: ajv did not compile it`);
    validators.set(file, validate);
  }
  compiled = validators;
  return validators;
}

/** What the schema says is wrong with a document: `POINTER: message` lines, empty when it conforms. */
export function schemaErrors(name: OutputSchemaName, document: unknown): string[] {
  const validate = compileOutputSchemas().get(`${name}.schema.json`);
  if (validate === undefined) throw new Error(`no schema ${name}.schema.json in ${OUTPUT_SCHEMA_DIR}`);
  if (validate(document)) return [];
  return (validate.errors ?? []).map((e) => {
    const params = e.keyword === 'unevaluatedProperties' || e.keyword === 'additionalProperties' ? e.params : null;
    return `${e.instancePath || '/'}: ${e.message ?? e.keyword}${params === null ? '' : ` ${JSON.stringify(params)}`}`;
  });
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Each object of a document with its JSON pointer, the document itself first. */
function objectsOf(value: Json, pointer = ''): Array<[string, { [key: string]: Json }]> {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => objectsOf(item, `${pointer}/${i}`));
  return [
    [pointer, value],
    ...Object.entries(value).flatMap(([key, item]) => objectsOf(item, `${pointer}/${key.replaceAll('/', '~1')}`)),
  ];
}

/** A deep copy of the document with `change` made to the object at `pointer`. */
function mutated(document: Json, pointer: string, change: (object: { [key: string]: Json }) => void): Json {
  const copy = structuredClone(document);
  const target = objectsOf(copy).find(([at]) => at === pointer)?.[1];
  if (target === undefined) throw new Error(`no object at ${pointer}`);
  change(target);
  return copy;
}

export interface Mutations {
  /** An object with an unknown key added, accepted by the schema (should be none). */
  unknownKeyAccepted: string[];
  /** An object with one of its keys removed, accepted by the schema: `POINTER/KEY`. */
  removalAccepted: string[];
}

/**
 * Tries, on every object of a conforming document, an unknown key and the removal of each key, and
 * says which the schema accepted. `openMaps` are pointers (a regular expression) of objects whose
 * keys are data (names), where any key is fine.
 */
export function tryMutations(name: OutputSchemaName, document: unknown, openMaps: RegExp | null = null): Mutations {
  const doc = document as Json;
  const result: Mutations = { unknownKeyAccepted: [], removalAccepted: [] };
  for (const [pointer, object] of objectsOf(doc)) {
    const open = openMaps !== null && openMaps.test(pointer);
    if (!open) {
      const added = mutated(doc, pointer, (o) => void (o['unexpectedKey'] = 1));
      if (schemaErrors(name, added).length === 0) result.unknownKeyAccepted.push(pointer || '/');
    }
    for (const key of Object.keys(object)) {
      if (open) continue;
      const removed = mutated(doc, pointer, (o) => void delete o[key]);
      if (schemaErrors(name, removed).length === 0) result.removalAccepted.push(`${pointer}/${key}`);
    }
  }
  return result;
}
