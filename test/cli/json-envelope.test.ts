// Every command's `--format json` is one object, the envelope {formatVersion, command, diagnostics}
// and then the command's payload, printed on stdout whatever the outcome (issue 14). In process,
// apply and the commands that read pf against the in-memory pf.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runInProcess, type RunResult } from '../helpers/cli.js';
import { createMemoryPf, type MemoryPf } from '../helpers/memory-pf.js';

const ENVELOPE = ['formatVersion', 'command', 'diagnostics'];

/** Line 5 holds the port spec. */
const manifest = (spec: string): string =>
  `version: 1\nsyntax: docker\ncontainers:\n  web:\n    ports: [${JSON.stringify(spec)}]\n    ip: 10.0.0.2\n`;
const VALID = manifest('8080:80');
/** A warning (family-mismatch) on line 6: ::1 for a container without ip6. */
const WARNED =
  'version: 1\nsyntax: docker\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: ["8080:80", "[::1]:8081:80"]\n';

let pf: MemoryPf;
let work: string;

beforeEach(async () => {
  pf = createMemoryPf();
  work = await mkdtemp(join(tmpdir(), 'pfexpose-envelope-'));
  await writeFile(join(work, 'empty.txt'), '');
});
afterEach(async () => {
  await pf.cleanup();
  await rm(work, { recursive: true, force: true });
});

function pfexpose(...args: string[]): Promise<RunResult> {
  return runInProcess(args, {
    cwd: work,
    env: { PFEXPOSE_STATE_DIR: join(work, 'state'), PFEXPOSE_JLS: 'none', NO_COLOR: '1' },
    pfctl: (options) => pf.pfctl(options),
  });
}

async function manifests(dir: string, text: string): Promise<void> {
  await mkdir(join(work, dir), { recursive: true });
  await writeFile(join(work, dir, 'm.yaml'), text);
}

interface Envelope {
  formatVersion: number;
  command: string;
  diagnostics: Record<string, unknown>[];
  [key: string]: unknown;
}

/** The whole of stdout is one JSON object, printed as JSON.stringify(..., 2) prints it, newline-terminated. */
function onlyObject(result: RunResult): Envelope {
  const parsed = JSON.parse(result.stdout) as Envelope;
  expect(result.stdout).toBe(`${JSON.stringify(parsed, null, 2)}\n`);
  expect(Object.keys(parsed).slice(0, 3)).toEqual(ENVELOPE);
  expect(parsed.formatVersion).toBe(1);
  return parsed;
}

/** Each command run with --format json on the manifests in `m/`, and the command name it must print. */
const INVALID_RUNS: [string, string[]][] = [
  ['validate', ['validate', 'm']],
  ['compile', ['compile', 'm']],
  ['plan', ['plan', 'm', '--deployed', 'empty.txt']],
  ['apply', ['apply', 'm']],
  ['ls', ['ls', 'm']],
  ['port', ['port', 'web', '-m', 'm']],
  ['env', ['env', 'web', '-m', 'm']],
  ['status', ['status', 'm']],
];

describe('with 70000:80 on line 5 of a manifest (the must-show)', () => {
  it.each(INVALID_RUNS)(
    '%s --format json prints one object: formatVersion 1, its command, the located diagnostic; exit 1',
    async (command, args) => {
      await manifests('m', manifest('70000:80'));
      const result = await pfexpose(...args, '--format', 'json');
      expect(result.code).toBe(1);
      const json = onlyObject(result);
      expect(json.command).toBe(command);
      // Invalid manifests: the envelope alone, no payload.
      expect(Object.keys(json)).toEqual(ENVELOPE);
      expect(json.diagnostics).toEqual([
        {
          code: 'port-out-of-range',
          severity: 'error',
          message: 'port 70000 is out of range: use a port from 1 to 65535',
          file: 'm/m.yaml',
          line: 5,
          column: 14,
          endLine: 5,
          endColumn: 19,
        },
      ]);
      // Nothing else anywhere: the diagnostics are not repeated on stderr.
      expect(result.stderr).toBe('');
      // pf was never asked anything, let alone loaded.
      expect(await pf.calls()).toEqual([]);
      expect(await pf.readAnchor('pfexpose')).toBeUndefined();
    },
  );

  it.each(INVALID_RUNS)('%s --format json carries the hint of a diagnostic that has one', async (command, args) => {
    await manifests('m', manifest('8080:80/sctp'));
    const result = await pfexpose(...args, '--format', 'json');
    expect(result.code).toBe(1);
    const json = onlyObject(result);
    expect(json.command).toBe(command);
    expect(json.diagnostics).toEqual([
      expect.objectContaining({
        code: 'port-sctp-translation',
        file: 'm/m.yaml',
        line: 5,
        hint: 'publish the same port on both sides (`80:80/sctp`, or `published: 80` with `target: 80`)',
      }),
    ]);
    expect(Object.keys(json.diagnostics[0] ?? {})).toEqual([
      'code',
      'severity',
      'message',
      'file',
      'line',
      'column',
      'endLine',
      'endColumn',
      'hint',
    ]);
  });
});

