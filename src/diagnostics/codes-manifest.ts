// Codes for reading files, parsing YAML and validating against the schema (src/manifest/).
import type { CodeInfo } from './codes.js';

export const manifestCodes = {
  'yaml-syntax': { summary: 'the file is not valid YAML' },
  'schema': { summary: 'a value does not match the manifest schema' },
} as const satisfies Record<string, CodeInfo>;
