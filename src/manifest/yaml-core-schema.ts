// How manifests read YAML, shared by both readers (the line scanner and yaml's composer): the
// options, the nesting limit, and how a plain scalar becomes a value.
import { Document, isScalar } from 'yaml';
import type { ScalarTag } from 'yaml';

/** The YAML options every manifest is read with. */
export const YAML_OPTIONS = {
  version: '1.2',
  schema: 'core',
  // Duplicate keys are found by the name the plain data gives them (so `1` and `"1"` clash too),
  // in toPlainData; yaml's own check compares values and would miss that.
  uniqueKeys: false,
  strict: true,
  prettyErrors: false,
  merge: false,
  intAsBigInt: false,
  maxAliasCount: 100,
} as const;

/** Collections nested deeper than this are refused (the composer's path reports them). */
export const MAX_DEPTH = 64;

// The schema a composer uses, taken from yaml itself so that plain scalars resolve exactly as they
// do there (null, booleans, octal/decimal/hex integers, floats).
const settings = new Document(undefined, YAML_OPTIONS);
const scalarTags = settings.schema.tags.filter(
  (tag): tag is ScalarTag =>
    !('collection' in tag && tag.collection !== undefined) && tag.default === true && tag.test !== undefined,
);
const keyTags = settings.schema.tags.filter(
  (tag): tag is ScalarTag =>
    !('collection' in tag && tag.collection !== undefined) &&
    (tag.default === true || tag.default === 'key') &&
    tag.test !== undefined,
);

/**
 * A plain scalar's value under the core schema, through the composer's own tags, then
 * plainNumberOrText. onError is called where yaml would report a problem with the value.
 */
export function resolvePlain(source: string, atKey: boolean, onError: () => never): unknown {
  const tags = atKey ? keyTags : scalarTags;
  for (const tag of tags) {
    if (tag.test?.test(source) !== true) continue;
    const resolved: unknown = tag.resolve(source, onError, settings.options);
    return plainNumberOrText(isScalar(resolved) ? resolved.value : resolved, source);
  }
  return source;
}

const PLAIN_DECIMAL = /^(?:0|-?[1-9][0-9]*)$/;

/**
 * Manifests read numbers only in plain decimal (`80`, `8080`). YAML's core schema also reads
 * `080`, `+80`, `0x50`, `0o17`, `1e3` and `80.0` as numbers, which would slip a port past the
 * rules that refuse leading zeros and signs, and rename a container called `0x10` to `16`: such a
 * plain scalar keeps the text it was written with, so a port written that way gets the port
 * grammar's error and a name stays as written. Both readers apply this.
 */
export function plainNumberOrText(value: unknown, source: string): unknown {
  // A decimal too long for a double (a container named 12345678901234567890) keeps its text too.
  return typeof value === 'number' && (!PLAIN_DECIMAL.test(source) || !Number.isSafeInteger(value)) ? source : value;
}