describe('warnings reach the JSON', () => {
  const warning = expect.objectContaining({ code: 'family-mismatch', severity: 'warning', file: 'w/m.yaml', line: 6 });

  it("compile: the compile's warnings in diagnostics, the payload after them; stderr empty", async () => {
    await manifests('w', WARNED);
    const result = await pfexpose('compile', 'w', '--format', 'json');
    expect(result.code).toBe(0);
    const json = onlyObject(result);
    expect(Object.keys(json)).toEqual([...ENVELOPE, 'exposures', 'ruleset']);
    expect(json.diagnostics).toEqual([warning]);
    expect(result.stderr).toBe('');
  });

  it("apply: the compile's warnings and the outcome's warnings (run-warning) in diagnostics", async () => {
    await manifests('w', WARNED);
    // Hooks with conditions: apply loads, and warns that the anchor sees only part of the traffic.
    await pf.writeMain('rdr-anchor "pfexpose" all\nanchor "pfexpose" in on em0 all\n');
    const result = await pfexpose('apply', 'w', '--format', 'json');
    expect(result.code, result.stderr).toBe(0);
    const json = onlyObject(result);
    expect(json).toMatchObject({ command: 'apply', anchor: 'pfexpose', result: 'applied' });
    expect(json.diagnostics).toEqual([
      warning,
      {
        code: 'run-warning',
        severity: 'warning',
        message: expect.stringContaining('has conditions, so the anchor only sees the traffic they match') as string,
      },
    ]);
    // The warnings moved into diagnostics: the payload has no list of strings beside them.
    expect(json).not.toHaveProperty('warnings');
    expect(await pf.readAnchor('pfexpose')).toContain('web:tcp:any:8080');
  });

  it("a refused apply's diagnostics join the envelope's; the reason stays in the payload", async () => {
    await manifests('m', VALID);
    await pf.writeMain('');
    const result = await pfexpose('apply', 'm', '--format', 'json');
    expect(result.code).toBe(1);
    const json = onlyObject(result);
    expect(json).toMatchObject({ command: 'apply', result: 'refused' });
    expect(json['reason']).toEqual(expect.stringContaining('does not call anchor "pfexpose"'));
    expect(json['linesToAdd']).toEqual(['rdr-anchor "pfexpose"', 'anchor "pfexpose"']);
    expect(result.stderr).toBe('');
    expect(await pf.loadCalls()).toEqual([]);
  });
});

describe('usage errors under --format json: the envelope with a usage diagnostic, nothing on stderr', () => {
  const cases: [string, { args: string[]; command: string; code: number; message: RegExp }][] = [
    [
      'a bad --lock-wait (found by apply itself)',
      { args: ['apply', 'm', '--lock-wait', '2h'], command: 'apply', code: 2, message: /--lock-wait/ },
    ],
    [
      'a bad --host (ls)',
      {
        args: ['ls', 'm', '--host', 'no such'],
        command: 'ls',
        code: 2,
        message: /--host "no such" is not a host name/,
      },
    ],
    [
      'a port that is no port (port)',
      { args: ['port', 'web', '99999', '-m', 'm'], command: 'port', code: 2, message: /port "99999"/ },
    ],
    [
      'plan without a deployed state (plan: exit 1)',
      { args: ['plan', 'm'], command: 'plan', code: 1, message: /--live, --deployed FILE or --base GITREF/ },
    ],
    [
      "an unknown option (commander's own error)",
      { args: ['compile', 'm', '--bogus'], command: 'compile', code: 2, message: /^unknown option '--bogus'$/ },
    ],
    [
      "a missing argument (commander's own error)",
      { args: ['port'], command: 'port', code: 2, message: /^missing required argument 'container'$/ },
    ],
    [
      "plan's unknown option (commander's error, plan's exit 1)",
      { args: ['plan', 'm', '--bogus'], command: 'plan', code: 1, message: /unknown option/ },
    ],
  ];

  it.each(cases)('%s', async (_name, { args, command, code, message }) => {
    await manifests('m', VALID);
    const result = await pfexpose(...args, '--format', 'json');
    expect(result.code).toBe(code);
    const json = onlyObject(result);
    expect(Object.keys(json)).toEqual(ENVELOPE);
    expect(json.command).toBe(command);
    expect(json.diagnostics).toEqual([{ code: 'usage', severity: 'error', message: expect.stringMatching(message) }]);
    expect(result.stderr).toBe('');
  });

  it('--format=json is read the same way; in text the same error stays on stderr', async () => {
    const json = await pfexpose('ls', '--bogus', '--format=json');
    expect([json.code, onlyObject(json).command, json.stderr]).toEqual([2, 'ls', '']);
    const text = await pfexpose('ls', '--bogus');
    expect([text.code, text.stdout]).toEqual([2, '']);
    expect(text.stderr).toContain("error: unknown option '--bogus'");
  });
});

