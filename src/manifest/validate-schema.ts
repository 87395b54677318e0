// Validates a document's data with the validator generated from schema/ at build time and turns
// ajv's errors into diagnostics placed on the YAML node at fault (the key for an unknown key, the
// value otherwise), each saying what is wrong and what would be right.
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { LineCounter } from 'yaml';
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import { compareStrings } from '../text/compare-strings.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';
import { describeAddressProblem, describeNetworkProblem, parseAddress } from '../ports/address.js';
import { parsePortRange } from '../ports/port-number.js';
import { describeInterfaceNameProblem, PF_KEYWORDS } from '../ports/interface-name.js';
import { describeSchemaType, describeValue } from '../text/describe-value.js';
import { quoteText } from '../text/quote-text.js';
import { manifestSchema, validate } from './generated/validate-manifest.js';
import { closestWord, suggest } from '../text/did-you-mean.js';
import { headSpan, joinPointer, locatePointer, nodeSpan, pointerSegments } from './source-span.js';
import type { TreeNode } from './yaml-tree.js';

const validateManifest = validate as unknown as ValidateFunction;

export interface SchemaInput {
  file: string;
  text: string;
  lineCounter: LineCounter;
  /** The document's top node (positions), null for an empty document. */
  root: TreeNode | null;
  data: unknown;
}

export interface SchemaResult {
  diagnostics: Diagnostic[];
  /** JSON pointers of values found wrong; later stages skip them (and what lies under them). */
  flagged: string[];
}

interface Translated {
  code: DiagnosticCode;
  message: string;
  hint?: string;
  /** For an unknown key: the key it most likely meant. */
  suggestion?: string;
  /** Where to point: the key of the pair, the value, or the head of the enclosing mapping. */
  at: 'key' | 'value' | 'object';
  pointer: string;
  flag: boolean;
}

/** Keywords whose errors only repeat what the errors of their subschemas say. */
const WRAPPERS = new Set(['if', 'then', 'else', 'anyOf', 'oneOf', 'allOf', 'propertyNames', 'not']);

/**
 * Definitions whose string forms the port, address and network grammars judge after the schema:
 * their patterns are there for editors, which have no grammar. The CLI leaves such values to the
 * grammar, whose diagnostics say more (the exact column, a code per mistake, the corrected entry).
 */
const GRAMMAR_OWNED = new Set(['kleeneSpec', 'dockerSpec', 'portOrRange', 'exposeEntry', 'containerNetwork']);

