import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import {
  atCommandLine,
  atPath,
  COMMAND_LINE,
  diagnosticPlace,
  sortDiagnostics,
} from '../../src/diagnostics/diagnostic.js';
import {
  escapeGithubData,
  escapeGithubProperty,
  formatGithub,
  formatValidateGithub,
} from '../../src/diagnostics/format-github.js';
import { formatEnvelope } from '../../src/diagnostics/format-json.js';
import { formatSummary, formatText } from '../../src/diagnostics/format-text.js';

const error: Diagnostic = {
  code: 'port-zero',
  severity: 'error',
  message: 'port 0 is not allowed: use a port from 1 to 65535',
  file: 'examples/web.yaml',
  line: 3,
  column: 9,
  endLine: 3,
  endColumn: 10,
  pointer: '/containers/web/ports/0',
  hint: 'ports run from 1 to 65535',
};
const warning: Diagnostic = {
  code: 'family-mismatch',
  severity: 'warning',
  message: 'a, b: 100% odd\nsecond line',
  file: 'dir,with:odd/f.yaml',
  line: 1,
  column: 1,
  endLine: 1,
  endColumn: 4,
};
const source = 'version: 1\nports:\n  - [0]\n';

describe('formatText', () => {
  it('prints file:line:col: severity CODE message, one per line, with the hint on the same line', () => {
    expect(formatText([error])).toBe(
      'examples/web.yaml:3:9: error port-zero port 0 is not allowed: use a port from 1 to 65535 (hint: ports run from 1 to 65535)\n',
    );
  });

  it('adds a code frame with carets under the span, and the hint', () => {
    const out = formatText([error], { codeFrame: true, sources: new Map([['examples/web.yaml', source]]) });
    expect(out).toBe(
      [
        'examples/web.yaml:3:9: error port-zero port 0 is not allowed: use a port from 1 to 65535',
        ' 3 |   - [0]',
        '   |         ^',
        '  hint: ports run from 1 to 65535',
        '',
      ].join('\n'),
    );
  });

  it('shows a window of a very long line, with the carets still under the span', () => {
    const long = `key: ${'a'.repeat(5000)}BAD${'b'.repeat(5000)}\n`;
    const column = 6 + 5000;
    const at: Diagnostic = { ...error, line: 1, column, endLine: 1, endColumn: column + 3 };
    const out = formatText([at], { codeFrame: true, sources: new Map([[at.file, long]]) });
    const [, line, carets] = out.split('\n');
    expect(line?.length).toBeLessThan(200);
    expect(line).toMatch(/^ 1 \| …a+BADb+…$/);
    const offset = (line ?? '').indexOf('BAD');
    expect(carets?.indexOf('^')).toBe(offset);
    expect(carets).toMatch(/\| +\^\^\^$/);
  });

  it('colours only when asked', () => {
    expect(formatText([error], { color: true })).toContain('\u001b[31;1merror\u001b[0m');
    expect(formatText([error])).not.toContain('\u001b');
  });

  it('never prints control characters from files or names', () => {
    const hostile: Diagnostic = { ...error, file: 'a\u001b[2Jb.yaml', line: 1, column: 1, endLine: 1, endColumn: 3 };
    const out = formatText([hostile], { codeFrame: true, sources: new Map([[hostile.file, 'x\u001b[31my\n']]) });
    expect(out).not.toContain('\u001b');
    expect(out).toContain('a\\u001b[2Jb.yaml');
  });

  it('escapes bidi marks, zero-width and invisible characters as quoteText does, carets still in place', () => {
    // One policy for user text (issue 12): what quoteText escapes, file names and code frames escape too.
    const file = 'a\u200fb\u200bc\u{e0041}.yaml';
    const hostile: Diagnostic = { ...error, file, line: 1, column: 6, endLine: 1, endColumn: 7 };
    const out = formatText([hostile], { codeFrame: true, sources: new Map([[file, 'x\u200f\u{e0041}yZ\n']]) });
    expect(out).toContain('a\\u200fb\\u200bc\\udb40\\udc41.yaml');
    expect(out).not.toMatch(/[\u200b\u200f]|\u{e0041}/u);
    const [, line, carets] = out.split('\n');
    expect(line).toMatch(/\| x\ufffd\ufffd\ufffdyZ$/);
    expect(carets?.indexOf('^')).toBe((line ?? '').indexOf('Z'));
  });

  it.each([
    ['valid', [], { files: 3, containers: 5 }, '3 files, 5 containers: valid\n'],
    ['errors', [error, error], { files: 1, containers: 1 }, '1 file, 1 container: 2 errors\n'],
    ['warning only', [warning], { files: 2, containers: 0 }, '2 files, 0 containers: valid, 1 warning\n'],
  ] as const)('formatSummary: %s', (_name, diagnostics, summary, want) => {
    expect(formatSummary(diagnostics, summary)).toBe(want);
  });
});

