// A strict JSON parser (RFC 8259) that keeps the 1-based line and column of every value and key,
// so that problems in the lock file can be reported where they are. JSON.parse keeps no positions.
import { quoteText } from '../text/quote-text.js';

export interface JsonPosition {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export type JsonNode =
  | { kind: 'null'; value: null; position: JsonPosition }
  | { kind: 'boolean'; value: boolean; position: JsonPosition }
  | { kind: 'number'; value: number; raw: string; position: JsonPosition }
  | { kind: 'string'; value: string; position: JsonPosition }
  | { kind: 'array'; items: JsonNode[]; position: JsonPosition }
  | { kind: 'object'; members: JsonMember[]; position: JsonPosition };

export interface JsonMember {
  key: string;
  keyPosition: JsonPosition;
  value: JsonNode;
}

export interface JsonSyntaxError {
  message: string;
  line: number;
  column: number;
}

export type JsonParseResult = { ok: true; node: JsonNode } | { ok: false; error: JsonSyntaxError };

/** Internal: unwinds the recursive descent to the one place that turns it into a result. */
class Failure extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export function parseJsonWithPositions(text: string): JsonParseResult {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const locate = (offset: number): { line: number; column: number } => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - (lineStarts[low] ?? 0) + 1 };
  };
  const span = (start: number, end: number): JsonPosition => {
    const a = locate(start);
    const b = locate(end);
    return { line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
  };

  let pos = 0;
  const skipSpace = (): void => {
    while (pos < text.length) {
      const c = text[pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') pos++;
      else break;
    }
  };
  const describe = (): string => (pos >= text.length ? 'the end of the file' : quoteText(text[pos] ?? ''));

  const parseString = (): string => {
    const start = pos;
    // Nearly every string has no escape: taken whole up to its closing quote. Anything else (an
    // escape, a control character, no closing quote) is read character by character below.
    for (let i = pos + 1; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        pos = i + 1;
        return text.slice(start + 1, i);
      }
      if (code === 0x5c || code < 0x20) break;
    }
    pos++; // opening quote
    let out = '';
    for (;;) {
      if (pos >= text.length) throw new Failure('unterminated string', start);
      const c = text[pos] as string;
      const code = c.charCodeAt(0);
      if (c === '"') {
        pos++;
        return out;
      }
      if (code < 0x20) throw new Failure('control character inside a string (escape it)', pos);
      if (c === '\\') {
        const e = text[pos + 1];
        const simple: Record<string, string> = {
          '"': '"',
          '\\': '\\',
          '/': '/',
          b: '\b',
          f: '\f',
          n: '\n',
          r: '\r',
          t: '\t',
        };
        if (e !== undefined && Object.hasOwn(simple, e)) {
          out += simple[e];
          pos += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) {
          out += String.fromCharCode(parseInt(text.slice(pos + 2, pos + 6), 16));
          pos += 6;
        } else {
          throw new Failure('invalid escape sequence in a string', pos);
        }
        continue;
      }
      out += c;
      pos++;
    }
  };

  const parseValue = (depth: number): JsonNode => {
    if (depth > 64) throw new Failure('nesting is too deep', pos);
    skipSpace();
    const start = pos;
    const c = text[pos];
    if (c === '{') {
      pos++;
      const members: JsonMember[] = [];
      const seen = new Set<string>();
      skipSpace();
      if (text[pos] === '}') {
        pos++;
        return { kind: 'object', members, position: span(start, pos) };
      }
      for (;;) {
        skipSpace();
        if (text[pos] !== '"') throw new Failure(`expected a quoted key, found ${describe()}`, pos);
        const keyStart = pos;
        const key = parseString();
        const keyPosition = span(keyStart, pos);
        if (seen.has(key)) throw new Failure(`duplicate key ${quoteText(key)}`, keyStart);
        seen.add(key);
        skipSpace();
        if (text[pos] !== ':') throw new Failure(`expected ':' after a key, found ${describe()}`, pos);
        pos++;
        const value = parseValue(depth + 1);
        members.push({ key, keyPosition, value });
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return { kind: 'object', members, position: span(start, pos) };
        }
        throw new Failure(`expected ',' or '}', found ${describe()}`, pos);
      }
    }
    if (c === '[') {
      pos++;
      const items: JsonNode[] = [];
      skipSpace();
      if (text[pos] === ']') {
        pos++;
        return { kind: 'array', items, position: span(start, pos) };
      }
      for (;;) {
        items.push(parseValue(depth + 1));
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return { kind: 'array', items, position: span(start, pos) };
        }
        throw new Failure(`expected ',' or ']', found ${describe()}`, pos);
      }
    }
    if (c === '"') {
      const value = parseString();
      return { kind: 'string', value, position: span(start, pos) };
    }
    const number = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(pos, pos + 64));
    if (number !== null && number[0] !== '-') {
      pos += number[0].length;
      return { kind: 'number', value: Number(number[0]), raw: number[0], position: span(start, pos) };
    }
    for (const [word, value] of [
      ['true', true],
      ['false', false],
    ] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return { kind: 'boolean', value, position: span(start, pos) };
      }
    }
    if (text.startsWith('null', pos)) {
      pos += 4;
      return { kind: 'null', value: null, position: span(start, pos) };
    }
    throw new Failure(`expected a JSON value, found ${describe()}`, pos);
  };

  try {
    const node = parseValue(0);
    skipSpace();
    if (pos < text.length) throw new Failure(`unexpected ${describe()} after the JSON value`, pos);
    return { ok: true, node };
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    const at = locate(Math.min(error.offset, text.length));
    return { ok: false, error: { message: error.message, line: at.line, column: at.column } };
  }
}
