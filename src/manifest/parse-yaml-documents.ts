// Parses manifest text into YAML documents that keep their source positions, and into plain data
// for the schema: YAML 1.2 core schema, duplicate keys refused, nesting depth and alias expansion
// bounded, and keys such as __proto__ kept as ordinary data on prototype-less objects.
import { Composer, isAlias, isMap, isNode, isScalar, isSeq, LineCounter, Parser, Scalar, visit } from 'yaml';
import type { Alias, CST, Document, Node, ParsedNode } from 'yaml';
import type { Diagnostic, Severity } from '../diagnostics/diagnostic.js';
import { fileStart, located } from '../diagnostics/diagnostic.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';
import { escapeUnprintable, quoteText } from '../text/quote-text.js';
import { scanSimpleYaml } from './scan-simple-yaml.js';
import { MAX_DEPTH, plainNumberOrText, YAML_OPTIONS } from './yaml-core-schema.js';
import { spanAt } from './source-span.js';
import type { ScalarStyle, TreeNode, TreePair } from './yaml-tree.js';

/** Aliases may add at most this many nodes to the data (defeats "billion laughs"). */
export const MAX_EXPANDED_NODES = 100_000;

export type ParsedYamlDocument = Document.Parsed<ParsedNode, true>;

export interface YamlDocument {
  /** 0-based index of the document in its file. */
  index: number;
  /** Positions of the document's nodes; null unless ok. */
  root: TreeNode | null;
  /** Plain data (objects without prototype) when the document parsed cleanly; undefined otherwise. */
  data: unknown;
  /** True when data is usable: no YAML errors, not empty. */
  ok: boolean;
}

export interface YamlFile {
  file: string;
  text: string;
  lineCounter: LineCounter;
  documents: YamlDocument[];
  diagnostics: Diagnostic[];
}

/**
 * The file's documents as plain data and position trees, with every YAML problem as a
 * diagnostic. Plain one-entry-per-line manifests (nearly all of them) are read by the line
 * scanner (scan-simple-yaml.ts); any other file, and every file with a problem, is composed by
 * yaml's composer, which alone reports problems and gives the same documents for the files the
 * scanner reads.
 */
export function parseYamlDocuments(text: string, file: string): YamlFile {
  const scanned = scanSimpleYaml(text);
  if (scanned === null) return composeYamlDocuments(text, file);
  const lineCounter = new LineCounter();
  for (const start of scanned.lineStarts) lineCounter.addNewLine(start);
  return {
    file,
    text,
    lineCounter,
    documents: scanned.documents.map(({ data, root }, index) => ({ index, root, data, ok: true })),
    diagnostics: [],
  };
}