describe("every command's json starts with the envelope, then its payload", () => {
  it('validate, compile, ls, port, env, plan, apply, status, history, rollback, confirm', async () => {
    await manifests('m', VALID);
    await manifests('n', manifest('8081:80'));
    const run = async (command: string, args: string[], code: number): Promise<Envelope> => {
      const result = await pfexpose(command, ...args, '--format', 'json');
      expect(result.code, `${command}: ${result.stderr}`).toBe(code);
      const json = onlyObject(result);
      expect(json.command).toBe(command);
      return json;
    };
    const keys = (json: Envelope): string[] => Object.keys(json).slice(3);

    expect(keys(await run('validate', ['m'], 0))).toEqual([]);
    const compiled = await run('compile', ['m'], 0);
    expect(keys(compiled)).toEqual(['exposures', 'ruleset']);
    const listed = await run('ls', ['m'], 0);
    expect(keys(listed)).toEqual(['hosts']);
    // The one exposure serializer: ls lists what compile prints.
    expect(listed['hosts']).toEqual([{ host: null, exposures: compiled['exposures'], reaches: [] }]);
    expect(await run('port', ['web', '-m', 'm'], 0)).toMatchObject({
      container: 'web',
      bindings: [{ host: null, containerPort: 80, protocol: 'tcp', listen: 'any', hostPort: 8080 }],
    });
    expect(keys(await run('env', ['web', '-m', 'm'], 0))).toEqual(['container', 'links']);
    const planned = await run('plan', ['m', '--deployed', 'empty.txt'], 2);
    expect(keys(planned)).toEqual(['changes', 'summary', 'deployed', 'exposures', 'rules', 'unmanaged']);
    const applied = await run('apply', ['m'], 0);
    expect(keys(applied)).toEqual([
      'anchor',
      'result',
      'attempts',
      'added',
      'removed',
      'killedLabels',
      'confirmDeadline',
      'rolledBackTo',
      'rolledBackToInitial',
    ]);
    expect(keys(await run('apply', ['m'], 0))).toEqual(['anchor', 'result']);
    expect(keys(await run('status', ['m'], 0))).toEqual(['anchor', 'inSync', 'countersRead', 'exposures']);
    expect((await run('apply', ['n'], 0))['result']).toBe('applied');
    const history = await run('history', [], 0);
    expect(keys(history)).toEqual(['entries']);
    expect((await run('rollback', [], 0))['result']).toBe('applied');
    expect(await pf.readAnchor('pfexpose')).toContain('web:tcp:any:8080');
    const confirm = await run('confirm', [], 1);
    expect(keys(confirm)).toEqual(['result', 'lastRevert']);
  });

  it('port: the bindings are the lines text format prints, as data', async () => {
    await manifests('m', manifest('8080-8081:80-81'));
    const text = await pfexpose('port', 'web', '-m', 'm');
    expect(text.stdout).toBe('80/tcp -> any:8080\n81/tcp -> any:8081\n');
    const json = onlyObject(await pfexpose('port', 'web', '-m', 'm', '--format', 'json'));
    expect(json['bindings']).toEqual([
      { host: null, containerPort: 80, protocol: 'tcp', listen: 'any', hostPort: 8080 },
      { host: null, containerPort: 81, protocol: 'tcp', listen: 'any', hostPort: 8081 },
    ]);
    const missing = await pfexpose('port', 'web', '82', '-m', 'm', '--format', 'json');
    expect(missing.code).toBe(1);
    expect(onlyObject(missing).diagnostics).toEqual([
      { code: 'port-not-published', severity: 'error', message: "no public port '82/tcp' published for web" },
    ]);
    const unknown = await pfexpose('port', 'db', '-m', 'm', '--format', 'json');
    expect(unknown.code).toBe(1);
    expect(onlyObject(unknown).diagnostics).toEqual([expect.objectContaining({ code: 'unknown-container' })]);
  });

  it('compile -o FILE --format json writes the document to FILE and nothing to stdout', async () => {
    await manifests('m', VALID);
    const result = await pfexpose('compile', 'm', '-o', 'out.json', '--format', 'json');
    expect([result.code, result.stdout]).toEqual([0, '']);
    const written = await readFile(join(work, 'out.json'), 'utf8');
    expect(written).toBe((await pfexpose('compile', 'm', '--format', 'json')).stdout);
    const checked = await pfexpose('compile', 'm', '--check', 'out.json', '--format', 'json');
    expect([checked.code, checked.stdout, checked.stderr]).toEqual([0, '', 'out.json is up to date\n']);
  });

  it('a failure outside the manifests is a command-failed diagnostic (plan: a deployed file that is missing)', async () => {
    await manifests('m', VALID);
    const result = await pfexpose('plan', 'm', '--deployed', 'nowhere.txt', '--format', 'json');
    expect(result.code).toBe(1);
    const json = onlyObject(result);
    expect(Object.keys(json)).toEqual(ENVELOPE);
    expect(json.diagnostics).toEqual([
      {
        code: 'command-failed',
        severity: 'error',
        message: expect.stringMatching(/^cannot read the deployed state nowhere\.txt: /) as string,
      },
    ]);
    expect(result.stderr).toBe('');
  });
});
