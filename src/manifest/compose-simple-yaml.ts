// The fast path from YAML text to plain data and positions. yaml's composer builds a full
// document model (nodes, pairs, comments, tags) that pfexpose only reads back to plain data and
// positions, and on large repositories that model was the biggest cost after tokenizing itself.
// Manifests are nearly always written in a small, regular part of YAML: block mappings and lists,
// plain or quoted one-line scalars, one-line flow lists, comments. This module turns yaml's own
// token stream (its CST parser) straight into plain data and a position tree for exactly that
// part, resolving scalars with the same core-schema tags the composer uses.
//
// It never decides anything the composer would decide differently: whatever lies outside that
// part, and whatever the composer would report as an error or warning, makes it give up on the
// whole file, and the caller composes the file the ordinary way. A property test in
// test/manifest/compose-simple-yaml.test.ts checks, on generated and mutated manifests, that
// whenever this path answers, the composer reports nothing and gives the same data and tree.
import { Document, isScalar, Parser } from 'yaml';
import type { CST, LineCounter, ScalarTag } from 'yaml';
import type { TreeMap, TreeNode, TreePair, TreeScalar, TreeSeq } from './yaml-tree.js';

/** The YAML options every manifest is read with, on both paths. */
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

/** Collections nested deeper than this are refused (the composed path reports them). */
export const MAX_DEPTH = 64;

export interface SimpleDocument {
  data: unknown;
  root: TreeNode;
}

// The schema and options a composer would use, taken from yaml itself so that plain scalars
// resolve exactly as they do there (null, booleans, octal/decimal/hex integers, floats).
const settings = new Document(undefined, YAML_OPTIONS);
const scalarTags = settings.schema.tags.filter(
  (tag): tag is ScalarTag => !('collection' in tag && tag.collection !== undefined) && tag.default === true && tag.test !== undefined,
);
const keyTags = settings.schema.tags.filter(
  (tag): tag is ScalarTag =>
    !('collection' in tag && tag.collection !== undefined) && (tag.default === true || tag.default === 'key') && tag.test !== undefined,
);

/** Thrown inside the fast paths when the text leaves the simple part; never escapes them. */
export const GIVE_UP = new Error('not simple YAML');

/**
 * The documents of the text as plain data and position trees, or null when the text is not
 * entirely simple YAML (the caller then composes it with yaml's composer).
 */
export function composeSimpleYaml(text: string, lineCounter: LineCounter): SimpleDocument[] | null {
  const documents: SimpleDocument[] = [];
  try {
    for (const token of new Parser(lineCounter.addNewLine).parse(text)) {
      switch (token.type) {
        case 'document':
          documents.push(composeDocument(token));
          break;
        case 'comment':
        case 'newline':
        case 'space':
          break;
        default:
          // Directives, `...`, a byte order mark, errors: the composer's business.
          return null;
      }
    }
  } catch (error) {
    if (error === GIVE_UP) return null;
    throw error;
  }
  return documents.length === 0 ? null : documents;
}

// What a node's composition leaves for its parent, besides the node: the node's plain data and
// the offset past its trailing space and comments (yaml's `range[2]`). One scratch record,
// overwritten by every call, instead of a result object per node.
const out: { data: unknown; end: number } = { data: null, end: 0 };

// The rest of what readProps found in a run of separator tokens, besides the indicator it returns.
const props: { hasNewline: boolean; end: number } = { hasNewline: false, end: 0 };

function giveUp(): never {
  throw GIVE_UP;
}

function composeDocument(token: CST.Document): SimpleDocument {
  const docStart = readProps(token.start, 'doc-start', true, token.offset);
  const value = token.value;
  // A manifest is a block mapping; anything else gets the composer's diagnostics.
  if (value?.type !== 'block-map') giveUp();
  if (docStart !== null && !props.hasNewline) giveUp();
  const root = composeBlockMap(value, 1);
  const data = out.data;
  readEnd(token.end, out.end, false, false);
  return { data, root };
}

/**
 * Spaces, newlines, comments and at most one `indicator` (null: none), as yaml's resolveProps
 * and resolveEnd read them; any other token (anchors, tags, explicit keys), a tab, or a comment
 * not set off by white space gives up. Returns the indicator; props holds the rest.
 */
