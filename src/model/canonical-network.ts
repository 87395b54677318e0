// Parses an IPv4 or IPv6 address or network into the text pf prints back: host bits masked off,
// a full-length prefix dropped, IPv6 in RFC 5952 form. Also orders networks numerically.
import type { Family } from '../ports/port-spec.js';

export interface CanonicalNetwork {
  family: Family;
  text: string;
  /** Address bytes after masking (4 or 16) and the prefix length, for numeric ordering. */
  bytes: number[];
  prefix: number;
}

function parseIpv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes.push(value);
  }
  return bytes;
}

function parseIpv6(text: string): number[] | null {
  if (text.includes('%')) return null;
  let head = text;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    // Re-express an embedded IPv4 tail as two hex groups so the rest sees only hex groups.
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === null) return null;
    const [a = 0, b = 0, c = 0, d = 0] = v4;
    head = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
      out.push(parseInt(group, 16));
    }
    return out;
  };
  const left = groups(halves[0] ?? '');
  const right = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (left === null || right === null) return null;
  let words: number[];
  if (halves.length === 2) {
    const missing = 8 - left.length - right.length;
    if (missing < 1) return null;
    words = [...left, ...new Array<number>(missing).fill(0), ...right];
  } else {
    if (left.length !== 8) return null;
    words = left;
  }
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

function formatIpv6(bytes: readonly number[]): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // RFC 5952: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Returns null when the text is neither an address nor a network of either family. */
export function canonicalNetwork(text: string): CanonicalNetwork | null {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? null : text.slice(slash + 1);
  const family: Family = addressText.includes(':') ? 'inet6' : 'inet';
  const bytes = family === 'inet' ? parseIpv4(addressText) : parseIpv6(addressText);
  if (bytes === null) return null;
  const bits = bytes.length * 8;
  let prefix = bits;
  if (prefixText !== null) {
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(prefixText)) return null;
    prefix = Number(prefixText);
    if (prefix > bits) return null;
  }
  const masked = bytes.map((byte, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
  const address = family === 'inet' ? masked.join('.') : formatIpv6(masked);
  return { family, text: prefix === bits ? address : `${address}/${prefix}`, bytes: masked, prefix };
}

export function compareNetworks(a: CanonicalNetwork, b: CanonicalNetwork): number {
  if (a.family !== b.family) return a.family === 'inet' ? -1 : 1;
  for (let i = 0; i < a.bytes.length; i++) {
    const d = (a.bytes[i] ?? 0) - (b.bytes[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.prefix - b.prefix;
}

export function addressFamily(address: string): Family {
  return address.includes(':') ? 'inet6' : 'inet';
}
