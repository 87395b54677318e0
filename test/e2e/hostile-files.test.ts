// Hostile files end to end, through the built CLI: a symbolic link out of the manifest tree (the
// `ln -s /etc/shadow m/x.yaml` case) is named, never read or echoed, in every output format and in
// the agent's log; FIFOs and devices given as a manifest, lock file, --check or --deployed file are
// refused at once; a link committed in a git revision is not resolved on the host. Most runs are
// main() in process with captured output; the built CLI runs where only a process shows the point:
// one symlink case and the FIFO manifest (exit status, no stack trace, a FIFO not hanging the
// process), the agent (a long-running process ended by SIGTERM), and plan --base.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBuilt, runInProcess, STACK_TRACE, type RunResult } from '../helpers/cli.js';
import { createSim, PFCTL_SIM, ROUTE_SIM } from '../pfctl-sim/sim-control.js';
import { createRepo, gitEnv } from '../plan/git-repo.js';

const TIMEOUT = 120_000;
// Each run must answer well inside this: a read that blocked on a FIFO would hit it (status null).
const RUN_MS = 60_000;

const SECRET_LINES = [
  'root:$6$SECRETSALT$SECRETHASHabcdefabcdef:19000:0:99999:7:::',
  'daemon:*:19000:0:99999:7:::',
  'SECRET-LINE-THREE: hidden value',
];
const SECRET = `${SECRET_LINES.join('\n')}\n`;
const WEB = 'version: 1\ncontainers:\n  web:\n    ip: 10.13.37.10\n    ports: ["8080:80"]\n';

