// BoundedRead decides how much of a file to read; here the reads come from a byte array standing
// for the file, so the cases the file system rarely shows (a size of 0 from fstat, a file that
// grows or shrinks between fstat and the reads, short reads) are played exactly.
import { describe, expect, it } from 'vitest';
import { BoundedRead } from '../../src/text/bounded-read.js';

/** Reads `content` through BoundedRead as readRegularFileSync does, at most `chunk` bytes a read. */
function readAll(
  content: string,
  statSize: number,
  maxBytes: number,
  chunk = Infinity,
): { result: unknown; reads: number } {
  const bytes = new TextEncoder().encode(content);
  const bounded = new BoundedRead(statSize, maxBytes);
  let position = 0;
  let reads = 0;
  while (bounded.wants()) {
    const n = Math.min(bounded.room(), chunk, bytes.length - position);
    bounded.buffer.set(bytes.subarray(position, position + n), bounded.length);
    position += n;
    reads += 1;
    bounded.took(n);
  }
  const result = bounded.result();
  return {
    result: result.kind === 'ok' ? { kind: 'ok', text: new TextDecoder().decode(result.bytes) } : result,
    reads,
  };
}

describe('BoundedRead', () => {
  it('reads a file of the size fstat gave in one read, without a read to meet the end', () => {
    expect(readAll('hello\n', 6, 1024)).toEqual({ result: { kind: 'ok', text: 'hello\n' }, reads: 1 });
  });

  it('reads a file fstat calls empty (as /proc files are) until the end, doubling the buffer', () => {
    expect(readAll('version: 1\n', 0, 1024)).toEqual({ result: { kind: 'ok', text: 'version: 1\n' }, reads: 6 });
  });

  it('keeps reading through short reads', () => {
    expect(readAll('abcdef', 6, 1024, 2)).toEqual({ result: { kind: 'ok', text: 'abcdef' }, reads: 3 });
  });

  it('reads a file that grew after fstat as far as it grew, within the limit', () => {
    expect(readAll('x'.repeat(40), 5, 1024).result).toEqual({ kind: 'ok', text: 'x'.repeat(40) });
  });

  it('refuses a file that grew past the limit, having read one byte over it', () => {
    expect(readAll('x'.repeat(100), 5, 16).result).toEqual({ kind: 'too-large', size: 17, maxBytes: 16 });
  });

  it('reads a file that shrank after fstat as it is now', () => {
    expect(readAll('abc', 10, 1024)).toEqual({ result: { kind: 'ok', text: 'abc' }, reads: 2 });
  });

  it('accepts a file exactly at the limit and refuses one byte more', () => {
    expect(readAll('x'.repeat(16), 16, 16).result).toEqual({ kind: 'ok', text: 'x'.repeat(16) });
    expect(readAll('x'.repeat(17), 0, 16).result).toEqual({ kind: 'too-large', size: 17, maxBytes: 16 });
  });
});