/** The composer's way, for every file: exported so tests can hold the scanner to it. */
export function composeYamlDocuments(text: string, file: string): YamlFile {
  const lineCounter = new LineCounter();
  const diagnostics: Diagnostic[] = [];
  const result: YamlFile = { file, text, lineCounter, documents: [], diagnostics };
  // The composer recurses per nesting level: a document nested thousands deep would exhaust the
  // stack (or memory), so each top-level token's depth is measured on the flat token tree before
  // the composer sees it. Tokens stream through (never all held at once, which cost memory and GC
  // on large files); when one is too deep, whatever was composed before it is thrown away.
  const depth: { tooDeep: number | null } = { tooDeep: null };
  function* checked(tokens: Iterable<CST.Token>): Generator<CST.Token> {
    for (const token of tokens) {
      // The last too-deep token is the one reported, as when the whole file was scanned at once.
      const found = findExcessiveDepth(token);
      if (found !== null) depth.tooDeep = found;
      if (depth.tooDeep === null) yield token;
    }
  }
  const composer = new Composer(YAML_OPTIONS);
  const documents = Array.from(
    composer.compose(checked(new Parser(lineCounter.addNewLine).parse(text)), true, text.length),
  ) as ParsedYamlDocument[];
  if (depth.tooDeep !== null) {
    const at = depth.tooDeep;
    diagnostics.push(
      located(
        'yaml-too-deep',
        spanAt(lineCounter, file, at, at + 1),
        `collections are nested more than ${MAX_DEPTH} levels deep here: a manifest needs fewer than ten; flatten the structure`,
      ),
    );
    return result;
  }

  documents.forEach((document, index) => {
    const entry: YamlDocument = { index, root: null, data: undefined, ok: false };
    result.documents.push(entry);
    for (const error of document.errors) diagnostics.push(yamlProblem(lineCounter, file, text, error, 'error'));
    for (const warning of document.warnings) diagnostics.push(yamlProblem(lineCounter, file, text, warning, 'warning'));
    if (document.errors.length > 0) return;
    const contents = document.contents;
    if (contents === null || (isScalar(contents) && contents.value === null && contents.source === '')) {
      const at = document.range[0];
      diagnostics.push(
        located(
          'empty-document',
          spanAt(lineCounter, file, at, at),
          `document ${index + 1} is empty: a manifest document starts with version: 1`,
        ),
      );
      return;
    }
    const targets = aliasTargets(document);
    const converted = toPlainData(targets, contents, lineCounter, file, text);
    if (converted.diagnostic !== null) {
      diagnostics.push(converted.diagnostic);
      return;
    }
    diagnostics.push(...converted.keyProblems);
    entry.data = converted.data;
    entry.root = toTree(targets, contents);
    entry.ok = true;
  });
  if (documents.length === 0) {
    diagnostics.push(
      located('empty-document', fileStart(file), 'the file holds no YAML document: a manifest starts with version: 1'),
    );
  }
  return result;
}

/** Offset of the first collection nested deeper than MAX_DEPTH, or null. Iterative on purpose. */
function findExcessiveDepth(root: CST.Token): number | null {
  // Two parallel stacks rather than one of {token, depth} pairs: this visits every token of every
  // file, and a pair object per token was garbage for the collector.
  const tokens: CST.Token[] = [root];
  const depths: number[] = [0];
  for (;;) {
    const token = tokens.pop();
    const depth = depths.pop();
    if (token === undefined || depth === undefined) break;
    switch (token.type) {
      case 'document':
        if (token.value !== undefined) {
          tokens.push(token.value);
          depths.push(depth);
        }
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        const inner = depth + 1;
        if (inner > MAX_DEPTH) return token.offset;
        for (const item of token.items) {
          if (item.key) {
            tokens.push(item.key);
            depths.push(inner);
          }
          if (item.value) {
            tokens.push(item.value);
            depths.push(inner);
          }
        }
        break;
      }
      default:
        break;
    }
  }
  return null;
}

const YAML_CODES: Readonly<Record<string, DiagnosticCode>> = {
  TAB_AS_INDENT: 'yaml-tab-indent',
};

function yamlProblem(
  lineCounter: LineCounter,
  file: string,
  text: string,
  problem: { code: string; message: string; pos: [number, number] },
  severity: Severity,
): Diagnostic {
  const [start, end] = problem.pos;
  const code = YAML_CODES[problem.code] ?? 'yaml-syntax';
  let message: string;
  if (code === 'yaml-tab-indent') {
    message = 'a tab is used for indentation: YAML indents with spaces only; replace the tab with spaces';
  } else {
    message = `${sanitize(problem.message)} (YAML ${problem.code.toLowerCase().replace(/_/g, ' ')})`;
  }
  return located(code, spanAt(lineCounter, file, start, Math.max(end, start)), message, undefined, severity);
}

/** yaml's messages may quote source text; never let control characters reach a terminal. */
function sanitize(message: string): string {
  const firstLine = message.split('\n')[0] ?? '';
  return escapeUnprintable(firstLine);
}

interface Converted {
  data: unknown;
  diagnostic: Diagnostic | null;
  keyProblems: Diagnostic[];
}