const root = mkdtempSync(join(tmpdir(), 'pfexpose-hostile-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
// The secret lies beside the manifest directory, not in it.
writeFileSync(join(root, 'secret'), SECRET);
mkdirSync(join(root, 'm'));
writeFileSync(join(root, 'm', 'web.yaml'), WEB);
symlinkSync(join(root, 'secret'), join(root, 'm', 'x.yaml'));
symlinkSync('/dev/console', join(root, 'm', 'console.yaml'));
symlinkSync('root@host.4242:1700000000', join(root, 'm', '.#web.yaml'));
// A copy of the secret inside a tree: read (it is a regular file there), but not quoted.
mkdirSync(join(root, 'copy'));
copyFileSync(join(root, 'secret'), join(root, 'copy', 'shadow.yaml'));
// The good tree, and the files that are not regular.
mkdirSync(join(root, 'good'));
writeFileSync(join(root, 'good', 'web.yaml'), WEB);
writeFileSync(join(root, 'empty.txt'), '');
execFileSync('mkfifo', [join(root, 'fifo'), join(root, 'plan-fifo.json')]);

/** The built CLI for the cases named in BUILT, main() in process for the rest. */
const BUILT = new Set(['validate, text', 'a FIFO as a manifest']);
const env = Object.fromEntries(
  Object.entries({ ...process.env, NO_COLOR: '1' }).filter(
    (entry): entry is [string, string] => entry[1] !== undefined,
  ),
);
const run = async (name: string, args: string[]): Promise<RunResult> =>
  BUILT.has(name) ? runBuilt(args, { cwd: root, timeoutMs: RUN_MS }) : runInProcess(args, { cwd: root, env });

function expectNoSecret(output: string): void {
  for (const line of SECRET_LINES) expect(output).not.toContain(line);
  expect(output).not.toMatch(/SECRET|daemon:/);
}

describe('a symbolic link out of the manifest tree (ln -s SECRET m/x.yaml)', () => {
  const commands: [string, { args: string[]; code: number }][] = [
    ['validate, text', { args: ['validate', 'm'], code: 1 }],
    ['validate, json', { args: ['validate', 'm', '--format', 'json'], code: 1 }],
    ['validate, github', { args: ['validate', 'm', '--format', 'github'], code: 1 }],
    ['compile, text', { args: ['compile', 'm'], code: 1 }],
    ['compile, json', { args: ['compile', 'm', '--format', 'json'], code: 1 }],
    ['plan, text', { args: ['plan', 'm', '--deployed', 'empty.txt'], code: 1 }],
    ['plan, json', { args: ['plan', 'm', '--deployed', 'empty.txt', '--format', 'json'], code: 1 }],
    ['plan, github', { args: ['plan', 'm', '--deployed', 'empty.txt', '--format', 'github'], code: 1 }],
  ];
  it.each(commands)(
    '%s: names the link, never its target, and exits with the documented code',
    async (name, { args, code }) => {
      const result = await run(name, args);
      const output = result.stdout + result.stderr;
      expect(result.code).toBe(code);
      expect(output).toContain('m/x.yaml');
      expect(output).toContain('symlink-outside');
      // The link to /dev/console is refused the same way, without opening the device.
      expect(output).toContain('m/console.yaml');
      // The Emacs lock link is skipped silently.
      expect(output).not.toContain('.#web.yaml');
      expect(output).not.toContain(join(root, 'secret'));
      expectNoSecret(output);
      expect(output).not.toMatch(STACK_TRACE);
      if (name.endsWith('json')) {
        // The envelope alone, on stdout: the refusal is a located diagnostic naming the link.
        expect(result.stderr).toBe('');
        const document = JSON.parse(result.stdout) as {
          formatVersion: number;
          diagnostics: { code: string; file?: string }[];
        };
        expect(document.formatVersion).toBe(1);
        expect(document.diagnostics).toContainEqual(
          expect.objectContaining({ code: 'symlink-outside', file: 'm/x.yaml' }),
        );
      }
    },
    TIMEOUT,
  );

  it.each(['text', 'json', 'github'])(
    'a copy of the secret inside the tree (%s): reported, not quoted',
    async (format) => {
      const result = await run('', ['validate', 'copy', '--format', format]);
      expect(result.code).toBe(1);
      expect(result.stdout + result.stderr).toContain('copy/shadow.yaml');
      expectNoSecret(result.stdout + result.stderr);
    },
    TIMEOUT,
  );

  it(
    'the agent logs the link by name and never the target',
    async () => {
      const sim = await createSim({ routeIf: 'em0' });
      try {
        const child = spawn(
          process.execPath,
          [
            join(process.cwd(), 'bin', 'pfexpose.js'),
            'watch',
            'm',
            '--pfctl',
            PFCTL_SIM,
            '--route',
            ROUTE_SIM,
            '--state-dir',
            join(root, 'state'),
            '--log-format',
            'json',
          ],
          { cwd: root, env: { ...sim.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let output = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
        const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
        const deadline = Date.now() + 90_000;
        while (!output.includes('symlink-outside') && Date.now() < deadline && child.exitCode === null) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        child.kill('SIGTERM');
        await exited;
        expect(output).toContain('symlink-outside');
        expect(output).toContain('x.yaml');
        expectNoSecret(output);
        // Fail closed: nothing was loaded from manifests with an error.
        expect((await sim.readAnchor('pfexpose')) ?? '').not.toContain('port = 8080');
      } finally {
        await sim.cleanup();
      }
    },
    TIMEOUT,
  );
});

describe('files that are not regular answer at once', () => {
  // Exit codes: validate and compile exit 1 on a file they cannot use, plan exits 1 on an error.
  const cases: [string, { args: string[]; want: RegExp }][] = [
    ['a FIFO as a manifest', { args: ['validate', 'fifo'], want: /fifo:1:1: error file-not-regular .*FIFO/ }],
    ['/dev/null as a manifest', { args: ['validate', '/dev/null'], want: /file-not-regular .*device/ }],
    ['/dev/zero as a manifest', { args: ['validate', '/dev/zero'], want: /file-not-regular .*device/ }],
    [
      'a FIFO as the lock file',
      { args: ['compile', 'good', '--gateway', 'em0', '--lock', 'fifo'], want: /lock-unreadable .*FIFO/ },
    ],
    [
      '/dev/zero as the lock file',
      { args: ['compile', 'good', '--gateway', 'em0', '--lock', '/dev/zero'], want: /lock-unreadable .*device/ },
    ],
    [
      'a FIFO for compile --check',
      {
        args: ['compile', 'good', '--gateway', 'em0', '--lock', 'none.lock.json', '--check', 'fifo'],
        want: /cannot read --check fifo: .*FIFO/,
      },
    ],
    [
      '/dev/zero for compile --check',
      {
        args: ['compile', 'good', '--gateway', 'em0', '--lock', 'none.lock.json', '--check', '/dev/zero'],
        want: /cannot read --check \/dev\/zero: .*device/,
      },
    ],
    [
      'a FIFO for plan --deployed',
      {
        args: ['plan', 'good', '--gateway', 'em0', '--lock', 'none.lock.json', '--deployed', 'fifo'],
        want: /cannot read the deployed state fifo: .*FIFO/,
      },
    ],
    [
      '/dev/zero for plan --deployed',
      {
        args: ['plan', 'good', '--gateway', 'em0', '--lock', 'none.lock.json', '--deployed', '/dev/zero'],
        want: /cannot read the deployed state \/dev\/zero: .*device/,
      },
    ],
    [
      'a foreign file for plan --deployed (not quoted)',
      {
        args: ['plan', 'good', '--gateway', 'em0', '--lock', 'none.lock.json', '--deployed', 'secret'],
        want: /secret holds no pf rule/,
      },
    ],
    [
      'a foreign file as the lock file (not quoted)',
      { args: ['compile', 'good', '--gateway', 'em0', '--lock', 'secret'], want: /lock-syntax/ },
    ],
    [
      'a FIFO as the plan of apply',
      { args: ['apply', 'plan-fifo.json'], want: /cannot read the plan plan-fifo.json: .*FIFO/ },
    ],
    [
      'a lock file that is a link loop',
      { args: ['compile', 'good', '--gateway', 'em0', '--lock', 'loop-a'], want: /lock-unreadable .*link loop/ },
    ],
  ];
  symlinkSync('loop-b', join(root, 'loop-a'));
  symlinkSync('loop-a', join(root, 'loop-b'));
  it.each(cases)(
    '%s: exit 1 with a clear message',
    async (name, { args, want }) => {
      const result = await run(name, args);
      expect(result.code).toBe(1);
      expect(result.stdout + result.stderr).toMatch(want);
      expect(result.stdout + result.stderr).not.toMatch(STACK_TRACE);
      expectNoSecret(result.stdout + result.stderr);
    },
    TIMEOUT,
  );
});

describe('plan --base: a link committed in the revision', () => {
  it(
    'is not resolved on the host: refused by name, its target never shown',
    () => {
      const repo = createRepo();
      try {
        repo.write('hosts/web.yaml', WEB);
        symlinkSync(join(root, 'secret'), join(repo.dir, 'hosts', 'x.yaml'));
        repo.commit('a link out of the repository');
        // The working tree is fine: the link is replaced there by a real manifest, uncommitted.
        repo.remove('hosts/x.yaml');
        repo.write('hosts/x.yaml', 'version: 1\n');
        const result = runBuilt(['plan', 'hosts', '--gateway', 'em0', '--base', 'HEAD'], {
          cwd: repo.dir,
          timeoutMs: RUN_MS,
          env: gitEnv,
        });
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/hosts\/x\.yaml at HEAD .*symlink-outside/);
        expectNoSecret(result.stdout + result.stderr);
        expect(result.stdout + result.stderr).not.toContain(join(root, 'secret'));
      } finally {
        repo.cleanup();
      }
    },
    TIMEOUT,
  );
});
