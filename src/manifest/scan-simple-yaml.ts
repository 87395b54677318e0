// The fastest way from manifest text to plain data and positions: a line scanner for the plain,
// regular YAML that manifests are written in. yaml's own tokenizer and CST parser were the largest
// single cost of a compile on big repositories (every character is looked at several times and
// every token becomes an object); this scanner reads each line once and builds only what pfexpose
// keeps.
//
// It accepts exactly this part of YAML and nothing more:
// - block mappings and block lists, one entry per line, indented with spaces; `- key: value`
//   compact mappings; a list at its parent key's column;
// - one-line plain scalars, single-quoted scalars, double-quoted scalars without escapes;
// - one-line flow lists of such scalars (`[em0, "em1"]`), `[]` and `{}`;
// - comments set off by a space, blank lines, `---` between documents, CRLF line ends;
// - printable text (no tabs, no byte order mark, no control characters).
// Anything else, and anything the composer would warn about or refuse (duplicate keys, keys with
// no value, continuation lines, over-deep nesting), makes it give up on the whole file; the caller
// then reads the file the ordinary way through yaml. Scalars resolve through the same core-schema
// tags the composer uses (resolvePlain), and positions, including where yaml's parser ends a
// collection around trailing comments, follow yaml's rules. A property test in
// test/manifest/scan-simple-yaml.test.ts holds it to the composer on generated and mutated
// manifests.
import { MAX_DEPTH, resolvePlain } from './yaml-core-schema.js';
import type { TreeMap, TreeNode, TreePair, TreeScalar, TreeSeq } from './yaml-tree.js';

export interface SimpleDocument {
  data: unknown;
  root: TreeNode;
}

export interface ScannedText {
  documents: SimpleDocument[];
  /** Offsets where lines start, as yaml's LineCounter records them. */
  lineStarts: number[];
}

/** Tabs, control characters, a BOM, surrogates and Unicode line separators; a CR not before LF. */
const UNSUPPORTED = /[^\n\r\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]|\r(?!\n)/;

/** How many keys a mapping's names are kept as a list for (see Frame.names). */
const FEW_KEYS = 16;

