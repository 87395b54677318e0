// IP address and network helpers shared by every stage: strict parsing (no zones, brackets or
// host names), one canonical text per address (IPv6 in RFC 5952 form) and pf's printed form of
// networks, so that texts compare equal exactly when the addresses are equal.
import type { Family } from './port-spec.js';
import { quoteText } from '../text/quote-text.js';

export interface ParsedAddress {
  family: Family;
  /** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
  text: string;
}

export interface ParsedNetwork {
  family: Family;
  /** Canonical text of the network address (host bits cleared). */
  address: string;
  /** Prefix length; 32 or 128 when the text named a single host. */
  prefix: number;
  /** How pfctl prints it: a host without `/32` or `/128`, a network as masked `address/prefix`. */
  text: string;
  /** True when the written address had bits set beyond the prefix (`10.0.0.1/8`). */
  hostBitsSet: boolean;
}

export function parseAddress(text: string): ParsedAddress | null {
  const v4 = parseIPv4Bytes(text);
  if (v4 !== null) return { family: 'inet', text: formatIPv4(v4) };
  const v6 = parseIPv6Words(text);
  if (v6 !== null) return { family: 'inet6', text: formatIPv6(v6) };
  return null;
}

/**
 * True for a loopback address (127.0.0.0/8, ::1) in any written form: the host addresses whose
 * exposures pf redirects on lo0, which only the host itself can reach.
 */
export function isLoopbackAddress(text: string): boolean {
  const parsed = parseAddress(text);
  if (parsed === null) return false;
  return parsed.family === 'inet' ? parsed.text.startsWith('127.') : parsed.text === '::1';
}

export function parseNetwork(text: string): ParsedNetwork | null {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? null : text.slice(slash + 1);
  const v4 = parseIPv4Bytes(addressText);
  const bytes = v4 ?? ipv6WordsToBytes(parseIPv6Words(addressText));
  if (bytes === null) return null;
  const family: Family = v4 !== null ? 'inet' : 'inet6';
  const bits = bytes.length * 8;
  let prefix = bits;
  if (prefixText !== null) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return null;
    prefix = Number(prefixText);
    if (prefix > bits) return null;
  }
  const masked = maskBytes(bytes, prefix);
  const hostBitsSet = masked.some((b, i) => b !== bytes[i]);
  const address = family === 'inet' ? formatIPv4(masked) : formatIPv6(bytesToIPv6Words(masked));
  return {
    family,
    address,
    prefix,
    text: prefix === bits ? address : `${address}/${prefix}`,
    hostBitsSet,
  };
}

/** The family of an address or network text already known to be valid (parseAddress accepted it). */
export function familyOfAddress(text: string): Family {
  return text.includes(':') ? 'inet6' : 'inet';
}

