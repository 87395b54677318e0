// The IPv6 reader and printer of ports/address.ts read characters one at a time; this file keeps
// the version they replaced (split on `::` and `:`, a regular expression per group, arrays joined)
// as the reference, and holds the two to the same answer on generated texts, valid and not.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAddress, parseNetwork } from '../../src/ports/address.js';

function referenceWords(text: string): number[] | null {
  if (text.length > 45) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = referenceGroups(halves[0] ?? '', halves.length === 1);
  if (head === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const tail = referenceGroups(halves[1] ?? '', true);
  if (tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function referenceGroups(text: string, mayEndWithIPv4: boolean): number[] | null {
  if (text === '') return [];
  const groups = text.split(':');
  const words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i] ?? '';
    if (i === groups.length - 1 && mayEndWithIPv4 && group.includes('.')) {
      const v4 = referenceIPv4(group);
      if (v4 === null) return null;
      words.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      continue;
    }
    if (!/^[0-9A-Fa-f]{1,4}$/.test(group)) return null;
    words.push(parseInt(group, 16));
  }
  return words;
}

function referenceIPv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) return null;
    bytes.push(Number(part));
  }
  return bytes;
}

function referenceFormat(words: readonly number[]): string {
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
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
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function referenceAddress(text: string): { family: string; text: string } | null {
  const v4 = referenceIPv4(text);
  if (v4 !== null) return { family: 'inet', text: v4.join('.') };
  const v6 = referenceWords(text);
  return v6 === null ? null : { family: 'inet6', text: referenceFormat(v6) };
}

/** Texts made of the pieces IPv6 addresses are made of, mostly near-valid. */
const soup = fc
  .array(
    fc.constantFrom(
      '0',
      '1',
      '9',
      'a',
      'f',
      'F',
      'ffff',
      '12345',
      '255',
      '256',
      '01',
      ':',
      '::',
      ':::',
      '.',
      'g',
      '%',
      '1.2.3.4',
      '0.0.0.0',
      ' ',
    ),
    { maxLength: 16 },
  )
  .map((parts) => parts.join(''));

/** Valid addresses in every written form: groups with and without `::`, an IPv4 tail, any case. */
const written = fc
  .tuple(
    fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }),
    fc.integer({ min: 0, max: 8 }),
    fc.integer({ min: 0, max: 8 }),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([words, start, length, upper, dotted]) => {
    let groups = words.map((w) => w.toString(16));
    if (dotted)
      groups = [...groups.slice(0, 6), `${words[6]! >> 8}.${words[6]! & 0xff}.${words[7]! >> 8}.${words[7]! & 0xff}`];
    const cut = Math.min(length, groups.length - start);
    const text =
      cut >= 1 ? `${groups.slice(0, start).join(':')}::${groups.slice(start + cut).join(':')}` : groups.join(':');
    return upper ? text.toUpperCase() : text;
  });

describe('the IPv6 reader and printer against the implementation they replaced', () => {
  it('read and print every text as it did', () => {
    fc.assert(
      fc.property(fc.oneof(soup, written, fc.string({ maxLength: 46 })), (text) => {
        expect(parseAddress(text)).toEqual(referenceAddress(text));
      }),
      { numRuns: 10000 },
    );
  });

  it('give networks the same address text', () => {
    fc.assert(
      fc.property(written, fc.integer({ min: 0, max: 128 }), (text, prefix) => {
        const network = parseNetwork(`${text}/${prefix}`);
        expect(network).not.toBeNull();
        const words = referenceWords(network!.address);
        expect(words).not.toBeNull();
        expect(referenceFormat(words!)).toBe(network!.address);
      }),
      { numRuns: 5000 },
    );
  });
});
