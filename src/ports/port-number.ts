// Port numbers and ranges (`80`, `8000-8010`) as every syntax writes them, with one error code
// per mistake and its exact offsets. Stricter than Kleene and Docker: no 0, no sign, no leading
// zero, no white space, no reversed range.
import type { PortSpecError, PortRange } from './port-spec.js';
import { portError, shiftErrors } from './port-error.js';
import { showToken } from '../text/quote-text.js';

export const MIN_PORT = 1;
export const MAX_PORT = 65535;

export type PortNumberResult = { ok: true; port: number } | { ok: false; errors: PortSpecError[] };
export type PortRangeResult = { ok: true; range: PortRange } | { ok: false; errors: PortSpecError[] };

/**
 * One port number. Offsets in errors are relative to text; pass `offset` to place them inside a
 * longer spec.
 */
export function parsePortNumber(text: string, offset = 0): PortNumberResult {
  const plain = plainPort(text);
  if (plain !== 0) return { ok: true, port: plain };
  const fail = (error: PortSpecError): PortNumberResult => ({ ok: false, errors: shiftErrors([error], offset) });
  const end = text.length;
  if (text === '') {
    return fail(portError('port-empty', 'a port number is missing: write a port from 1 to 65535', 0, 0));
  }
  const space = /\s/u.exec(text);
  if (space !== null) {
    return fail(
      portError(
        'port-whitespace',
        `port ${showToken(text)} contains white space: remove it`,
        space.index,
        space.index + 1,
      ),
    );
  }
  if (/^[+-][0-9]+$/.test(text)) {
    const digits = text.slice(1);
    const hint = text.startsWith('+') ? `write ${digits}` : 'use a port from 1 to 65535';
    return fail(portError('port-sign', `port ${showToken(text)} has a sign: ${hint}`, 0, end));
  }
  if (!/^[0-9]+$/.test(text)) {
    return fail(
      portError(
        'port-not-a-number',
        `port ${showToken(text)} is not a number: write a port from 1 to 65535 or a range such as 8000-8010`,
        0,
        end,
      ),
    );
  }
  const significant = text.replace(/^0+/, '');
  if (significant === '') {
    return fail(portError('port-zero', 'port 0 is not allowed: use a port from 1 to 65535', 0, end));
  }
  if (significant.length > 5 || Number(significant) > MAX_PORT) {
    return fail(
      portError('port-out-of-range', `port ${showToken(text)} is out of range: use a port from 1 to 65535`, 0, end),
    );
  }
  if (significant !== text) {
    return fail(portError('port-leading-zero', `port ${text} has a leading zero: write ${significant}`, 0, end));
  }
  return { ok: true, port: Number(text) };
}

/**
 * The port a text of one to five decimal digits without a leading zero names when it is at most
 * 65535, else 0: what nearly every port is written as, read without the checks below (which give
 * exactly this answer for such a text and say what is wrong with any other).
 */
function plainPort(text: string): number {
  const length = text.length;
  if (length === 0 || length > 5 || text.charCodeAt(0) === 48) return 0;
  let port = 0;
  for (let i = 0; i < length; i += 1) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return 0;
    port = port * 10 + digit;
  }
  return port <= MAX_PORT ? port : 0;
}

/** A port (`80`) or an inclusive range (`8000-8010`); a single port gives start === end. */
export function parsePortRange(text: string, offset = 0): PortRangeResult {
  // A `-` in first place is a sign, not a range separator: `-1` is a negative port.
  const dash = text.indexOf('-', 1);
  if (dash < 0 || /\s/u.test(text)) {
    const single = parsePortNumber(text, offset);
    return single.ok ? { ok: true, range: { start: single.port, end: single.port } } : single;
  }
  const first = parsePortNumber(text.slice(0, dash), offset);
  const last = parsePortNumber(text.slice(dash + 1), offset + dash + 1);
  if (!first.ok || !last.ok) {
    return { ok: false, errors: [...(first.ok ? [] : first.errors), ...(last.ok ? [] : last.errors)] };
  }
  if (first.port > last.port) {
    return {
      ok: false,
      errors: [
        portError(
          'port-range-reversed',
          `port range ${text} ends before it starts: write ${last.port}-${first.port}`,
          offset,
          offset + text.length,
        ),
      ],
    };
  }
  return { ok: true, range: { start: first.port, end: last.port } };
}

/** `80` or `8000-8010`: the text this project writes for a range in every syntax. */
export function formatPortRange(range: PortRange): string {
  return range.start === range.end ? String(range.start) : `${range.start}-${range.end}`;
}

export function portRangeLength(range: PortRange): number {
  return range.end - range.start + 1;
}

export function isPortRange(range: PortRange): boolean {
  return range.end !== range.start;
}