/** Numeric order of networks: IPv4 first, then by masked address bytes, then by prefix length. */
export function compareNetworks(a: ParsedNetwork, b: ParsedNetwork): number {
  if (a.family !== b.family) return a.family === 'inet' ? -1 : 1;
  const aBytes = addressBytes(a.address);
  const bBytes = addressBytes(b.address);
  for (let i = 0; i < aBytes.length; i++) {
    const d = (aBytes[i] ?? 0) - (bBytes[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.prefix - b.prefix;
}

function addressBytes(text: string): number[] {
  return parseIPv4Bytes(text) ?? ipv6WordsToBytes(parseIPv6Words(text)) ?? [];
}

/** Why text is not an address, in a few words for a message; null when it is one. */
export function describeAddressProblem(text: string): string | null {
  if (parseAddress(text) !== null) return null;
  if (text === '') return 'the address is empty';
  if (/\s/u.test(text)) return 'it contains white space: remove it';
  if (text.startsWith('[') || text.endsWith(']')) {
    const inner = parseAddress(text.replace(/^\[/, '').replace(/\]$/, ''));
    if (inner !== null) return `brackets are not part of the address: write ${inner.text}`;
    return 'brackets are not part of the address: write the bare address';
  }
  if (text.includes('%')) {
    return 'zones (%name) are not supported: write the address without its zone';
  }
  if (text.includes('/')) {
    return 'a prefix length is not allowed here: write a single address';
  }
  if (/^[0-9.]+$/.test(text)) return describeIPv4Problem(text);
  if (text.includes(':')) return describeIPv6Problem(text);
  if (/^[A-Za-z0-9.-]+$/.test(text) && /[A-Za-z]/.test(text)) {
    return 'host names are not accepted: write an IP address';
  }
  return 'it is neither an IPv4 nor an IPv6 address';
}

/** Why text is not a network (`address` or `address/prefix`); null when it is one. */
export function describeNetworkProblem(text: string): string | null {
  if (parseNetwork(text) !== null) return null;
  const slash = text.indexOf('/');
  if (slash < 0) return describeAddressProblem(text);
  const addressText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const addressProblem = describeAddressProblem(addressText);
  if (addressProblem !== null) return addressProblem;
  const parsed = parseAddress(addressText);
  const bits = parsed?.family === 'inet' ? 32 : 128;
  if (prefixText.includes('/')) return 'only one /PREFIX is allowed';
  if (!/^[0-9]+$/.test(prefixText)) {
    return `prefix length ${quoteText(prefixText)} is not a number: write 0 to ${bits}`;
  }
  if (/^0[0-9]/.test(prefixText)) {
    return `prefix length ${prefixText} has a leading zero: write ${String(Number(prefixText))}`;
  }
  return `prefix length ${prefixText} is too long for an ${parsed?.family === 'inet' ? 'IPv4' : 'IPv6'} address: write 0 to ${bits}`;
}

function describeIPv4Problem(text: string): string {
  const octets = text.split('.');
  if (octets.length !== 4) return `an IPv4 address has four numbers separated by dots, not ${octets.length}`;
  for (const octet of octets) {
    if (octet === '') return 'an IPv4 address has no empty parts';
    if (octet.length > 1 && octet.startsWith('0')) {
      return `part ${octet} has a leading zero: write ${String(Number(octet))}`;
    }
    if (Number(octet) > 255) return `part ${octet} is greater than 255`;
  }
  return 'it is not an IPv4 address';
}

function describeIPv6Problem(text: string): string {
  if (text.includes(':::')) return '":::" is not allowed: "::" stands for any run of zero groups';
  if (text.split('::').length > 2) return '"::" may appear only once in an IPv6 address';
  if (!/^[0-9A-Fa-f:.]+$/.test(text))
    return 'an IPv6 address holds only hex digits, ":" and an optional final IPv4 part';
  const groups = text.split(':');
  if (groups.some((g) => !g.includes('.') && g.length > 4)) return 'an IPv6 group has at most four hex digits';
  return 'it is not a valid IPv6 address';
}

/**
 * Four decimal octets 0-255 separated by dots, nothing else. Read character by character: every
 * address of every manifest and exposure passes here, and splitting and matching each octet cost
 * several strings and regular-expression runs per address.
 */
function parseIPv4Bytes(text: string): number[] | null {
  const bytes: number[] = [];
  let i = 0;
  for (;;) {
    const first = text.charCodeAt(i) - 48;
    if (!(first >= 0 && first <= 9)) return null;
    let value = first;
    let digits = 1;
    i += 1;
    for (let c = text.charCodeAt(i) - 48; c >= 0 && c <= 9; c = text.charCodeAt(i) - 48) {
      // No leading zeros: some parsers read them as octal, so `010` would be ambiguous.
      if (first === 0 || digits === 3) return null;
      value = value * 10 + c;
      digits += 1;
      i += 1;
    }
    if (value > 255) return null;
    bytes.push(value);
    if (bytes.length === 4) return i === text.length ? bytes : null;
    if (text.charCodeAt(i) !== 46) return null;
    i += 1;
  }
}

/**
 * Eight 16-bit groups, written as up to eight groups of one to four hex digits separated by `:`,
 * one `::` standing for one or more zero groups, and an optional dotted IPv4 address as the last
 * two groups. Read character by character, like parseIPv4Bytes.
 */
function parseIPv6Words(text: string): number[] | null {
  const length = text.length;
  if (length > 45) return null;
  const head: number[] = [];
  let tail: number[] | null = null;
  let i = 0;
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return null;
    tail = [];
    i = 2;
  }
  while (i < length) {
    const words = tail ?? head;
    let end = i;
    let dotted = false;
    for (let c = text.charCodeAt(end); end < length && c !== COLON; c = text.charCodeAt(++end)) {
      if (c === DOT) dotted = true;
    }
    if (dotted) {
      // An IPv4 address may only end the text.
      if (end !== length) return null;
      const v4 = parseIPv4Bytes(i === 0 ? text : text.slice(i));
      if (v4 === null) return null;
      words.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      break;
    }
    if (end === i || end - i > 4) return null;
    let word = 0;
    for (let k = i; k < end; k += 1) {
      const digit = hexDigit(text.charCodeAt(k));
      if (digit < 0) return null;
      word = word * 16 + digit;
    }
    words.push(word);
    if (end === length) break;
    // A `:` ends the group; a second one right after it is the `::`, allowed once.
    i = end + 1;
    if (text.charCodeAt(i) === COLON) {
      if (tail !== null) return null;
      tail = [];
      i += 1;
    } else if (i === length) return null;
  }
  if (tail === null) return head.length === 8 ? head : null;
  // `::` stands for one or more zero groups (RFC 4291 section 2.2).
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  for (let k = 0; k < missing; k += 1) head.push(0);
  for (const word of tail) head.push(word);
  return head;
}

const COLON = 58;
const DOT = 46;

/** The value of a hex digit's character code, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function formatIPv4(bytes: readonly number[]): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** RFC 5952: lower case, no leading zeros, the first longest run of two or more zero groups as `::`. */
function formatIPv6(words: readonly number[]): string {
  // IPv4-mapped addresses keep their dotted tail (RFC 5952 section 5), as inet_ntop prints them.
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && words[5] === 0xffff) {
    const hi = words[6] ?? 0;
    const lo = words[7] ?? 0;
    return `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  let text = '';
  for (let i = 0; i < 8; i += 1) {
    if (i === bestStart) {
      text += '::';
      i += bestLength - 1;
      continue;
    }
    if (text !== '' && !text.endsWith(':')) text += ':';
    text += (words[i] as number).toString(16);
  }
  return text;
}

function ipv6WordsToBytes(words: readonly number[] | null): number[] | null {
  if (words === null) return null;
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

function bytesToIPv6Words(bytes: readonly number[]): number[] {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  return words;
}

function maskBytes(bytes: readonly number[], prefix: number): number[] {
  return bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff00 >> keep) & 0xff);
  });
}

/**
 * Why a parsed address cannot be a container's own address (traffic cannot be redirected to it),
 * or null: the unspecified address, a multicast address, IPv4's limited broadcast.
 */
export function describeUnusableContainerAddress(address: ParsedAddress): string | null {
  const text = address.text;
  if (address.family === 'inet') {
    if (text === '0.0.0.0') return 'it is the unspecified address, which no container can have';
    if (text === '255.255.255.255') return 'it is the limited broadcast address';
    const first = Number(text.slice(0, text.indexOf('.')));
    if (first >= 224 && first <= 239) return 'it is a multicast address';
    return null;
  }
  if (text === '::') return 'it is the unspecified address, which no container can have';
  // Each pattern below is tried only on texts with its first characters: every container's
  // address passes here.
  if (text.startsWith('ff') && /^ff[0-9a-f]{0,2}:/.test(text)) return 'it is a multicast address';
  if (text.startsWith('fe') && /^fe[89ab][0-9a-f]:/.test(text))
    return 'it is a link-local address, which is ambiguous without an interface zone that pf rules cannot carry';
  if (!text.startsWith('::')) return null;
  if (text.startsWith('::ffff:')) return 'it is an IPv4-mapped address: put the IPv4 address in ip';
  // ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291); ::1 is loopback, handled by the caller's rules.
  if (/^::[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(text))
    return 'it is an IPv4-compatible address, deprecated since RFC 4291: use a real IPv6 address';
  return null;
}
