// Source positions for manifest diagnostics: offsets in the text become 1-based line/column spans,
// and a JSON pointer (ajv's instancePath) or a port error's offsets become the YAML node they name.
import { isAlias, isMap, isScalar, isSeq, Scalar } from 'yaml';
import type { LineCounter, Node, Pair } from 'yaml';
import type { SourceSpan } from '../diagnostics/diagnostic.js';
import type { ParsedYamlDocument } from './parse-yaml-documents.js';

/** A span from UTF-16 offsets in the text (end exclusive). */
export function spanAt(lineCounter: LineCounter, file: string, start: number, end: number): SourceSpan {
  const from = lineCounter.linePos(start);
  const to = lineCounter.linePos(Math.max(start, end));
  return { file, line: from.line, column: from.col, endLine: to.line, endColumn: to.col };
}

/** Splits a JSON pointer into its decoded segments (`~1` is `/`, `~0` is `~`). */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function joinPointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

export interface LocatedNode {
  /** The value at the pointer, or null when the key has no value (or the pointer ends early). */
  value: Node | null;
  /** The key of the pair holding the value, when the value sits in a mapping. */
  key: Node | null;
  /** The deepest node reached; the whole document when nothing matched. */
  nearest: Node | null;
}

/** Walks the document along the pointer; YAML keys are compared as strings, aliases followed. */
export function locatePointer(document: ParsedYamlDocument, segments: readonly string[]): LocatedNode {
  return locateFrom(document, document.contents, segments);
}

/**
 * As locatePointer, starting from a node already found: a loader visiting thousands of entries
 * walks down from their container instead of from the root each time.
 */
export function locateFrom(document: ParsedYamlDocument, start: Node | null, segments: readonly string[]): LocatedNode {
  let node: Node | null = start;
  let key: Node | null = null;
  let nearest: Node | null = node;
  for (const segment of segments) {
    node = resolveAlias(document, node);
    if (node === null) return { value: null, key, nearest };
    nearest = node;
    if (isMap(node)) {
      const pair =
        node.items.length <= LINEAR_PAIRS ? findPair(document, node.items, segment) : indexPairs(document, node.items).get(segment);
      if (pair === undefined) return { value: null, key: null, nearest };
      key = pair.key as Node | null;
      node = pair.value as Node | null;
      if (node === null) return { value: null, key, nearest };
    } else if (isSeq(node)) {
      const item = /^(0|[1-9][0-9]*)$/.test(segment) ? (node.items[Number(segment)] as Node | null | undefined) : undefined;
      if (item === undefined || item === null) return { value: null, key: null, nearest };
      key = null;
      node = item;
    } else {
      return { value: null, key: null, nearest };
    }
  }
  return { value: resolveAlias(document, node), key, nearest: node ?? nearest };
}

/**
 * Mappings up to this size are searched in place: an index (a Map held in a WeakMap) per small
 * mapping cost more in allocation and garbage collection than the few comparisons it saves.
 */
const LINEAR_PAIRS = 12;

/**
 * Pairs of a mapping by key text, built once per mapping: every diagnostic and every entry of a
 * large manifest is located by pointer, and a linear search per segment made that quadratic.
 * The first pair wins, as in findPair.
 */
const pairIndexes = new WeakMap<readonly Pair<unknown, unknown>[], Map<string, Pair<unknown, unknown>>>();

function indexPairs(document: ParsedYamlDocument, items: readonly Pair<unknown, unknown>[]): Map<string, Pair<unknown, unknown>> {
  let index = pairIndexes.get(items);
  if (index === undefined) {
    index = new Map();
    for (const pair of items) {
      const keyNode = resolveAlias(document, pair.key as Node | null);
      const name = keyNode === null ? '' : isScalar(keyNode) ? String(keyNode.value) : null;
      if (name !== null && !index.has(name)) index.set(name, pair);
    }
    pairIndexes.set(items, index);
  }
  return index;
}

export function findPair(document: ParsedYamlDocument, items: readonly Pair<unknown, unknown>[], name: string): Pair<unknown, unknown> | undefined {
  return items.find((pair) => {
    const keyNode = resolveAlias(document, pair.key as Node | null);
    if (keyNode === null) return name === '';
    return isScalar(keyNode) && String(keyNode.value) === name;
  });
}

function resolveAlias(document: ParsedYamlDocument, node: Node | null): Node | null {
  if (node !== null && isAlias(node)) return (node.resolve(document) as Node | undefined) ?? null;
  return node;
}

/** The node's own span (for a collection, up to the end of its value). */
export function nodeSpan(lineCounter: LineCounter, file: string, node: Node): SourceSpan {
  const [start, valueEnd] = node.range ?? [0, 0, 0];
  return spanAt(lineCounter, file, start, valueEnd);
}

/**
 * The first line of a node: enough to point at a mapping or a list without underlining it all.
 * For a mapping, its first key through the end of that line.
 */
export function headSpan(lineCounter: LineCounter, file: string, text: string, node: Node): SourceSpan {
  const [start, valueEnd] = node.range ?? [0, 0, 0];
  let end = start;
  while (end < valueEnd && text[end] !== '\n' && text[end] !== '\r') end++;
  return spanAt(lineCounter, file, start, end);
}

/**
 * Offsets inside a scalar's value mapped onto the file: exact for plain scalars and for quoted
 * ones without escapes; otherwise (escapes, folded lines, block scalars) the whole scalar.
 */
export function spanInScalar(
  lineCounter: LineCounter,
  file: string,
  text: string,
  node: Node,
  start: number,
  end: number,
): SourceSpan {
  const [nodeStart, nodeEnd] = node.range ?? [0, 0, 0];
  if (isScalar(node)) {
    const source = text.slice(nodeStart, nodeEnd);
    const value = typeof node.value === 'string' || typeof node.value === 'number' ? String(node.value) : null;
    let base: number | null = null;
    if (value !== null && node.type === Scalar.PLAIN && source === value) base = nodeStart;
    if (value !== null && node.type === Scalar.QUOTE_DOUBLE && source === `"${value}"`) base = nodeStart + 1;
    if (value !== null && node.type === Scalar.QUOTE_SINGLE && source === `'${value}'`) base = nodeStart + 1;
    if (base !== null && value !== null && start >= 0 && end <= value.length && start <= end && !(start === 0 && end === 0)) {
      return spanAt(lineCounter, file, base + start, base + end);
    }
  }
  return spanAt(lineCounter, file, nodeStart, nodeEnd);
}
