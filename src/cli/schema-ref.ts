// Where the running pfexpose keeps its manifest schema, as a yaml-language-server modeline
// reference from a directory. The schema ships in the package's schema/ directory, two levels
// above this module both in src/cli (tests) and in dist/cli (the built CLI). The reference is
// relative when the directory and the schema share a top-level directory (a repository with
// pfexpose in its node_modules can commit it), absolute otherwise (a global install in /usr/local).
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCHEMA_PATH = fileURLToPath(new URL('../../schema/pfexpose.schema.json', import.meta.url));

/** The schemas of pfexpose's JSON outputs (schema/output/NAME.schema.json); defs holds what they share. */
export const OUTPUT_SCHEMAS = [
  'validate',
  'compile',
  'plan',
  'saved-plan',
  'apply',
  'confirm',
  'ls',
  'port',
  'env',
  'status',
  'history',
  'lock',
  'defs',
] as const;
export type OutputSchema = (typeof OUTPUT_SCHEMAS)[number];

/** Where the running pfexpose keeps the schema of one of its outputs. */
export function outputSchemaPath(name: OutputSchema): string {
  return fileURLToPath(new URL(`../../schema/output/${name}.schema.json`, import.meta.url));
}

/** The schema's path from `directory` (absolute), with `/` separators. */
export function schemaRefFrom(directory: string, schema = SCHEMA_PATH): string {
  const top = (path: string): string => path.split(sep)[1] ?? '';
  const path = top(directory) === top(schema) ? relative(directory, schema) : schema;
  return path.split(sep).join('/');
}
