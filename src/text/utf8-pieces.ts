// A long string encoded as UTF-8 a piece at a time into one reused buffer, for writers of large
// outputs (a ruleset of 100,000 rules is over 13 MB): encoding it whole first allocated a buffer
// as large as the file, and touching that fresh memory cost more than encoding and writing.

/** How many bytes each piece may hold. */
export const UTF8_PIECE_BYTES = 1024 * 1024;

/**
 * The UTF-8 bytes of text, in order, as pieces of at most pieceBytes bytes; their concatenation is
 * exactly what `Buffer.from(text, 'utf8')` gives (a lone surrogate becomes U+FFFD either way; a
 * surrogate pair is never split between two pieces). Every piece is a view of the same buffer:
 * use it before asking for the next.
 */
export function* utf8Pieces(text: string, pieceBytes = UTF8_PIECE_BYTES): Generator<Uint8Array> {
  // Room for two code units at three bytes each, so that a piece never has to split a pair.
  if (!Number.isInteger(pieceBytes) || pieceBytes < 6)
    throw new RangeError(`a piece of ${pieceBytes} bytes is too small`);
  const buffer = new Uint8Array(pieceBytes);
  const encoder = new TextEncoder();
  // A code unit encodes to at most three bytes, so this many always fit.
  const units = Math.max(1, Math.floor(pieceBytes / 3));
  for (let start = 0; start < text.length;) {
    let end = Math.min(text.length, start + units);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && end - start > 1 && last >= 0xd800 && last <= 0xdbff) end -= 1;
    const { written } = encoder.encodeInto(text.slice(start, end), buffer);
    yield buffer.subarray(0, written);
    start = end;
  }
}