class ConversionStop extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

/**
 * The document's contents as plain data: mappings become objects without a prototype (so keys
 * such as __proto__ or constructor are ordinary data), sequences arrays, scalars their values.
 * Aliases are expanded, counting every node produced, so an alias bomb stops early.
 */
/**
 * Where each alias of the document points: the last node before it with its anchor, as yaml's own
 * Alias.resolve answers, found in one pass. (Alias.resolve walks the whole document per call,
 * which made a file of a few thousand aliases take minutes.)
 */
function aliasTargets(document: ParsedYamlDocument): Map<Alias, Node> {
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node>();
  visit(document, (_key, node) => {
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target !== undefined) targets.set(node, target);
    } else if (isNode(node) && typeof node.anchor === 'string' && node.anchor !== '') {
      anchors.set(node.anchor, node);
    }
  });
  return targets;
}

/**
 * A scalar's value for the data: numbers only in plain decimal (see plainNumberOrText), whether
 * the core schema made the number or an explicit tag did (`!!int "080"`).
 */
function scalarValue(node: Scalar): unknown {
  return typeof node.source === 'string' ? plainNumberOrText(node.value, node.source) : node.value;
}

function toPlainData(
  targets: Map<Alias, Node>,
  root: Node,
  lineCounter: LineCounter,
  file: string,
  text: string,
): Converted {
  let produced = 0;
  const keyProblems: Diagnostic[] = [];
  const stop = (node: Node, code: DiagnosticCode, message: string): never => {
    const [start, end] = node.range ?? [0, 0];
    throw new ConversionStop(located(code, spanAt(lineCounter, file, start, end), message));
  };
  const convert = (node: Node | null, depth: number, viaAlias: Node | null): unknown => {
    if (node === null) return null;
    // Only copies made through aliases count: the document's own nodes are bounded by the file
    // size limit, and a large manifest is not an alias bomb.
    if (viaAlias !== null) produced++;
    if (produced > MAX_EXPANDED_NODES) {
      stop(
        viaAlias ?? node,
        'yaml-alias-limit',
        `aliases expand this document to more than ${MAX_EXPANDED_NODES} nodes (an "alias bomb"): write the values out or use fewer aliases`,
      );
    }
    if (depth > MAX_DEPTH) {
      stop(
        viaAlias ?? node,
        'yaml-too-deep',
        `aliases nest the data more than ${MAX_DEPTH} levels deep: flatten the structure`,
      );
    }
    if (isAlias(node)) {
      const target = targets.get(node);
      if (target === undefined)
        stop(node, 'yaml-syntax', `alias *${node.source} refers to no anchor: define &${node.source} before it`);
      return convert(target ?? null, depth, viaAlias ?? node);
    }
    if (isScalar(node)) return scalarValue(node);
    if (isSeq(node)) return node.items.map((item) => convert(item as Node | null, depth + 1, viaAlias));
    if (isMap(node)) {
      const object = Object.create(null) as Record<string, unknown>;
      const seen = new Map<string, Node | null>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        let name: string;
        if (key === null) name = '';
        else if (isScalar(key)) name = String(scalarValue(key));
        else if (isAlias(key)) {
          const target = targets.get(key);
          if (target === undefined || !isScalar(target)) {
            keyProblems.push(keyProblem(key));
            continue;
          }
          name = String(scalarValue(target));
        } else {
          keyProblems.push(keyProblem(key));
          continue;
        }
        const earlier = seen.get(name);
        if (earlier !== undefined) {
          // Reported once, where the mapping is written (not again in every copy an alias makes).
          if (viaAlias === null) keyProblems.push(...duplicateKey(name, earlier, key, pair.value as Node | null));
          continue;
        }
        seen.set(name, key);
        object[name] = convert(pair.value as Node | null, depth + 1, viaAlias);
      }
      return object;
    }
    return null;
  };
  /**
   * Two keys of one mapping that read as the same name (`web` twice, or `1` and `"1"`): an error
   * at both places, each naming the other. Compared as the plain data names them, so no key is
   * ever dropped in silence.
   */
  const duplicateKey = (
    name: string,
    first: Node | null,
    second: Node | null,
    secondValue: Node | null,
  ): Diagnostic[] => {
    const rangeOf = (node: Node | null, fallback: Node | null): [number, number] => {
      const range = node?.range ?? fallback?.range;
      return range === undefined || range === null ? [0, 0] : [range[0], range[1]];
    };
    const [aStart, aEnd] = rangeOf(first, null);
    const [bStart, bEnd] = rangeOf(second, secondValue);
    const a = spanAt(lineCounter, file, aStart, aEnd);
    const b = spanAt(lineCounter, file, bStart, bEnd);
    const writtenA = text.slice(aStart, aEnd);
    const writtenB = text.slice(bStart, bEnd);
    const written =
      writtenA === writtenB
        ? ''
        : ` (written ${quoteText(writtenA)} and ${quoteText(writtenB)}, both read as ${quoteText(name)})`;
    const message = (other: { line: number; column: number }): string =>
      `key ${quoteText(name)} appears twice in this mapping${written}, also at line ${other.line}:${other.column}: keep one (duplicate keys are errors, not overrides)`;
    return [located('yaml-duplicate-key', a, message(b)), located('yaml-duplicate-key', b, message(a))];
  };
  const keyProblem = (key: Node): Diagnostic => {
    const [start, end] = key.range ?? [0, 0];
    return located(
      'schema',
      spanAt(lineCounter, file, start, end),
      'a key must be a plain string, not a list or a mapping: write name: value',
    );
  };
  try {
    return { data: convert(root, 0, null), diagnostic: null, keyProblems };
  } catch (error) {
    if (error instanceof ConversionStop) return { data: undefined, diagnostic: error.diagnostic, keyProblems };
    throw error;
  }
}