describe('formatEnvelope (every --format json)', () => {
  const formatJson = (diagnostics: readonly Diagnostic[]): string => formatEnvelope('validate', diagnostics);

  it('prints the envelope keys first, then exactly the documented diagnostic keys, in order, hint only when there is one', () => {
    const text = formatJson([error, warning]);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    const parsed = JSON.parse(text) as { diagnostics: Array<Record<string, unknown>> };
    expect(Object.keys(parsed)).toEqual(['formatVersion', 'command', 'diagnostics']);
    expect(parsed.diagnostics.map((d) => Object.keys(d))).toEqual([
      ['code', 'severity', 'message', 'file', 'line', 'column', 'endLine', 'endColumn', 'hint'],
      ['code', 'severity', 'message', 'file', 'line', 'column', 'endLine', 'endColumn'],
    ]);
    expect(parsed.diagnostics[0]?.['hint']).toBe('ports run from 1 to 65535');
    expect(parsed.diagnostics[1]).toEqual({
      code: 'family-mismatch',
      severity: 'warning',
      message: 'a, b: 100% odd\nsecond line',
      file: 'dir,with:odd/f.yaml',
      line: 1,
      column: 1,
      endLine: 1,
      endColumn: 4,
    });
  });

  it('prints an empty list when valid', () => {
    expect(JSON.parse(formatJson([]))).toEqual({ formatVersion: 1, command: 'validate', diagnostics: [] });
  });

  it("puts the command's payload after the envelope keys, in the payload's order, and refuses a payload that would shadow them", () => {
    const parsed = JSON.parse(formatEnvelope('ls', [warning], { hosts: [], zeta: 1, alpha: 2 })) as object;
    expect(Object.keys(parsed)).toEqual(['formatVersion', 'command', 'diagnostics', 'hosts', 'zeta', 'alpha']);
    expect(() => formatEnvelope('plan', [], { formatVersion: 1 })).toThrow(/envelope key formatVersion/);
  });
});

describe('formatGithub', () => {
  it('prints one workflow command per diagnostic', () => {
    expect(formatGithub([error])).toBe(
      '::error file=examples/web.yaml,line=3,col=9,endLine=3,endColumn=10,title=port-zero::port 0 is not allowed: use a port from 1 to 65535%0Aports run from 1 to 65535\n',
    );
  });

  it('validate annotates at most 10 per severity, lists the rest in the log and says how many', () => {
    const many = Array.from({ length: 13 }, (_, i) => ({ ...error, line: i + 1, endLine: i + 1 }));
    const out = formatValidateGithub([...many, warning]);
    const commands = out.split('\n').filter((l) => l.startsWith('::'));
    expect(commands.filter((l) => l.startsWith('::error '))).toHaveLength(10);
    expect(commands.filter((l) => l.startsWith('::warning '))).toHaveLength(1);
    expect(out).toContain('examples/web.yaml:11:9: error port-zero');
    expect(out).toContain('examples/web.yaml:13:9: error port-zero');
    expect(commands[commands.length - 1]).toMatch(/^::notice title=pfexpose::3 more diagnostic\(s\) are not annotated/);
    expect(formatValidateGithub([error])).toBe(formatGithub([error]));
  });

  it('escapes data and properties so a message cannot end the command', () => {
    expect(formatGithub([warning])).toBe(
      '::warning file=dir%2Cwith%3Aodd/f.yaml,line=1,col=1,endLine=1,endColumn=4,title=family-mismatch::a, b: 100%25 odd%0Asecond line\n',
    );
  });

  it.each([
    ['%', '%25', '%25'],
    ['\r\n', '%0D%0A', '%0D%0A'],
    ['a:b,c', 'a:b,c', 'a%3Ab%2Cc'],
  ])('escapes %j', (given, data, property) => {
    expect(escapeGithubData(given)).toBe(data);
    expect(escapeGithubProperty(given)).toBe(property);
  });
});

