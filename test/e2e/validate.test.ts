// Runs the built CLI (bin/pfexpose.js -> dist/) the way a user or CI does, where only a process
// shows the point: exit status and stdout/stderr split, a FIFO not hanging the process, a closed
// pipe, usage errors. The other cases run main() in process with captured output (inProcess). A
// stale dist/ is rebuilt before any test runs (test/global-setup.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, runBuilt, runInProcess, STACK_TRACE, type RunResult } from '../helpers/cli.js';

const HOSTILE = resolve('test/fixtures/manifests/hostile');

function pfexpose(args: string[], cwd = process.cwd()): RunResult {
  return runBuilt(args, { cwd, timeoutMs: 20_000 });
}

const ENV = Object.fromEntries(
  Object.entries({ ...process.env, NO_COLOR: '1' }).filter(
    (entry): entry is [string, string] => entry[1] !== undefined,
  ),
);

/** The same run in process: main() with captured output. */
function inProcess(args: string[], cwd = process.cwd()): Promise<RunResult> {
  return runInProcess(args, { cwd, env: ENV });
}

describe('pfexpose validate (built CLI)', () => {
  it('exits 0 on examples/', () => {
    const result = pfexpose(['validate', 'examples/']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('3 files, 5 containers: valid, 1 warning\n');
  });

  it('prints json for examples/ with every documented key', async () => {
    const result = await inProcess(['validate', '--format', 'json', 'examples']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      formatVersion: 1,
      command: 'validate',
      diagnostics: [
        expect.objectContaining({
          code: 'family-mismatch',
          severity: 'warning',
          file: 'examples/web.yaml',
          line: 22,
          column: 11,
          endLine: 22,
          endColumn: 14,
        }),
      ],
    });
  });

  it("puts a loopback entry's diagnostic at its line in json, and refuses sctp entries that change the port", async () => {
    const loopback = await inProcess(['validate', '--format', 'json', 'test/fixtures/manifests/stack/undeclared.yaml']);
    expect(loopback.code).toBe(0);
    expect((JSON.parse(loopback.stdout) as { diagnostics: unknown[] }).diagnostics[0]).toEqual(
      expect.objectContaining({
        code: 'loopback-shared-stack',
        severity: 'warning',
        file: 'test/fixtures/manifests/stack/undeclared.yaml',
        line: 10,
        column: 9,
      }),
    );
    const sctp = await inProcess(['validate', 'test/fixtures/manifests/invalid/sctp.yaml']);
    expect(sctp.code).toBe(1);
    expect(sctp.stdout).toMatch(/^test\/fixtures\/manifests\/invalid\/sctp\.yaml:10:9: error port-sctp-translation /);
  }, 60_000);

  it.each(readdirSync(HOSTILE).sort())('exits 1 on hostile/%s without a stack trace', async (file) => {
    const result = await inProcess(['validate', join(HOSTILE, file)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/:\d+:\d+: error [a-z0-9-]+ /);
    expect(result.stdout + result.stderr).not.toMatch(STACK_TRACE);
  });

  describe('on a hostile tree', () => {
    const root = mkdtempSync(join(tmpdir(), 'pfexpose-e2e-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, 'm', 'loop'), { recursive: true });
    symlinkSync('..', join(root, 'm', 'loop', 'back'));
    execFileSync('mkfifo', [join(root, 'm', 'fifo.yaml')]);
    symlinkSync('gone.yaml', join(root, 'm', 'dangling.yaml'));
    writeFileSync(join(root, 'm', 'big.yaml'), 'x'.repeat(2 * 1024 * 1024));
    writeFileSync(join(root, 'm', 'deep.yaml'), `version: 1\nx: ${'['.repeat(100_000)}`);

    it('reports every problem, exits 1, never hangs or crashes', () => {
      const result = pfexpose(['validate', 'm'], root);
      expect(result.code).toBe(1);
      expect(
        result.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split(' ').slice(0, 3).join(' ')),
      ).toEqual([
        'm/big.yaml:1:1: error file-too-large',
        'm/dangling.yaml:1:1: error file-unreadable',
        'm/deep.yaml:2:67: error yaml-too-deep',
        'm/fifo.yaml:1:1: error file-not-regular',
        'm/loop/back:1:1: error symlink-loop',
      ]);
      expect(result.stdout + result.stderr).not.toMatch(STACK_TRACE);
    });
  });

  describe("at a repository root beside other tools' YAML", () => {
    const root = mkdtempSync(join(tmpdir(), 'pfexpose-e2e-repo-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const write = (path: string, text: string): void => {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    write('web.yaml', 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports: ["8080:80"]\n');
    write('docker-compose.yml', 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n');
    write('.pre-commit-config.yaml', 'repos: []\n');
    write('.github/workflows/ci.yml', 'on: push\njobs: {}\n');

    it('without .pfexposeignore: hidden files are skipped, docker-compose.yml is read and reported', async () => {
      const result = await inProcess(['validate'], root);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^docker-compose\.yml:\d+:\d+: error /m);
      expect(result.stdout).not.toMatch(/pre-commit|\.github/);
    });

    it('with docker-compose.yml in .pfexposeignore: exits 0, one file read', async () => {
      write('.pfexposeignore', '# not pfexpose manifests\ndocker-compose.yml\n');
      try {
        const result = await inProcess(['validate'], root);
        expect(result).toEqual({ code: 0, stdout: '', stderr: '1 file, 1 container: valid\n' });
        // Named on the command line, an ignored file is read all the same: the user asked for it.
        expect((await inProcess(['validate', '.', 'docker-compose.yml'], root)).code).toBe(1);
      } finally {
        rmSync(join(root, '.pfexposeignore'));
      }
    });

    it('an unreadable .pfexposeignore is an error naming it (exit 1)', async () => {
      mkdirSync(join(root, '.pfexposeignore'));
      try {
        const result = await inProcess(['validate'], root);
        expect(result.code).toBe(1);
        expect(result.stdout).toMatch(/^\.pfexposeignore:1:1: error ignore-file-unreadable /);
      } finally {
        rmSync(join(root, '.pfexposeignore'), { recursive: true });
      }
    });
  });

  const missingPaths: [string, { args: string[]; stream: 'stdout' | 'stderr'; want: string | RegExp }][] = [
    [
      'text',
      {
        args: ['validate', 'nosuchdir'],
        stream: 'stdout',
        want: /^pfexpose: nosuchdir: error path-not-found no such file or directory/,
      },
    ],
    [
      'json',
      {
        args: ['validate', '--format', 'json', 'nosuchdir'],
        stream: 'stdout',
        want: /"file": "nosuchdir",\n\s+"line": 0,/,
      },
    ],
    [
      'github',
      {
        args: ['validate', '--format', 'github', 'nosuchdir'],
        stream: 'stdout',
        want: /^::error title=path-not-found::nosuchdir: no such file or directory/,
      },
    ],
    [
      'compile',
      { args: ['compile', 'nosuchdir'], stream: 'stderr', want: /^pfexpose: nosuchdir: error path-not-found / },
    ],
  ];
  it.each(missingPaths)(
    'a PATH that does not exist is reported as a path (%s), exit 1',
    async (_name, { args, stream, want }) => {
      const result = await inProcess(args);
      expect(result.code).toBe(1);
      expect(result[stream]).toMatch(want);
      expect(result.stdout + result.stderr).not.toContain('nosuchdir:1:1');
    },
  );

  it('exits 2 on a usage error', async () => {
    const result = await inProcess(['validate', '--format', 'yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });
});

describe('pfexpose (built CLI): output into a closed pipe, and no command', () => {
  it('ends with its own exit code and no stack trace when the reader stops reading', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pfexpose-epipe-'));
    try {
      for (let i = 0; i < 2000; i += 1) {
        writeFileSync(
          join(dir, `f${i}.yaml`),
          `version: 1\ncontainers:\n  c${i}:\n    ip: 10.0.0.2\n    ports: ["0"]\n`,
        );
      }
      // `head -c 1` reads one byte and exits; every later write of pfexpose meets a closed pipe.
      const stderrFile = join(dir, 'stderr.txt');
      const piped = spawnSync(
        'bash',
        [
          '-c',
          `set -o pipefail; "${process.execPath}" "${BIN}" validate "${dir}" 2>"${stderrFile}" | head -c 1 >/dev/null; echo $?`,
        ],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect(piped.stdout.trim()).toBe('1'); // invalid manifests, as without the pipe
      const stderr = execFileSync('cat', [stderrFile], { encoding: 'utf8' });
      expect(stderr).toMatch(/2000 files, 2000 containers: 2000 errors/);
      expect(stderr).not.toMatch(/EPIPE/);
      expect(stderr).not.toMatch(STACK_TRACE);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 (usage) when no command is given, 0 for --help', () => {
    expect(pfexpose([]).code).toBe(2);
    expect(pfexpose(['--help']).code).toBe(0);
  });
});