/**
 * The positions of a composed document as a tree. An alias becomes the node it names (shared,
 * not copied), so the tree is never larger than the document. Called only once toPlainData
 * accepted the document, which bounds its aliases.
 */
function toTree(targets: Map<Alias, Node>, root: Node): TreeNode | null {
  const done = new Map<Node, TreeNode>();
  const convert = (node: Node | null): TreeNode | null => {
    if (node === null) return null;
    if (isAlias(node)) {
      const target = targets.get(node);
      return target === undefined ? null : convert(target);
    }
    const known = done.get(node);
    if (known !== undefined) return known;
    const [start, end] = node.range ?? [0, 0, 0];
    if (isMap(node)) {
      const pairs: TreePair[] = [];
      const map: TreeNode = { kind: 'map', start, end, pairs };
      done.set(node, map);
      for (const pair of node.items) {
        const key = convert(pair.key as Node | null);
        const name = key === null ? '' : key.kind === 'scalar' ? String(key.value) : null;
        pairs.push({ name, key, value: convert(pair.value as Node | null) });
      }
      return map;
    }
    if (isSeq(node)) {
      const items: (TreeNode | null)[] = [];
      const seq: TreeNode = { kind: 'seq', start, end, items };
      done.set(node, seq);
      for (const item of node.items) items.push(convert(item as Node | null));
      return seq;
    }
    const value = isScalar(node) ? scalarValue(node) : null;
    const type = isScalar(node) ? node.type : undefined;
    const scalar: TreeNode = { kind: 'scalar', start, end, value, style: scalarStyle(type) };
    done.set(node, scalar);
    return scalar;
  };
  return convert(root);
}

function scalarStyle(type: Scalar.Type | undefined): ScalarStyle {
  if (type === Scalar.PLAIN) return 'plain';
  if (type === Scalar.QUOTE_DOUBLE) return 'double';
  if (type === Scalar.QUOTE_SINGLE) return 'single';
  return 'other';
}
