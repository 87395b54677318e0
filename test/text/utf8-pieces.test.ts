// Large outputs are written a piece at a time (utf8-pieces.ts): the pieces must add up to exactly
// the bytes Buffer.from(text, 'utf8') gives, whatever the text and wherever the pieces end.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Pieces } from '../../src/text/utf8-pieces.js';

function joined(text: string, pieceBytes?: number): { bytes: Buffer; sizes: number[] } {
  const parts: Buffer[] = [];
  for (const piece of utf8Pieces(text, pieceBytes)) parts.push(Buffer.from(piece));
  return { bytes: Buffer.concat(parts), sizes: parts.map((p) => p.length) };
}

describe('utf8Pieces', () => {
  it.each([
    ['empty', '', 6],
    ['ascii', 'pass in quick on em0 inet proto tcp\n', 6],
    ['a pair across the boundary', 'ab\u{1F600}cd', 6],
    ['pairs only', '\u{1F600}\u{1F600}\u{1F600}', 7],
    ['a lone high surrogate at a boundary', 'a\ud800bc', 6],
    ['a lone high surrogate at the end', 'abc\ud800', 6],
    ['a lone low surrogate', '\udc00abc', 6],
    ['three-byte characters', 'ééé€€€', 8],
  ])('%s: the bytes of Buffer.from', (_name, text, pieceBytes) => {
    expect(joined(text, pieceBytes).bytes.equals(Buffer.from(text, 'utf8'))).toBe(true);
  });

  it('gives the bytes of Buffer.from for any text and piece size (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.integer({ min: 6, max: 64 }), (text, size) => {
        const { bytes, sizes } = joined(text, size);
        expect(bytes.equals(Buffer.from(text, 'utf8'))).toBe(true);
        expect(sizes.every((n) => n <= size)).toBe(true);
      }),
    );
  });

  it('uses pieces of the default size for a long text', () => {
    const text = 'rdr inet proto tcp from any to (self) port = 40000 tag pfexpose -> 10.0.0.1 port 9000\n'.repeat(
      40000,
    );
    const { bytes, sizes } = joined(text);
    expect(bytes.equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect(sizes.length).toBeGreaterThan(1);
  });

  it('refuses a piece too small to hold a surrogate pair', () => {
    expect(() => [...utf8Pieces('abc', 5)]).toThrow(RangeError);
  });
});