function readProps(
  tokens: readonly CST.SourceToken[],
  indicator: CST.SourceToken['type'] | null,
  startOnNewline: boolean,
  offset: number,
  inFlow = false,
): CST.SourceToken | null {
  let hasSpace = startOnNewline;
  let hasNewline = false;
  let found: CST.SourceToken | null = null;
  for (const token of tokens) {
    switch (token.type) {
      case 'space':
        if (token.source.includes('\t')) giveUp();
        hasSpace = true;
        break;
      case 'comment':
        if (inFlow || !hasSpace) giveUp();
        break;
      case 'newline':
        if (inFlow) giveUp();
        hasNewline = true;
        hasSpace = true;
        break;
      default:
        if (indicator === null || token.type !== indicator || found !== null) giveUp();
        found = token;
        hasSpace = false;
    }
  }
  const last = tokens[tokens.length - 1];
  props.hasNewline = hasNewline;
  props.end = last === undefined ? offset : last.offset + last.source.length;
  return found;
}

/** Trailing space, comments and newlines after a node (yaml's resolveEnd); returns the offset past them. */
function readEnd(tokens: readonly CST.SourceToken[] | undefined, offset: number, requireSpace: boolean, inFlow: boolean): number {
  if (tokens === undefined) return offset;
  readProps(tokens, null, !requireSpace, offset, inFlow);
  return props.end;
}

function composeNode(token: CST.Token, depth: number): TreeNode {
  switch (token.type) {
    case 'scalar':
    case 'single-quoted-scalar':
    case 'double-quoted-scalar':
      return composeScalar(token, false, false);
    case 'block-map':
      return composeBlockMap(token, depth + 1);
    case 'block-seq':
      return composeBlockSeq(token, depth + 1);
    case 'flow-collection':
      return composeFlowCollection(token, depth + 1);
    default:
      // Aliases, block scalars (| and >), errors.
      return giveUp();
  }
}

function composeBlockMap(map: CST.BlockMap, depth: number): TreeMap {
  if (depth > MAX_DEPTH) giveUp();
  const pairs: TreePair[] = [];
  const data = Object.create(null) as Record<string, unknown>;
  const names = new Set<string>();
  let offset = map.offset;
  let commentEnd: number | null = null;
  for (const item of map.items) {
    const { start, key, sep, value } = item;
    if (readProps(start, 'explicit-key-ind', true, offset) !== null) giveUp(); // `? key`
    if (sep === undefined) {
      // Only comments or blank lines at the end of the mapping.
      if (key !== undefined || value !== undefined) giveUp();
      commentEnd = props.end;
      continue;
    }
    if (key === undefined || key === null) giveUp(); // `: value` with no key
    if (key.type !== 'scalar' && key.type !== 'single-quoted-scalar' && key.type !== 'double-quoted-scalar') giveUp();
    if (key.indent !== map.indent) giveUp(); // items not at one column
    if (commentEnd !== null) giveUp(); // content after the mapping's trailing comments
    const keyStart = props.end;
    const keyNode = composeScalar(key, true, false);
    const name = String(out.data);
    // Two keys that read alike: the composer reports duplicates (or keeps one of them).
    if (names.has(name)) giveUp();
    names.add(name);
    const indicator = readProps(sep, 'map-value-ind', false, out.end);
    if (indicator === null || value === undefined || value === null) giveUp(); // `key` alone or `key:` with no value
    if (indicator.offset - keyStart > 1024) giveUp(); // over-long implicit key
    if (value.type === 'block-map' && !props.hasNewline) giveUp(); // `a: b: c`
    const valueNode = composeNode(value, depth);
    offset = out.end;
    data[name] = out.data;
    pairs.push({ name, key: keyNode, value: valueNode });
  }
  out.data = data;
  out.end = commentEnd ?? offset;
  return { kind: 'map', start: map.offset, end: offset, pairs };
}

