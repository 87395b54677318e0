// How much of a file to read and when to stop, apart from the reads themselves (host/read-regular-file.ts
// makes them, synchronously or not): the file's size from fstat, a limit, and a file that grows or
// shrinks while it is read.
import type { ReadRegularResult } from '../diagnostics/file-errors.js';

/**
 * Reads into a buffer sized from fstat until end of file or until it holds the size fstat gave (no
 * read just to meet the end), growing it while the file grows, never past one byte over the limit
 * (enough to see that a growing file went past it). The sync and async readers both loop on it:
 * `while (wants()) took(read(buffer, length, room()))`.
 */
export class BoundedRead {
  buffer: Uint8Array;
  length = 0;
  private ended = false;

  constructor(
    private readonly size: number,
    private readonly maxBytes: number,
  ) {
    this.buffer = new Uint8Array(Math.min(size, maxBytes) + 1);
  }

  /** True while another read is needed (of up to room() bytes at length); grows a full buffer first. */
  wants(): boolean {
    if (this.ended || (this.length === this.size && this.size > 0)) return false;
    if (this.length < this.buffer.length) return true;
    if (this.buffer.length > this.maxBytes) return false;
    const larger = new Uint8Array(Math.min(this.buffer.length * 2, this.maxBytes + 1));
    larger.set(this.buffer);
    this.buffer = larger;
    return true;
  }

  room(): number {
    return this.buffer.length - this.length;
  }

  took(bytesRead: number): void {
    this.ended = bytesRead === 0;
    this.length += bytesRead;
  }

  result(): Extract<ReadRegularResult, { kind: 'ok' } | { kind: 'too-large' }> {
    const { size, length, maxBytes } = this;
    return length > maxBytes
      ? { kind: 'too-large', size: Math.max(size, length), maxBytes }
      : { kind: 'ok', bytes: this.buffer.subarray(0, length) };
  }
}
