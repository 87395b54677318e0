import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  checkAnchorHooks,
  parseLabelCounters,
  parsePfctlErrors,
  parsePfInfo,
  parseTableList,
  significantStderr,
  validateAnchorName,
  validateLabel,
} from '../../src/pf/pfctl-output.js';

// Samples in the form FreeBSD's pfctl prints them.
const INFO_ENABLED = `Status: Enabled for 3 days 04:11:52           Debug: Urgent

Interface Stats for em0               IPv4             IPv6
  Bytes In                        123456                0
State Table                          Total             Rate
  current entries                       12
`;
const INFO_DISABLED = `No ALTQ support in kernel
ALTQ related functions disabled
Status: Disabled for 0 days 00:00:00          Debug: Urgent
`;

describe('parsePfInfo', () => {
  it.each([
    ['enabled', { given: INFO_ENABLED, want: true }],
    ['disabled (ALTQ notice first)', { given: INFO_DISABLED, want: false }],
    ['empty', { given: '', want: undefined }],
    ['an error instead', { given: 'pfctl: /dev/pf: Permission denied\n', want: undefined }],
  ] as const)('%s', (_name, { given, want }) => {
    expect(parsePfInfo(given)).toBe(want);
  });
});

describe('parsePfctlErrors', () => {
  it.each([
    ['one syntax error', { given: 'stdin:3: syntax error\n', want: [{ line: 3, message: 'syntax error' }] }],
    [
      'several, with the closing line that is not an error of a line',
      {
        given:
          "stdin:1: macro 'ext_if' not defined\nstdin:7: invalid port range\npfctl: Syntax error in config file: pf rules not loaded\n",
        want: [
          { line: 1, message: "macro 'ext_if' not defined" },
          { line: 7, message: 'invalid port range' },
        ],
      },
    ],
    [
      'rule order',
      {
        given: 'stdin:12: Rules must be in order: options, ethernet, normalization, queueing, translation, filtering\n',
        want: [
          {
            line: 12,
            message: 'Rules must be in order: options, ethernet, normalization, queueing, translation, filtering',
          },
        ],
      },
    ],
    ['an error in another file is not ours', { given: 'pf1070.include:2: syntax error\n', want: [] }],
    ['nothing', { given: '', want: [] }],
  ])('%s', (_name, { given, want }) => {
    expect(parsePfctlErrors(given)).toEqual(want);
  });

  const FILE = '/tmp/pfexpose-load-4242-aB3xY9/ruleset.conf';
  it.each([
    [
      'the file pfctl was given, named as given',
      { given: `${FILE}:3: syntax error\n`, want: [{ line: 3, message: 'syntax error' }] },
    ],
    [
      'several, then the closing line',
      {
        given: `${FILE}:1: macro 'ext_if' not defined\n${FILE}:7: invalid port range\npfctl: Syntax error in config file: pf rules not loaded\n`,
        want: [
          { line: 1, message: "macro 'ext_if' not defined" },
          { line: 7, message: 'invalid port range' },
        ],
      },
    ],
    [
      'a path with a colon in it',
      {
        given: '/tmp/a:b/ruleset.conf:4: syntax error\n',
        file: '/tmp/a:b/ruleset.conf',
        want: [{ line: 4, message: 'syntax error' }],
      },
    ],
    [
      'another file (an include) is not ours',
      { given: '/tmp/other/ruleset.conf:2: syntax error\npf1070.include:2: syntax error\n', want: [] },
    ],
    ['a line without a number after the name', { given: `${FILE}: No such file or directory\n`, want: [] }],
    ['a longer path that starts with the file name', { given: `${FILE}.bak:2: syntax error\n`, want: [] }],
  ])('with a file: %s', (_name, { given, want, ...rest }) => {
    const file = 'file' in rest ? String(rest.file) : FILE;
    expect(parsePfctlErrors(given, file)).toEqual(want);
  });

  it('never throws and reports only positive line numbers', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        for (const error of parsePfctlErrors(text)) expect(Number.isInteger(error.line)).toBe(true);
      }),
    );
  });
});

describe('significantStderr', () => {
  it('drops the ALTQ notices FreeBSD prints on every run', () => {
    expect(significantStderr('No ALTQ support in kernel\nALTQ related functions disabled\n')).toEqual([]);
    expect(significantStderr('No ALTQ support in kernel\npfctl: DIOCGETRULES: Invalid argument\n')).toEqual([
      'pfctl: DIOCGETRULES: Invalid argument',
    ]);
  });
});

describe('parseTableList', () => {
  it.each([
    ['plain names, sorted', { given: 'webhosts\nbruteforce\n', want: ['bruteforce', 'webhosts'] }],
    ['-v flags column', { given: '-pa-r--\tbruteforce\n--a----\tjails\n', want: ['bruteforce', 'jails'] }],
    ['empty', { given: '\n', want: [] }],
  ])('%s', (_name, { given, want }) => {
    expect(parseTableList(given)).toEqual(want);
  });
});