const SPACE = 0x20;
const HASH = 0x23;
const COLON = 0x3a;
const DASH = 0x2d;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Characters a plain scalar may not start with (YAML's indicators); `-` is checked apart. */
const NOT_PLAIN_START = new Set([...',[]{}#&*!|>\'"%@`?:'].map((c) => c.charCodeAt(0)));

/** An open block collection: its node, its data, and the offset past its last value (yaml's range[2]). */
interface Frame {
  indent: number;
  node: TreeMap | TreeSeq;
  data: Record<string, unknown> | unknown[];
  /**
   * The keys read so far (mappings only): a list while there are few (most mappings hold a
   * handful of keys, and a set per mapping cost more than searching them), a set past that.
   */
  names: string[] | Set<string> | null;
  lastEnd: number;
}

/** Comment and blank lines after the last value that yaml's parser keeps apart from it. */
interface Trailing {
  end: number;
  /** Deepest indentation of a comment among them; -1 when there are only blank lines. */
  commentIndent: number;
}

/** A key or list dash whose value starts on a later line. */
interface Pending {
  frame: Frame;
  name: string | null;
  key: TreeScalar | null;
}

/** Thrown inside the scanner when the text leaves its part of YAML; never escapes it. */
const GIVE_UP = new Error('not simple YAML');

function giveUp(): never {
  throw GIVE_UP;
}

/**
 * The documents of the text as plain data and position trees, with the line starts, or null when
 * the text is not entirely in the part of YAML this scanner reads.
 */
export function scanSimpleYaml(text: string): ScannedText | null {
  if (UNSUPPORTED.test(text)) return null;
  try {
    return new Scanner(text).scan();
  } catch (error) {
    if (error === GIVE_UP) return null;
    throw error;
  }
}

class Scanner {
  private readonly documents: SimpleDocument[] = [];
  private readonly lineStarts: number[] = [0];
  private stack: Frame[] = [];
  private pending: Pending | null = null;
  /** The innermost collection's last value was a scalar or flow list whose end may still grow. */
  private absorbing = false;
  private trailing: Trailing | null = null;
  private documentMarked = false;
  /** End of the current line's content (before CR LF) and the offset past its line end. */
  private contentEnd = 0;
  private lineEnd = 0;

  constructor(private readonly text: string) {}

  scan(): ScannedText | null {
    const text = this.text;
    let start = 0;
    while (start < text.length) {
      const newline = text.indexOf('\n', start);
      const hasNewline = newline !== -1;
      this.lineEnd = hasNewline ? newline + 1 : text.length;
      const contentEnd = hasNewline ? newline : text.length;
      this.contentEnd = contentEnd > start && text.charCodeAt(contentEnd - 1) === 0x0d ? contentEnd - 1 : contentEnd;
      this.line(start);
      if (hasNewline) this.lineStarts.push(this.lineEnd);
      start = this.lineEnd;
    }
    this.endDocument();
    return this.documents.length === 0 ? null : { documents: this.documents, lineStarts: this.lineStarts };
  }

  private line(start: number): void {
    const text = this.text;
    const end = this.contentEnd;
    let at = start;
    while (at < end && text.charCodeAt(at) === SPACE) at++;
    const indent = at - start;
    if (at === end) return this.blankLine();
    const first = text.charCodeAt(at);
    if (first === HASH) return this.commentLine(indent);
    if (indent === 0 && this.isMarker(at)) return this.documentStart(at);
    // The indentation of a content line joins the comment lines before it (as yaml's parser
    // sees it, a space token) in whatever collection keeps them.
    if (this.trailing !== null && indent > 0) this.trailing.end = at;
    if (first === DASH && (at + 1 === end || text.charCodeAt(at + 1) === SPACE)) return this.itemLine(start, at);
    return this.keyLine(at, indent);
  }

  /** `---` or `...` (or a directive) at the start of a line: only a bare `---` is read here. */
  private isMarker(at: number): boolean {
    const text = this.text;
    const first = text.charCodeAt(at);
    if (first === 0x25) giveUp(); // `%YAML` directives
    if (!text.startsWith('---', at) && !text.startsWith('...', at)) return false;
    if (at + 3 < this.contentEnd && text.charCodeAt(at + 3) !== SPACE) giveUp(); // `---x`: not worth telling apart
    if (first === 0x2e) giveUp(); // `...` ends a document
    return true;
  }

  private blankLine(): void {
    if (this.pending !== null || this.stack.length === 0) return;
    if (this.trailing === null) this.trailing = { end: this.lineEnd, commentIndent: -1 };
    else this.trailing.end = this.lineEnd;
  }

  private commentLine(indent: number): void {
    if (this.pending !== null || this.stack.length === 0) return;
    const top = this.stack[this.stack.length - 1] as Frame;
    // yaml's parser hands a comment indented deeper than the collection to the value before it,
    // with the blank lines in between, as long as no other comment came first.
    if (this.absorbing && (this.trailing === null || this.trailing.commentIndent === -1) && indent > top.indent) {
      top.lastEnd = this.lineEnd;
      this.trailing = null;
      return;
    }
    this.absorbing = false;
    if (this.trailing === null) this.trailing = { end: this.lineEnd, commentIndent: indent };
    else {
      this.trailing.end = this.lineEnd;
      if (indent > this.trailing.commentIndent) this.trailing.commentIndent = indent;
    }
  }

  private documentStart(at: number): void {
    this.afterToken(at + 3);
    if (this.stack.length > 0 || this.pending !== null) this.endDocument();
    else if (this.documentMarked) giveUp(); // an empty document
    this.documentMarked = true;
  }

  private endDocument(): void {
    if (this.pending !== null) giveUp(); // `key:` with nothing after it
    if (this.stack.length === 0) {
      if (this.documentMarked) giveUp(); // `---` with no content
      return;
    }
    let root: Frame | undefined;
    while (this.stack.length > 0) root = this.pop();
    if (root === undefined) return giveUp();
    this.documents.push({ data: root.data, root: root.node });
    this.trailing = null;
    this.absorbing = false;
    this.documentMarked = false;
  }

  /** Closes the innermost collection; its end becomes its parent's last value's end. */
  private pop(): Frame {
    const frame = this.stack.pop() as Frame;
    const trailing = this.trailing;
    let end = frame.lastEnd;
    // Trailing comments stay with a collection when one of them is indented at least as deep as
    // its entries; otherwise they move out to the parent (yaml's Parser.pop).
    if (trailing !== null && frame.indent !== 0 && trailing.commentIndent >= frame.indent) {
      end = trailing.end;
      this.trailing = null;
    }
    frame.node.end = frame.lastEnd;
    const parent = this.stack[this.stack.length - 1];
    if (parent !== undefined) parent.lastEnd = end;
    return frame;
  }

  /** Closes what the new line at this column closes, and returns the collection it continues. */
  private continueAt(indent: number, isItem: boolean): Frame {
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (top === undefined) return giveUp();
      if (top.indent > indent || (top.indent === indent && !isItem && isList(top))) this.pop();
      else break;
    }
    const top = this.stack[this.stack.length - 1];
    // Deeper than the collection: a continuation line; shallower than any: bad indentation.
    if (top === undefined || top.indent !== indent || isList(top) !== isItem) return giveUp();
    this.trailing = null;
    return top;
  }

  /** A collection that starts at this line: the pending value, or the document's root. */
  private open(indent: number, isItem: boolean, at: number): Frame {
    const pending = this.pending;
    if (pending === null) {
      if (this.stack.length > 0) return this.continueAt(indent, isItem);
      if (isItem || indent !== 0) giveUp(); // the root must be a mapping at column 0
      return this.push(null, indent, false, at);
    }
    const parentIndent = pending.frame.indent;
    // A value on the lines below its key is indented deeper, except a list under a mapping key.
    const fits = indent > parentIndent || (indent === parentIndent && isItem && !isList(pending.frame));
    if (!fits) giveUp();
    this.pending = null;
    return this.push(pending, indent, isItem, at);
  }

  private push(pending: Pending | null, indent: number, isItem: boolean, at: number): Frame {
    if (this.stack.length + 1 > MAX_DEPTH) giveUp();
    const frame: Frame = isItem
      ? { indent, node: { kind: 'seq', start: at, end: 0, items: [] }, data: [], names: null, lastEnd: 0 }
      : {
          indent,
          node: { kind: 'map', start: at, end: 0, pairs: [] },
          data: Object.create(null) as Record<string, unknown>,
          names: [],
          lastEnd: 0,
        };
    if (pending !== null) this.attach(pending.frame, pending.name, pending.key, frame.node, frame.data);
    this.stack.push(frame);
    this.absorbing = false;
    this.trailing = null;
    return frame;
  }

  /** Adds a value to a collection: a pair to a mapping (name and key given) or an item to a list. */
  private attach(frame: Frame, name: string | null, key: TreeScalar | null, node: TreeNode, data: unknown): void {
    if (isList(frame)) {
      (frame.node as TreeSeq).items.push(node);
      (frame.data as unknown[]).push(data);
    } else {
      const pair: TreePair = { name, key, value: node };
      (frame.node as TreeMap).pairs.push(pair);
      (frame.data as Record<string, unknown>)[name as string] = data;
    }
  }

  /** A value written on the line itself: it ends the line, and later comments may extend it. */
  private inlineValue(frame: Frame, name: string | null, key: TreeScalar | null, node: TreeNode, data: unknown): void {
    this.attach(frame, name, key, node, data);
    frame.lastEnd = this.lineEnd;
    this.absorbing = true;
  }

  /** `- value`, `- key: value`, or `-` with the value below. */
  private itemLine(lineStart: number, at: number): void {
    const text = this.text;
    const end = this.contentEnd;
    const seq = this.open(at - lineStart, true, at);
    let value = at + 1;
    while (value < end && text.charCodeAt(value) === SPACE) value++;
    const first = text.charCodeAt(value);
    if (value === end || (first === HASH && value > at + 1)) {
      this.pending = { frame: seq, name: null, key: null };
      this.absorbing = false;
      return;
    }
    if (first === DASH && (value + 1 === end || text.charCodeAt(value + 1) === SPACE)) giveUp(); // `- - x`
    const colon = this.keyEnd(value);
    if (colon === -1) {
      const node = this.value(value);
      this.inlineValue(seq, null, null, node, this.data);
      return;
    }
    // `- key: value`: a mapping whose keys line up at the key's column.
    const map = this.push({ frame: seq, name: null, key: null }, value - lineStart, false, value);
    this.pair(map, value, colon);
  }

  /** `key: value` or `key:` with the value below. */
  private keyLine(at: number, indent: number): void {
    const colon = this.keyEnd(at);
    if (colon === -1) giveUp(); // a lone scalar where a key belongs, or a continuation line
    const map = this.open(indent, false, at);
    this.pair(map, at, colon);
  }

  private pair(map: Frame, at: number, colon: number): void {
    const text = this.text;
    const end = this.contentEnd;
    if (colon - at > 1024) giveUp(); // yaml refuses implicit keys this long
    const key = this.scalar(at, colon, true);
    const name = String(this.data);
    const names = map.names as string[] | Set<string>;
    // The composer reports duplicates.
    if (Array.isArray(names)) {
      if (names.includes(name)) giveUp();
      names.push(name);
      if (names.length > FEW_KEYS) map.names = new Set(names);
    } else {
      if (names.has(name)) giveUp();
      names.add(name);
    }
    let value = colon + 1;
    while (value < end && text.charCodeAt(value) === SPACE) value++;
    if (value === end || text.charCodeAt(value) === HASH) {
      this.pending = { frame: map, name, key };
      this.absorbing = false;
      return;
    }
    const node = this.value(value);
    this.inlineValue(map, name, key, node, this.data);
  }

  /**
   * Where the key starting at `at` ends (the offset of its `:`), or -1 when the text there is not
   * a key. A quoted key must be followed straight by `:`; a plain key ends at the first `: ` or at
   * a `:` that ends the line, and a comment before either means there is no key.
   */
  private keyEnd(at: number): number {
    const text = this.text;
    const end = this.contentEnd;
    const first = text.charCodeAt(at);
    if (first === DOUBLE_QUOTE || first === SINGLE_QUOTE) {
      const close = this.closingQuote(at);
      const after = close + 1;
      if (after < end && text.charCodeAt(after) === COLON) {
        if (after + 1 === end || text.charCodeAt(after + 1) === SPACE) return after;
        giveUp();
      }
      return -1;
    }
    if (first === OPEN_BRACKET || first === OPEN_BRACE) return -1;
    for (let i = at; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === COLON && (i + 1 === end || text.charCodeAt(i + 1) === SPACE)) {
        if (text.charCodeAt(i - 1) === SPACE) giveUp(); // `key :`
        return i;
      }
      if (c === SPACE && text.charCodeAt(i + 1) === HASH) return -1;
    }
    return -1;
  }

  /** The offset of the quote that closes the quoted scalar starting at `at`, on this line. */
  private closingQuote(at: number): number {
    const text = this.text;
    const end = this.contentEnd;
    const quote = text.charCodeAt(at);
    for (let i = at + 1; i < end; i++) {
      const c = text.charCodeAt(i);
      if (quote === DOUBLE_QUOTE) {
        if (c === BACKSLASH) giveUp(); // escapes: the composer's business
        if (c === DOUBLE_QUOTE) return i;
      } else if (c === SINGLE_QUOTE) {
        if (i + 1 < end && text.charCodeAt(i + 1) === SINGLE_QUOTE) i++;
        else return i;
      }
    }
    return giveUp(); // continues on the next line
  }

  /** The data of the last scalar or flow list read: one scratch slot instead of a result object per value. */
  private data: unknown = null;

  /** A value on the key's (or dash's) line: a scalar or a flow list, then at most a comment. */
  private value(at: number): TreeNode {
    const text = this.text;
    const first = text.charCodeAt(at);
    if (first === OPEN_BRACKET || first === OPEN_BRACE) return this.flow(at);
    if (first === DOUBLE_QUOTE || first === SINGLE_QUOTE) {
      const close = this.closingQuote(at);
      const node = this.scalar(at, close + 1, false);
      this.afterToken(close + 1);
      return node;
    }
    // A plain scalar runs to a comment or the line's end; `: ` in it would be a nested mapping.
    const end = this.contentEnd;
    let stop = end;
    for (let i = at; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === SPACE && text.charCodeAt(i + 1) === HASH) {
        stop = i;
        break;
      }
      if (c === COLON && (i + 1 === end || text.charCodeAt(i + 1) === SPACE)) giveUp();
    }
    while (text.charCodeAt(stop - 1) === SPACE) stop--;
    return this.scalar(at, stop, false);
  }

  /** After a quoted scalar, a flow list or `---`: only spaces, then perhaps a comment set off by one. */
  private afterToken(at: number): void {
    const text = this.text;
    const end = this.contentEnd;
    let i = at;
    while (i < end && text.charCodeAt(i) === SPACE) i++;
    if (i < end && (text.charCodeAt(i) !== HASH || i === at)) giveUp();
  }

  /** `[a, "b", 'c']`, `[]` or `{}`, on one line. */
  private flow(at: number): TreeNode {
    if (this.stack.length + 1 > MAX_DEPTH) giveUp();
    const text = this.text;
    const end = this.contentEnd;
    if (text.charCodeAt(at) === OPEN_BRACE) {
      if (text.charCodeAt(at + 1) !== CLOSE_BRACE) giveUp();
      this.afterToken(at + 2);
      this.data = Object.create(null);
      return { kind: 'map', start: at, end: at + 2, pairs: [] };
    }
    const items: TreeNode[] = [];
    const data: unknown[] = [];
    let i = at + 1;
    while (i < end && text.charCodeAt(i) === SPACE) i++;
    if (text.charCodeAt(i) !== CLOSE_BRACKET) {
      for (;;) {
        if (i >= end) giveUp();
        const first = text.charCodeAt(i);
        let stop: number;
        if (first === DOUBLE_QUOTE || first === SINGLE_QUOTE) stop = this.closingQuote(i) + 1;
        else {
          // `:` belongs to the scalar only when a scalar character follows (`2001:db8::/32`);
          // before a space, `,` or `]` it would make a pair.
          stop = i;
          for (;;) {
            const c = text.charCodeAt(stop);
            if (
              stop < end &&
              (isFlowPlain(c) || (c === COLON && stop > i && isFlowPlainAfterColon(text.charCodeAt(stop + 1))))
            )
              stop++;
            else break;
          }
          while (text.charCodeAt(stop - 1) === SPACE) stop--;
          if (stop === i) giveUp();
        }
        items.push(this.scalar(i, stop, false));
        data.push(this.data);
        i = stop;
        while (i < end && text.charCodeAt(i) === SPACE) i++;
        const c = text.charCodeAt(i);
        if (c === CLOSE_BRACKET) break;
        if (c !== COMMA) giveUp();
        i++;
        while (i < end && text.charCodeAt(i) === SPACE) i++;
      }
    }
    this.afterToken(i + 1);
    this.data = data;
    return { kind: 'seq', start: at, end: i + 1, items };
  }

  /** The scalar from start to end (quotes included); its value is left in this.data. */
  private scalar(start: number, end: number, atKey: boolean): TreeScalar {
    const text = this.text;
    const first = text.charCodeAt(start);
    const source = text.slice(start, end);
    if (first === DOUBLE_QUOTE) {
      const value = source.slice(1, -1);
      this.data = value;
      return { kind: 'scalar', start, end, value, style: 'double' };
    }
    if (first === SINGLE_QUOTE) {
      const value = source.slice(1, -1).replaceAll("''", "'");
      this.data = value;
      return { kind: 'scalar', start, end, value, style: 'single' };
    }
    if (NOT_PLAIN_START.has(first)) giveUp();
    if (first === DASH && (end === start + 1 || text.charCodeAt(start + 1) === SPACE)) giveUp();
    const value = resolvePlain(source, atKey, giveUp);
    this.data = value;
    return { kind: 'scalar', start, end, value, style: 'plain' };
  }
}

function isList(frame: Frame): boolean {
  return frame.node.kind === 'seq';
}

/** What may follow a `:` inside a flow-list item: another item character or `:`, not a space. */
function isFlowPlainAfterColon(c: number): boolean {
  return c !== SPACE && (c === COLON || isFlowPlain(c));
}

/** Letters, digits, spaces and the punctuation a flow-list item may hold here (`:` apart, no `#`). */
function isFlowPlain(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === SPACE ||
    c === 0x2e || // .
    c === 0x2f || // /
    c === 0x5f || // _
    c === DASH ||
    c === 0x2b || // +
    c === 0x7e // ~
  );
}