function composeBlockSeq(seq: CST.BlockSequence, depth: number): TreeSeq {
  if (depth > MAX_DEPTH) giveUp();
  const items: TreeNode[] = [];
  const data: unknown[] = [];
  let offset = seq.offset;
  let commentEnd: number | null = null;
  for (const { start, value } of seq.items) {
    if (readProps(start, 'seq-item-ind', true, offset) === null) {
      if (value !== undefined) giveUp();
      commentEnd = props.end;
      continue;
    }
    if (value === undefined || commentEnd !== null) giveUp(); // `-` alone, or items after trailing comments
    items.push(composeNode(value, depth));
    offset = out.end;
    data.push(out.data);
  }
  out.data = data;
  out.end = commentEnd ?? offset;
  return { kind: 'seq', start: seq.offset, end: offset, items };
}

/** `[a, b, "c"]` on one line, or `{}`. */
function composeFlowCollection(flow: CST.FlowCollection, depth: number): TreeNode {
  if (depth > MAX_DEPTH) giveUp();
  const isMap = flow.start.source === '{';
  if (isMap && flow.items.length > 0) giveUp();
  const items: TreeNode[] = [];
  const data: unknown[] = [];
  let offset = flow.offset + flow.start.source.length;
  flow.items.forEach(({ start, key, sep, value }, index) => {
    if (key !== undefined || sep !== undefined) giveUp();
    let commas = 0;
    for (const token of start) {
      if (token.type === 'comma') commas += 1;
      else if (token.type !== 'space' || token.source.includes('\t')) giveUp();
    }
    if (commas !== (index === 0 ? 0 : 1)) giveUp();
    if (value === undefined) giveUp(); // `[a, ]`, `[, a]`
    if (value.type !== 'scalar' && value.type !== 'single-quoted-scalar' && value.type !== 'double-quoted-scalar') giveUp();
    items.push(composeScalar(value, false, true));
    offset = out.end;
    data.push(out.data);
  });
  const close: CST.SourceToken | undefined = flow.end[0];
  if (close === undefined || close.source !== (isMap ? '}' : ']') || close.offset < offset) giveUp();
  const after = flow.end.slice(1);
  const closeEnd = close.offset + close.source.length;
  out.data = isMap ? Object.create(null) : data;
  out.end = after.length > 0 ? readEnd(after, closeEnd, true, false) : closeEnd;
  return isMap ? { kind: 'map', start: flow.offset, end: closeEnd, pairs: [] } : { kind: 'seq', start: flow.offset, end: closeEnd, items };
}

/** One-line plain, single-quoted or double-quoted (without escapes) scalars. */
function composeScalar(token: CST.FlowScalar, atKey: boolean, inFlow: boolean): TreeScalar {
  const source = token.source;
  let value: unknown;
  let style: TreeScalar['style'];
  if (source.includes('\n') || source.includes('\r')) giveUp(); // folded lines
  switch (token.type) {
    case 'scalar': {
      if (source === '' || ',%|>@`\t'.includes(source[0] ?? '')) giveUp();
      value = resolvePlain(source, atKey);
      style = 'plain';
      break;
    }
    case 'single-quoted-scalar':
      if (source.length < 2 || !source.endsWith("'")) giveUp();
      value = source.slice(1, -1).replace(/''/g, "'");
      style = 'single';
      break;
    case 'double-quoted-scalar':
      if (source.length < 2 || !source.endsWith('"') || source.includes('\\')) giveUp();
      value = source.slice(1, -1);
      style = 'double';
      break;
    default:
      return giveUp();
  }
  const valueEnd = token.offset + source.length;
  out.end = readEnd(token.end, valueEnd, true, inFlow);
  out.data = value;
  return { kind: 'scalar', start: token.offset, end: valueEnd, value, style };
}

/** A plain scalar's value under the core schema, through the composer's own tags. */
export function resolvePlain(source: string, atKey: boolean): unknown {
  const tags = atKey ? keyTags : scalarTags;
  for (const tag of tags) {
    if (tag.test?.test(source) !== true) continue;
    const resolved: unknown = tag.resolve(source, giveUp, settings.options);
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
 * grammar's error and a name stays as written. Both reading paths apply this.
 */
export function plainNumberOrText(value: unknown, source: string): unknown {
  // A decimal too long for a double (a container named 12345678901234567890) keeps its text too.
  return typeof value === 'number' && (!PLAIN_DECIMAL.test(source) || !Number.isSafeInteger(value)) ? source : value;
}
