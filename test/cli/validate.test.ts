import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/cli.js';

const run = runInProcess;

const FIXTURES = 'test/fixtures/manifests';

describe('pfexpose validate (in process)', () => {
  it('exits 0 on examples/ and prints the summary on stderr', async () => {
    const result = await run(['validate', 'examples']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('3 files, 5 containers: valid, 1 warning\n');
    expect(result.stdout).toMatch(/^examples\/web\.yaml:22:11: warning family-mismatch /);
  });

  it('defaults to the working directory', async () => {
    const result = await run(['validate'], { cwd: resolve('examples') });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^web\.yaml:22:11: warning/);
  });

  it('exits 1 on invalid manifests, with one line per diagnostic', async () => {
    const result = await run(['validate', `${FIXTURES}/invalid/ports.yaml`]);
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      `${FIXTURES}/invalid/ports.yaml:6:9: error port-zero port entry 1 of container "web": port 0 is not allowed: use a port from 1 to 65535`,
      `${FIXTURES}/invalid/ports.yaml:7:9: error port-interface-name interface name "em-0" contains "-": use only letters, digits, "_" and "."`,
    ]);
    expect(result.stderr).toBe('1 file, 1 container: 2 errors\n');
  });

  it('shows a code frame when stdout is a terminal', async () => {
    const result = await run(['validate', `${FIXTURES}/invalid/ports.yaml`], { tty: true, env: { NO_COLOR: '1' } });
    expect(result.stdout).toContain('\n 6 |       - 0\n   |         ^\n');
    expect(result.stdout).toContain('\n 7 |       - em-0:8080:80\n   |         ^^^^\n');
    const coloured = await run(['validate', `${FIXTURES}/invalid/ports.yaml`], { tty: true });
    expect(coloured.stdout).toContain('\u001b[31;1merror\u001b[0m');
  });

  it('prints json', async () => {
    const result = await run(['validate', '--format', 'json', `${FIXTURES}/invalid/ports.yaml`]);
    expect(result.code).toBe(1);
    const parsed = JSON.parse(result.stdout) as {
      formatVersion: number;
      command: string;
      diagnostics: Array<{ code: string; line: number; column: number }>;
    };
    expect([parsed.formatVersion, parsed.command]).toEqual([1, 'validate']);
    expect(parsed.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([
      ['port-zero', 6, 9],
      ['port-interface-name', 7, 9],
    ]);
    expect(result.stderr).toBe('');
  });

  it('prints github annotations', async () => {
    const result = await run(['validate', '--format', 'github', `${FIXTURES}/invalid/ports.yaml`]);
    expect(result.stdout).toContain(
      `::error file=${FIXTURES}/invalid/ports.yaml,line=6,col=9,endLine=6,endColumn=10,title=port-zero::`,
    );
  });

  it('exits 2 on a usage error', async () => {
    const result = await run(['validate', '--format', 'xml', 'examples']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("argument 'xml' is invalid");
  });

  it('documents the exit codes in --help', async () => {
    const result = await run(['validate', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Exit codes:');
    expect(result.stdout).toMatch(/0 +every manifest is valid/);
    expect(result.stdout).toMatch(/1 +at least one manifest has an error/);
    expect(result.stdout).toMatch(/2 +usage error or internal error/);
  });

  it('refuses a port-changing sctp entry at its line (validate and compile alike)', async () => {
    const file = `${FIXTURES}/invalid/sctp.yaml`;
    const result = await run(['validate', '--format', 'json', file]);
    expect(result.code).toBe(1);
    const parsed = JSON.parse(result.stdout) as {
      diagnostics: Array<{ code: string; severity: string; file: string; line: number; column: number }>;
    };
    expect(parsed.diagnostics.map((d) => [d.severity, d.code, d.line, d.column])).toEqual([
      ['error', 'port-sctp-translation', 10, 9],
      ['error', 'port-sctp-translation', 11, 9],
      ['error', 'port-sctp-translation', 12, 9],
      ['error', 'port-sctp-translation', 13, 9],
      ['error', 'port-sctp-translation', 16, 9],
    ]);
    const compiled = await run(['compile', file, '--gateway', 'em0']);
    expect(compiled.code).toBe(1);
    expect(compiled.stdout).toBe('');
    expect(compiled.stderr).toMatch(new RegExp(`^${file}:10:9: error port-sctp-translation `, 'm'));
  });

  it('reports a loopback entry at its line in json: a warning while the stack is undeclared, an error for vnet', async () => {
    const undeclared = await run(['validate', '--format', 'json', `${FIXTURES}/stack/undeclared.yaml`]);
    expect(undeclared.code).toBe(0);
    const warnings = (
      JSON.parse(undeclared.stdout) as {
        diagnostics: Array<{ code: string; severity: string; file: string; line: number; column: number }>;
      }
    ).diagnostics;
    expect(warnings.map((d) => [d.severity, d.code, d.file, d.line, d.column])).toEqual([
      ['warning', 'loopback-shared-stack', `${FIXTURES}/stack/undeclared.yaml`, 10, 9],
      ['warning', 'loopback-shared-stack', `${FIXTURES}/stack/undeclared.yaml`, 11, 9],
      ['warning', 'loopback-shared-stack', `${FIXTURES}/stack/undeclared.yaml`, 12, 9],
      ['warning', 'loopback-shared-stack', `${FIXTURES}/stack/undeclared.yaml`, 14, 9],
    ]);
    const declared = await run(['validate', '--format', 'json', `${FIXTURES}/stack/declared.yaml`]);
    expect(declared.code).toBe(1);
    const errors = (
      JSON.parse(declared.stdout) as { diagnostics: Array<{ code: string; severity: string; line: number }> }
    ).diagnostics;
    expect(errors.map((d) => [d.severity, d.code, d.line])).toEqual([['error', 'loopback-vnet', 14]]);
  });

  it('exits 1 on a path that does not exist', async () => {
    const result = await run(['validate', 'no/such/dir']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      'pfexpose: no/such/dir: error path-not-found no such file or directory: check the path; give a manifest file or a directory that holds *.yaml files\n',
    );
  });
});
