import { describe, expect, it } from 'vitest';
import { formatPortRange, parsePortNumber, parsePortRange } from '../../src/ports/port-number.js';
import { quoteText } from '../../src/text/quote-text.js';

type Want = { range: [number, number] } | { errors: [string, number, number][] };

const cases: [string, { given: string; want: Want }][] = [
  ['single', { given: '80', want: { range: [80, 80] } }],
  ['lowest', { given: '1', want: { range: [1, 1] } }],
  ['highest', { given: '65535', want: { range: [65535, 65535] } }],
  ['range', { given: '8000-8010', want: { range: [8000, 8010] } }],
  ['range of one', { given: '80-80', want: { range: [80, 80] } }],
  ['empty', { given: '', want: { errors: [['port-empty', 0, 0]] } }],
  ['zero', { given: '0', want: { errors: [['port-zero', 0, 1]] } }],
  ['zeros', { given: '000', want: { errors: [['port-zero', 0, 3]] } }],
  ['plus', { given: '+80', want: { errors: [['port-sign', 0, 3]] } }],
  ['minus', { given: '-1', want: { errors: [['port-sign', 0, 2]] } }],
  ['leading zero', { given: '080', want: { errors: [['port-leading-zero', 0, 3]] } }],
  ['too big', { given: '65536', want: { errors: [['port-out-of-range', 0, 5]] } }],
  ['far too big', { given: '99999999999999999999999', want: { errors: [['port-out-of-range', 0, 23]] } }],
  ['leading zero and too big', { given: '070000', want: { errors: [['port-out-of-range', 0, 6]] } }],
  ['letters', { given: 'http', want: { errors: [['port-not-a-number', 0, 4]] } }],
  ['decimal', { given: '80.5', want: { errors: [['port-not-a-number', 0, 4]] } }],
  ['full-width digits', { given: '８０', want: { errors: [['port-not-a-number', 0, 2]] } }],
  ['space inside', { given: '8 0', want: { errors: [['port-whitespace', 1, 2]] } }],
  ['trailing space', { given: '80 ', want: { errors: [['port-whitespace', 2, 3]] } }],
  ['reversed', { given: '90-80', want: { errors: [['port-range-reversed', 0, 5]] } }],
  ['open end', { given: '80-', want: { errors: [['port-empty', 3, 3]] } }],
  [
    'bad both ends',
    {
      given: '0-070',
      want: {
        errors: [
          ['port-zero', 0, 1],
          ['port-leading-zero', 2, 5],
        ],
      },
    },
  ],
  ['negative end', { given: '80--90', want: { errors: [['port-sign', 3, 6]] } }],
  ['range end too big', { given: '65000-70000', want: { errors: [['port-out-of-range', 6, 11]] } }],
  ['colon range', { given: '80:90', want: { errors: [['port-not-a-number', 0, 5]] } }],
  ['lone dash', { given: '-', want: { errors: [['port-not-a-number', 0, 1]] } }],
];

describe('parsePortRange', () => {
  it.each(cases)('%s', (_name, { given, want }) => {
    const result = parsePortRange(given);
    if ('range' in want) {
      expect(result).toEqual({ ok: true, range: { start: want.range[0], end: want.range[1] } });
    } else {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors.map((e) => [e.code, e.start, e.end])).toEqual(want.errors);
    }
  });

  it('places offsets inside a longer spec', () => {
    const result = parsePortRange('80-0', 10);
    expect(result.ok ? [] : result.errors.map((e) => [e.code, e.start, e.end])).toEqual([['port-zero', 13, 14]]);
  });

  it.each([
    ['0', 'port 0 is not allowed: use a port from 1 to 65535'],
    ['080', 'port 080 has a leading zero: write 80'],
    ['+80', 'port "+80" has a sign: write 80'],
    ['65536', 'port 65536 is out of range: use a port from 1 to 65535'],
    ['90-80', 'port range 90-80 ends before it starts: write 80-90'],
  ])('message for %s says what would be right', (given, message) => {
    const result = parsePortRange(given);
    expect(result.ok ? null : result.errors[0]?.message).toBe(message);
  });

  it('escapes control characters in messages', () => {
    const result = parsePortNumber('8\u001b[31m0');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors[0]?.message).toContain('\\u001b');
      expect(result.errors[0]?.message).not.toContain('\u001b');
    }
  });
});

describe('formatPortRange', () => {
  it('writes singles bare and ranges with a dash', () => {
    expect(formatPortRange({ start: 80, end: 80 })).toBe('80');
    expect(formatPortRange({ start: 80, end: 90 })).toBe('80-90');
  });
});

describe('quoteText', () => {
  it.each([
    ['plain', 'em0', '"em0"'],
    ['newline', 'a\nb', '"a\\nb"'],
    ['quote', 'a"b', '"a\\"b"'],
    ['bidi override', 'a\u202eb', '"a\\u202eb"'],
    ['line separator', 'a\u2028b', '"a\\u2028b"'],
    ['no-break space', 'a\u00a0b', '"a\\u00a0b"'],
    ['lone surrogate', 'a\ud800b', '"a\\ud800b"'],
    ['astral kept', 'a😀b', '"a😀b"'],
    ['long text cut', 'x'.repeat(50), `"${'x'.repeat(40)}…"`],
  ])('%s', (_name, given, want) => {
    expect(quoteText(given)).toBe(want);
  });
});

describe('parsePortNumber on every plain number', () => {
  it('accepts exactly 1 to 65535 written without a leading zero, and names the error of the rest', () => {
    const wrong: string[] = [];
    for (let n = 0; n <= 100000; n += 1) {
      for (const text of [String(n), `0${n}`]) {
        const got = parsePortNumber(text);
        const valid = n >= 1 && n <= 65535 && !text.startsWith('0');
        const want = valid ? 'ok' : n === 0 ? 'port-zero' : n > 65535 ? 'port-out-of-range' : 'port-leading-zero';
        const seen = got.ok ? (got.port === n ? 'ok' : `port ${got.port}`) : got.errors.map((e) => e.code).join(',');
        if (seen !== want) wrong.push(`${text}: ${seen}, want ${want}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