export function validateSchema(input: SchemaInput): SchemaResult {
  if (validateManifest(input.data)) return { diagnostics: [], flagged: [] };
  const errors = (validateManifest.errors ?? []).filter(
    (e) => !WRAPPERS.has(e.keyword) && !isGrammarOwned(e) && isChosenBranch(e, input.data),
  );
  const translated = errors.map((e) => translate(e, input.data));

  // A misspelt key usually is the missing one (or a kleene/docker key): say "did you mean
  // target?" once, not twice.
  const misspelt = new Set(translated.filter((t) => t.suggestion !== undefined).map((t) => parentPointer(t.pointer)));
  const kept = translated.filter((t) => t.code !== 'missing-key' || !misspelt.has(t.pointer));

  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const t of kept) {
    const span = place(input, t);
    const identity = `${t.code}\u0000${t.message}\u0000${span.line}:${span.column}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    const diagnostic: Diagnostic = { code: t.code, severity: 'error', message: t.message, ...span, pointer: t.pointer };
    if (t.hint !== undefined) diagnostic.hint = t.hint;
    diagnostics.push(diagnostic);
  }
  return { diagnostics, flagged: [...new Set(kept.filter((t) => t.flag).map((t) => t.pointer))] };
}

/**
 * Host addresses and source networks: a value that does not even have an address's characters is
 * the schema's to report (`invalid-address`); one that has them is the port grammar's, which says
 * which part is wrong (`port-address-invalid`).
 */
const ADDRESS_SHAPES: Readonly<Record<string, RegExp>> = {
  hostAddress: /^[0-9A-Fa-f:.]+$/,
  network: /^[0-9A-Fa-f:.]+(\/[0-9]+)?$/,
};

function isGrammarOwned(error: ErrorObject): boolean {
  if (error.keyword === 'pattern') {
    const def = defName(error) ?? '';
    const shape = ADDRESS_SHAPES[def];
    if (shape !== undefined) return typeof error.data === 'string' && shape.test(error.data);
    return GRAMMAR_OWNED.has(def);
  }
  // `{kleene: 0}`: the grammar says what is wrong with the number, as it does for the text.
  const last = pointerSegments(error.instancePath).at(-1);
  return (error.keyword === 'minimum' || error.keyword === 'maximum') && (last === 'kleene' || last === 'docker');
}

const PORT_ENTRY = /^\/containers\/[^/]+\/ports\/(?:0|[1-9][0-9]*)$/;

/** Each kind of port object (schema: portObject's anyOf), by the key that marks it, with its keys. */
const PORT_OBJECT_KINDS: ReadonlyMap<string, readonly string[]> = new Map(
  (
    [
      ['kleene', 'kleenePort'],
      ['docker', 'dockerPort'],
      ['target', 'longPort'],
    ] as const
  ).map(([marker, def]) => [
    marker,
    Object.keys((manifestSchema as { $defs: Record<string, { properties?: object }> }).$defs[def]?.properties ?? {}),
  ]),
);

/**
 * A port object is one of three kinds, and ajv reports why it fails each of them. The entry's own
 * keys say which kind it means (a `kleene` key: Kleene syntax; a `docker` key: Docker syntax;
 * otherwise the long form), and only that kind's errors are the user's.
 */
function isChosenBranch(error: ErrorObject, data: unknown): boolean {
  const segments = pointerSegments(error.instancePath);
  if (segments.length < 4 || !PORT_ENTRY.test(joinPointer(segments.slice(0, 4)))) return true;
  const entry = valueAt(data, segments.slice(0, 4));
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return true;
  const marker = Object.hasOwn(entry, 'kleene') ? 'kleene' : Object.hasOwn(entry, 'docker') ? 'docker' : 'target';
  const keys = PORT_OBJECT_KINDS.get(marker) ?? [];
  // Below the entry: the value of one of its keys, judged alike by every kind that has the key.
  if (segments.length > 4) return keys.includes(segments[4] ?? '');
  // At the entry: required and additionalProperties come from one kind's definition.
  const from = allowedKeys(error);
  const kind = [...PORT_OBJECT_KINDS.keys()].find((m) => from.includes(m));
  return kind === undefined || kind === marker;
}

function parentPointer(pointer: string): string {
  const segments = pointerSegments(pointer);
  return joinPointer(segments.slice(0, -1));
}

function place(input: SchemaInput, t: Translated): SourceSpan {
  const segments = pointerSegments(t.pointer);
  const { lineCounter, file, text, root } = input;
  if (t.at === 'object') {
    // A missing key: point at the mapping's own key in its parent, or at its first line.
    const found = locatePointer(root, segments);
    if (found.key !== null) return nodeSpan(lineCounter, file, found.key);
    const node = found.value ?? found.nearest ?? root;
    if (node !== null) return headSpan(lineCounter, file, text, node);
    return { file, line: 1, column: 1, endLine: 1, endColumn: 1 };
  }
  const found = locatePointer(root, segments);
  const preferred: TreeNode | null = t.at === 'key' ? (found.key ?? found.value) : (found.value ?? found.key);
  if (preferred !== null) return nodeSpan(lineCounter, file, preferred);
  const nearest = found.nearest ?? root;
  if (nearest !== null) return headSpan(lineCounter, file, text, nearest);
  return { file, line: 1, column: 1, endLine: 1, endColumn: 1 };
}

// ---------------------------------------------------------------------------------------------
// Messages

const NAME_RULES: Readonly<Record<string, { what: string; length: number }>> = {
  containerName: { what: 'container name', length: 32 },
  hostName: { what: 'host name', length: 63 },
  portName: { what: 'port name', length: 32 },
};

function translate(error: ErrorObject, data: unknown): Translated {
  const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;
  const segments = pointerSegments(error.instancePath);
  const def =
    defName(error) === 'containerName' && segments[segments.length - 1] === 'name' && propertyName === undefined
      ? 'portName'
      : defName(error);
  const base = { pointer: error.instancePath, flag: true };

  if (propertyName !== undefined) {
    // A key that is not a valid name (container and host names become pf text).
    const pointer = joinPointer([...segments, propertyName]);
    return { ...base, pointer, at: 'key', code: 'invalid-name', message: describeNameProblem(def, propertyName) };
  }

  const value = valueAt(data, segments);
  const what = describePath(segments);
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      const allowed = allowedKeys(error);
      const candidates = def === 'longPort' ? [...allowed, 'kleene', 'docker'] : allowed;
      const suggestion = closestWord(key, candidates);
      const pointer = joinPointer([...segments, key]);
      return {
        ...base,
        pointer,
        at: 'key',
        code: 'unknown-key',
        message:
          `unknown key ${quoteText(key)} in ${what}` +
          (suggestion !== null ? `: ${suggest(suggestion)}` : '') +
          ` (allowed keys: ${allowed.join(', ')})`,
        ...(suggestion !== null ? { suggestion } : {}),
      };
    }
    case 'required': {
      const missing = String((error.params as { missingProperty: string }).missingProperty);
      let message = `${what} lacks the required key ${missing}`;
      if (segments.length === 0 && missing === 'version') {
        message = 'the document has no version: add version: 1 (the format version) at its top';
      } else if (def === 'longPort' && missing === 'target') {
        message = `${what} lacks target, the container port: write target: 80, or a string such as "8080:80"`;
      }
      // A port entry without target is judged here; the grammar need not say it again. The
      // document itself is never flagged for a missing version, so its other problems still show.
      return { ...base, flag: segments.length > 0, at: 'object', code: 'missing-key', message };
    }
    case 'type': {
      const expected = String((error.params as { type: string }).type)
        .split(',')
        .map(describeSchemaType)
        .join(' or ');
      if (segments.length === 0) {
        return {
          ...base,
          at: 'value',
          code: 'schema',
          message: `a manifest document must be a mapping that starts with version: 1, not ${describeValue(value)}`,
        };
      }
      return {
        ...base,
        at: 'value',
        code: 'schema',
        message: `${what} must be ${expected}, not ${describeValue(value)}`,
      };
    }
    case 'const':
      return {
        ...base,
        at: 'value',
        code: 'schema',
        message: `${what} must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)} (the only version of the format), not ${describeValue(value)}`,
      };
    case 'enum': {
      const allowed = ((error.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String);
      const suggestion = typeof value === 'string' ? closestWord(value, allowed) : null;
      return {
        ...base,
        at: 'value',
        code: 'schema',
        message:
          `${what} must be one of ${allowed.join(', ')}, not ${describeValue(value)}` +
          (suggestion !== null ? `: ${suggest(suggestion)}` : ''),
      };
    }
    case 'minimum':
    case 'maximum':
      return { ...base, at: 'value', ...describePortNumber(value, what) };
    case 'minItems':
      return {
        ...base,
        at: 'value',
        code: 'schema',
        message: `${what} is an empty list: list at least one item, or remove the key`,
      };
    case 'pattern':
      return { ...base, at: 'value', ...describePattern(def, value, what, segments[segments.length - 1] ?? '') };
    default:
      return { ...base, at: 'value', code: 'schema', message: `${what} ${error.message ?? 'is not valid'}` };
  }
}

function describePortNumber(value: unknown, what: string): { code: DiagnosticCode; message: string } {
  const n = typeof value === 'number' ? value : NaN;
  if (n === 0) return { code: 'port-zero', message: `${what}: port 0 is not allowed: use a port from 1 to 65535` };
  if (n < 0) return { code: 'port-sign', message: `${what}: port ${n} is negative: use a port from 1 to 65535` };
  return { code: 'port-out-of-range', message: `${what}: port ${n} is out of range: use a port from 1 to 65535` };
}

function describePattern(
  def: string | null,
  value: unknown,
  what: string,
  key: string,
): { code: DiagnosticCode; message: string } {
  const text = typeof value === 'string' ? value : String(value);
  switch (def) {
    case 'containerName':
    case 'hostName':
    case 'portName':
    case 'interfaceName':
      return { code: 'invalid-name', message: describeNameProblem(def, text) };
    case 'ipv4': {
      if (parseAddress(text)?.family === 'inet6') {
        return {
          code: 'invalid-address',
          message: `${what} takes an IPv4 address; ${quoteText(text)} is IPv6: put it in ip6`,
        };
      }
      return {
        code: 'invalid-address',
        message: `${what} ${quoteText(text)} is not an IPv4 address: ${describeAddressProblem(text) ?? 'write a dotted quad such as 10.13.37.10'}`,
      };
    }
    case 'ipv6':
      if (parseAddress(text)?.family === 'inet') {
        return {
          code: 'invalid-address',
          message: `${what} takes an IPv6 address; ${quoteText(text)} is IPv4: put it in ip`,
        };
      }
      return {
        code: 'invalid-address',
        message: `${what} ${quoteText(text)} is not an IPv6 address: ${describeAddressProblem(text) ?? 'write one such as fd00::10'}`,
      };
    case 'hostAddress':
      return {
        code: 'invalid-address',
        message: `${what} ${quoteText(text)} is not an IP address: ${describeAddressProblem(text) ?? 'write an address such as 127.0.0.1'}`,
      };
    case 'network':
      return {
        code: 'invalid-address',
        message: `${what} ${quoteText(text)} is not an address or network: ${describeNetworkProblem(text) ?? 'write one such as 203.0.113.0/24'}`,
      };
    case 'portPool': {
      // The grammar's word for a pool that is a port range but a wrong one (`900-100`, `0-10`).
      const range = parsePortRange(text);
      const problem = range.ok ? null : range.errors[0]?.message;
      return {
        code: 'invalid-pool',
        message:
          problem === undefined || problem === null
            ? `pool ${quoteText(text)} is not a port range: write START-END, e.g. 49000-49900`
            : `pool ${quoteText(text)}: ${problem}`,
      };
    }
    default:
      break;
  }
  if (key === 'app_protocol') {
    return {
      code: 'invalid-name',
      message: `app_protocol ${quoteText(text)} may only hold letters, digits, "_", ".", "+" and "-" (at most 32): e.g. http`,
    };
  }
  return { code: 'schema', message: `${what} ${quoteText(text)} does not have the expected form` };
}

function describeNameProblem(def: string | null, name: string): string {
  if (def === 'interfaceName') {
    if (PF_KEYWORDS.has(name))
      return describeInterfaceNameProblem(name) ?? `interface name ${quoteText(name)} is not valid`;
    return `${describeInterfaceNameProblem(name) ?? `interface name ${quoteText(name)} is not valid`}: pf takes a letter, then letters, digits, "_" or ".", at most 15 in all (e.g. em0)`;
  }
  const rule = NAME_RULES[def ?? ''] ?? { what: 'name', length: 32 };
  const shown = `${rule.what} ${quoteText(name)}`;
  const advice = `use a letter or digit, then letters, digits, "_", "." or "-", at most ${rule.length} in all`;
  if (name === '') return `the ${rule.what} is empty: ${advice}`;
  if (!/^[A-Za-z0-9]/.test(name)) return `${shown} must start with a letter or a digit: ${advice}`;
  const bad = Array.from(name).find((ch) => !/^[A-Za-z0-9_.-]$/.test(ch));
  if (bad !== undefined) return `${shown} contains ${quoteText(bad)}, which pf rules cannot carry: ${advice}`;
  return `${shown} is longer than ${rule.length} characters: ${advice}`;
}

/**
 * Which $defs entry a pattern error comes from. ajv's schemaPath is relative to the function a
 * $ref compiled into, so the pattern itself (unique per definition) identifies it.
 */
const PATTERN_DEFS: ReadonlyMap<string, string> = new Map(
  Object.entries((manifestSchema as { $defs: Record<string, unknown> }).$defs)
    // portName shares containerName's pattern; the key (`name`) tells them apart below.
    .filter(([name]) => name !== 'portName')
    .flatMap(([name, def]) => patternsIn(def).map((pattern) => [pattern, name] as [string, string])),
);

/** The patterns a definition holds itself or in its allOf parts (not through a $ref). */
function patternsIn(node: unknown): string[] {
  if (typeof node !== 'object' || node === null) return [];
  const { pattern, allOf } = node as { pattern?: unknown; allOf?: unknown };
  const own = typeof pattern === 'string' ? [pattern] : [];
  return Array.isArray(allOf) ? [...own, ...allOf.flatMap(patternsIn)] : own;
}

function defName(error: ErrorObject): string | null {
  const pattern = (error.params as { pattern?: unknown }).pattern;
  if (typeof pattern === 'string') return PATTERN_DEFS.get(pattern) ?? null;
  if (allowedKeys(error).includes('target')) return 'longPort';
  return null;
}

/** The property names of the schema object an error came from (ajv's verbose parentSchema). */
function allowedKeys(error: ErrorObject): string[] {
  const properties = (error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return properties === undefined ? [] : Object.keys(properties).sort(compareStrings);
}

function valueAt(data: unknown, segments: readonly string[]): unknown {
  let node = data;
  for (const segment of segments) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = Object.hasOwn(node, segment) ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return node;
}

/** Words for where a value sits: `container "web"`, `port entry 2 of container "web"`, `ip of ...`. */
export function describePath(segments: readonly string[]): string {
  if (segments.length === 0) return 'the document';
  const last = segments[segments.length - 1] ?? '';
  const parent = segments.slice(0, -1);
  if (segments.length === 2 && segments[0] === 'containers') return `container ${quoteText(last)}`;
  if (segments.length === 2 && segments[0] === 'hosts') return `host ${quoteText(last)}`;
  if (/^(0|[1-9][0-9]*)$/.test(last) && parent.length > 0) {
    const list = parent[parent.length - 1] ?? '';
    const owner = parent.length > 1 ? ` of ${describePath(parent.slice(0, -1))}` : '';
    const noun = list === 'ports' ? 'port entry' : list === 'expose' ? 'expose entry' : `item of ${list}`;
    return noun.startsWith('item')
      ? `${noun}${owner} at position ${Number(last) + 1}`
      : `${noun} ${Number(last) + 1}${owner}`;
  }
  const shownKey = /^[A-Za-z0-9_.-]{1,40}$/.test(last) ? last : quoteText(last);
  return parent.length > 0 ? `${shownKey} of ${describePath(parent)}` : shownKey;
}
