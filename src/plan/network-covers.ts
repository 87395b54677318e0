// Whether one network contains another, for the "sources widened" flag: a desired source that no
// deployed source contains admits clients that were refused before.
import { parseNetwork } from '../ports/address.js';

interface Bits {
  family: 'inet' | 'inet6';
  bytes: number[];
  prefix: number;
}

/** True when every address of inner is inside outer (same family). */
export function networkCovers(outer: string, inner: string): boolean {
  const a = networkBits(outer);
  const b = networkBits(inner);
  if (a === null || b === null || a.family !== b.family || a.prefix > b.prefix) return false;
  for (let bit = 0; bit < a.prefix; bit += 1) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((a.bytes[byte] ?? 0) & mask) !== ((b.bytes[byte] ?? 0) & mask)) return false;
  }
  return true;
}

/** The sources of `after` that no source of `before` covers; an empty list means any source. */
export function widenedSources(before: readonly string[], after: readonly string[]): string[] {
  if (before.length === 0) return [];
  return after.filter((inner) => !before.some((outer) => networkCovers(outer, inner)));
}

function networkBits(text: string): Bits | null {
  const network = parseNetwork(text);
  if (network === null) return null;
  const bytes = network.family === 'inet' ? ipv4Bytes(network.address) : ipv6Bytes(network.address);
  if (bytes === null) return null;
  return { family: network.family, bytes, prefix: network.prefix };
}

function ipv4Bytes(text: string): number[] | null {
  const parts = text.split('.').map(Number);
  return parts.length === 4 && parts.every((n) => Number.isInteger(n) && n >= 0 && n <= 255) ? parts : null;
}

// The canonical RFC 5952 text parseNetwork returns: hex groups with at most one `::`, and an
// embedded dotted quad in the last 32 bits.
function ipv6Bytes(text: string): number[] | null {
  let body = text;
  let tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  if (dotted?.[1] !== undefined) {
    const v4 = ipv4Bytes(dotted[1]);
    if (v4 === null) return null;
    tail = v4;
    body = body.slice(0, -dotted[1].length);
    if (body.endsWith(':') && !body.endsWith('::')) body = body.slice(0, -1);
  }
  const [head = '', rest] = body.split('::');
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const total = 8 - tail.length / 2;
  const zeros = rest === undefined ? 0 : total - left.length - right.length;
  const words = [...left, ...Array<number>(Math.max(0, zeros)).fill(0), ...right];
  if (words.length !== total || words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffff)) return null;
  return [...words.flatMap((w) => [w >> 8, w & 0xff]), ...tail];
}