describe('a diagnostic about a command-line option (no place in a file)', () => {
  const unknownHost = atCommandLine(
    'unknown-host',
    '--host db3 is not a host of these manifests; known hosts: db1 (h.yaml:3:3); did you mean db1?',
    'pass one of the known hosts',
  );

  it('text: said as pfexpose: error CODE message, never at <command line>:1:1, and without a code frame', () => {
    for (const codeFrame of [false, true]) {
      const out = formatText([unknownHost], { codeFrame, sources: new Map([[COMMAND_LINE, 'x']]) });
      expect(out.split('\n')[0]).toBe(
        'pfexpose: error unknown-host --host db3 is not a host of these manifests; known hosts: db1 (h.yaml:3:3); did you mean db1?' +
          (codeFrame ? '' : ' (hint: pass one of the known hosts)'),
      );
      expect(out).not.toContain('<command line>');
      expect(out).not.toContain(' | ');
    }
  });

  it('json: code, severity and message (and hint) only, no file, line or column, the same shape for every such diagnostic', () => {
    const pool = atCommandLine('invalid-pool', '--pool 9-1 is not a port range');
    const parsed = JSON.parse(formatEnvelope('compile', [unknownHost, pool, warning])) as {
      diagnostics: Record<string, unknown>[];
    };
    expect(parsed.diagnostics.map((d) => Object.keys(d))).toEqual([
      ['code', 'severity', 'message', 'hint'],
      ['code', 'severity', 'message'],
      ['code', 'severity', 'message', 'file', 'line', 'column', 'endLine', 'endColumn'],
    ]);
  });

  it('github: an annotation of the run, without file or line', () => {
    expect(formatGithub([unknownHost])).toBe(
      `::error title=unknown-host::${escapeGithubData(`${unknownHost.message}\n${unknownHost.hint ?? ''}`)}\n`,
    );
  });

  it('sorts before every diagnostic of a file', () => {
    expect(sortDiagnostics([error, unknownHost, { ...error, file: '+early.yaml' }]).map((d) => d.file)).toEqual([
      COMMAND_LINE,
      '+early.yaml',
      'examples/web.yaml',
    ]);
  });
});

describe('path diagnostics (a path given on the command line, no line in it)', () => {
  const missing = atPath(
    'path-not-found',
    'no,such:dir',
    'no such file or directory: check the path',
    'give a directory',
  );
  const cases: [string, { format: (d: Diagnostic[]) => string; want: string }][] = [
    [
      'text: the path the way Unix tools say it, never FILE:1:1',
      {
        format: (d) => formatText(d),
        want: 'pfexpose: no,such:dir: error path-not-found no such file or directory: check the path (hint: give a directory)\n',
      },
    ],
    [
      'text with a code frame: no frame, the hint below',
      {
        format: (d) => formatText(d, { codeFrame: true, sources: new Map([['no,such:dir', 'x\n']]) }),
        want: 'pfexpose: no,such:dir: error path-not-found no such file or directory: check the path\n  hint: give a directory\n',
      },
    ],
    [
      'github: a run-level annotation, the path in its message, no line',
      {
        format: (d) => formatGithub(d),
        want: '::error title=path-not-found::no,such:dir: no such file or directory: check the path%0Agive a directory\n',
      },
    ],
  ];
  it.each(cases)('%s', (_name, { format, want }) => {
    expect(format([missing])).toBe(want);
  });

  it('json keeps every key, with line and column 0', () => {
    expect(JSON.parse(formatEnvelope('validate', [missing]))).toEqual({
      formatVersion: 1,
      command: 'validate',
      diagnostics: [
        {
          code: 'path-not-found',
          severity: 'error',
          message: 'no such file or directory: check the path',
          file: 'no,such:dir',
          line: 0,
          column: 0,
          endLine: 0,
          endColumn: 0,
          hint: 'give a directory',
        },
      ],
    });
  });

  it('one-line places (the agent log): the path alone, or FILE:LINE:COLUMN', () => {
    expect(diagnosticPlace(missing)).toBe('no,such:dir');
    expect(diagnosticPlace(error)).toBe('examples/web.yaml:3:9');
    expect(diagnosticPlace(atCommandLine('unknown-host', '--host db3 is not a host'))).toBe('pfexpose');
  });
});