describe('checkAnchorHooks', () => {
  it.each([
    [
      'both hooks present (with -v numbering and counters)',
      {
        sn: 'nat on em0 inet from 10.0.0.0/24 to any -> (em0) round-robin\n@1 rdr-anchor "pfexpose" all\n',
        sr: 'block drop in all\n@3 anchor "pfexpose" all\n  [ Evaluations: 10        Packets: 0         Bytes: 0           States: 0     ]\npass out all flags S/SA keep state\n',
        want: { ok: true, missing: [], linesToAdd: [], restricted: [] },
      },
    ],
    [
      'nothing hooked',
      {
        sn: '',
        sr: 'pass all flags S/SA keep state\n',
        want: {
          ok: false,
          missing: ['rdr-anchor', 'anchor'],
          linesToAdd: ['rdr-anchor "pfexpose"', 'anchor "pfexpose"'],
          restricted: [],
        },
      },
    ],
    [
      'another anchor, or a child wildcard, does not count',
      {
        sn: 'rdr-anchor "pfexpose2" all\n',
        sr: 'anchor "pfexpose/*" all\nanchor "other" all\n',
        want: {
          ok: false,
          missing: ['rdr-anchor', 'anchor'],
          linesToAdd: ['rdr-anchor "pfexpose"', 'anchor "pfexpose"'],
          restricted: [],
        },
      },
    ],
    [
      'only the filter hook missing',
      {
        sn: 'rdr-anchor "pfexpose" all\n',
        sr: 'anchor "ftp-proxy/*" all\n',
        want: { ok: false, missing: ['anchor'], linesToAdd: ['anchor "pfexpose"'], restricted: [] },
      },
    ],
    [
      'a hook limited to one interface is present but restricted',
      {
        sn: 'rdr-anchor "pfexpose" on em0 all\n',
        sr: 'anchor "pfexpose" all\n',
        want: {
          ok: true,
          missing: [],
          linesToAdd: [],
          restricted: [{ hook: 'rdr-anchor', line: 'rdr-anchor "pfexpose" on em0 all' }],
        },
      },
    ],
  ])('%s', (_name, { sn, sr, want }) => {
    expect(checkAnchorHooks(sn, sr, 'pfexpose')).toEqual(want);
  });
});

describe('names and programs', () => {
  it.each([
    ['pfexpose', true],
    ['pf_expose-2.test', true],
    ['_x', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['', false],
    ['-x', false],
    ['.hidden', false],
    ['a/b', false],
    ['a b', false],
    ['pfexpose"', false],
  ])('anchor name %j valid: %s', (name, want) => {
    expect(validateAnchorName(name).ok).toBe(want);
  });

  it.each([
    ['pfexpose:web:tcp/8080', true],
    ['', false],
    ['x'.repeat(64), false],
    ['quote"d', false],
    ['new\nline', false],
  ])('label %j valid: %s', (label, want) => {
    expect(validateLabel(label).ok).toBe(want);
  });
});

describe('parseLabelCounters', () => {
  const zero = {
    evaluations: 0,
    packets: 0,
    bytes: 0,
    inPackets: 0,
    inBytes: 0,
    outPackets: 0,
    outBytes: 0,
    states: 0,
  };
  it.each([
    ['empty', { given: '', want: { counters: [], unreadable: [] } }],
    [
      'one line',
      {
        given: 'web:tcp:em0:8080 12 9 900 5 500 4 400 2\n',
        want: {
          counters: [
            {
              label: 'web:tcp:em0:8080',
              evaluations: 12,
              packets: 9,
              bytes: 900,
              inPackets: 5,
              inBytes: 500,
              outPackets: 4,
              outBytes: 400,
              states: 2,
            },
          ],
          unreadable: [],
        },
      },
    ],
    [
      'two rules of one label are summed, labels sorted',
      {
        given: 'b 1 1 1 1 1 0 0 1\na 0 0 0 0 0 0 0 0\nb 2 2 2 2 2 0 0 1\n',
        want: {
          counters: [
            { label: 'a', ...zero },
            { label: 'b', ...zero, evaluations: 3, packets: 3, bytes: 3, inPackets: 3, inBytes: 3, states: 2 },
          ],
          unreadable: [],
        },
      },
    ],
    [
      'a label with a space, and lines that are not counters',
      {
        given: 'my label 1 0 0 0 0 0 0 0\nNo ALTQ support in kernel\nx 1 2 3\n',
        want: {
          counters: [{ label: 'my label', ...zero, evaluations: 1 }],
          unreadable: ['No ALTQ support in kernel', 'x 1 2 3'],
        },
      },
    ],
  ])('%s', (_name, { given, want }) => {
    expect(parseLabelCounters(given)).toEqual(want);
  });

  it('never throws on any text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        parseLabelCounters(text);
      }),
    );
  });
});
