// Source positions for manifest diagnostics: offsets in the text become 1-based line/column spans,
// and a JSON pointer (ajv's instancePath) or a port error's offsets become the YAML node they name.
import type { LineCounter } from 'yaml';
import type { SourceSpan } from '../diagnostics/diagnostic.js';
import type { TreeMap, TreeNode, TreePair } from './yaml-tree.js';

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
  let pointer = '';
  for (const segment of segments) pointer += `/${escapeSegment(String(segment))}`;
  return pointer;
}

/** Most names hold neither `~` nor `/`: those are used as they are, without two regex passes. */
function escapeSegment(segment: string): string {
  if (!segment.includes('~') && !segment.includes('/')) return segment;
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

export interface LocatedNode {
  /** The value at the pointer, or null when the key has no value (or the pointer ends early). */
  value: TreeNode | null;
  /** The key of the pair holding the value, when the value sits in a mapping. */
  key: TreeNode | null;
  /** The deepest node reached; the whole document when nothing matched. */
  nearest: TreeNode | null;
}

/** Walks the tree along the pointer; YAML keys are compared as strings (aliases were resolved when the tree was built). */
export function locatePointer(root: TreeNode | null, segments: readonly string[]): LocatedNode {
  return locateFrom(root, segments);
}

/**
 * As locatePointer, starting from a node already found: a loader visiting thousands of entries
 * walks down from their container instead of from the root each time.
 */
export function locateFrom(start: TreeNode | null, segments: readonly string[]): LocatedNode {
  let node: TreeNode | null = start;
  let key: TreeNode | null = null;
  let nearest: TreeNode | null = node;
  for (const segment of segments) {
    if (node === null) return { value: null, key, nearest };
    nearest = node;
    if (node.kind === 'map') {
      const pair = node.pairs.length <= LINEAR_PAIRS ? findPair(node, segment) : indexPairs(node).get(segment);
      if (pair === undefined) return { value: null, key: null, nearest };
      key = pair.key;
      node = pair.value;
      if (node === null) return { value: null, key, nearest };
    } else if (node.kind === 'seq') {
      const item = /^(0|[1-9][0-9]*)$/.test(segment) ? node.items[Number(segment)] : undefined;
      if (item === undefined || item === null) return { value: null, key: null, nearest };
      key = null;
      node = item;
    } else {
      return { value: null, key: null, nearest };
    }
  }
  return { value: node, key, nearest: node ?? nearest };
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
const pairIndexes = new WeakMap<TreeMap, Map<string, TreePair>>();

function indexPairs(map: TreeMap): Map<string, TreePair> {
  let index = pairIndexes.get(map);
  if (index === undefined) {
    index = new Map();
    for (const pair of map.pairs) {
      if (pair.name !== null && !index.has(pair.name)) index.set(pair.name, pair);
    }
    pairIndexes.set(map, index);
  }
  return index;
}

/** The first pair of the mapping whose key reads as name. */
export function findPair(map: TreeMap, name: string): TreePair | undefined {
  return map.pairs.find((pair) => pair.name === name);
}

/** The node's own span (for a collection, up to the end of its value). */
export function nodeSpan(lineCounter: LineCounter, file: string, node: TreeNode): SourceSpan {
  return spanAt(lineCounter, file, node.start, node.end);
}

/**
 * The first line of a node: enough to point at a mapping or a list without underlining it all.
 * For a mapping, its first key through the end of that line.
 */
export function headSpan(lineCounter: LineCounter, file: string, text: string, node: TreeNode): SourceSpan {
  const { start, end: valueEnd } = node;
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
  node: TreeNode,
  start: number,
  end: number,
): SourceSpan {
  const { start: nodeStart, end: nodeEnd } = node;
  if (node.kind === 'scalar') {
    const source = text.slice(nodeStart, nodeEnd);
    const value = typeof node.value === 'string' || typeof node.value === 'number' ? String(node.value) : null;
    let base: number | null = null;
    if (value !== null && node.style === 'plain' && source === value) base = nodeStart;
    if (value !== null && node.style === 'double' && source === `"${value}"`) base = nodeStart + 1;
    if (value !== null && node.style === 'single' && source === `'${value}'`) base = nodeStart + 1;
    if (
      base !== null &&
      value !== null &&
      start >= 0 &&
      end <= value.length &&
      start <= end &&
      !(start === 0 && end === 0)
    ) {
      return spanAt(lineCounter, file, base + start, base + end);
    }
  }
  return spanAt(lineCounter, file, nodeStart, nodeEnd);
}
