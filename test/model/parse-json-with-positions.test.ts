// The lock file's JSON reader against JSON.parse: the same verdict and the same value on generated
// JSON and on JSON with strings full of escapes and control characters, except that it also
// refuses duplicate keys (where JSON.parse lets the last one win).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonWithPositions, type JsonNode } from '../../src/model/parse-json-with-positions.js';

function plain(node: JsonNode): unknown {
  switch (node.kind) {
    case 'array':
      return node.items.map(plain);
    case 'object':
      return Object.fromEntries(node.members.map((m) => [m.key, plain(m.value)]));
    default:
      return node.value;
  }
}

/** Strings whose every character may need escaping. */
const awkward = fc.string({ unit: fc.constantFrom('a', '"', '\\', '\n', '\t', '\u0001', '/', 'é', '\u2028', '😀') });

describe('parseJsonWithPositions', () => {
  it('reads what JSON.parse reads, to the same value', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json(),
          awkward.map((s) => JSON.stringify({ [s]: s, list: [s, 1] })),
        ),
        (text) => {
          const parsed = parseJsonWithPositions(text);
          // JSON.stringify writes every text here, so none has a duplicate key.
          expect(parsed.ok).toBe(true);
          if (parsed.ok) expect(plain(parsed.node)).toEqual(JSON.parse(text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses what JSON.parse refuses', () => {
    const broken = fc.oneof(
      fc.string(),
      fc.json().map((text) => text.slice(0, -1)),
      awkward.map((s) => `{"k": "${s}"}`),
    );
    fc.assert(
      fc.property(broken, (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        if (!valid) expect(parseJsonWithPositions(text).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a duplicate key, at the second one', () => {
    expect(parseJsonWithPositions('{"a": 1,\n "a": 2}')).toEqual({
      ok: false,
      error: { message: 'duplicate key "a"', line: 2, column: 2 },
    });
  });
});
