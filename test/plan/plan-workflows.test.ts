// The GitHub workflows that run `pfexpose plan`: this repository's CI and the one users copy from
// contrib/github/. Their shell steps are run with bash -e, as the runner does, against stand-ins for
// pfexpose, npx and npm that exit as a test says, so every exit status is judged as CI would.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
}

interface Workflow {
  permissions?: unknown;
  env?: Record<string, string>;
  jobs: Record<string, { permissions?: unknown; steps: Step[] }>;
}

function workflow(path: string): Workflow {
  return parse(readFileSync(join(root, path), 'utf8')) as Workflow;
}

function step(flow: Workflow, job: string, matches: (s: Step) => boolean): Step {
  const found = flow.jobs[job]?.steps.find(matches);
  if (found?.run === undefined) throw new Error(`no such step in job ${job}`);
  return found;
}

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pfexpose-workflow-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A stand-in program: logs its arguments, then exits with $STUB_STATUS (or dies by SIGTERM). */
function stub(name: string): void {
  const path = join(dir, name);
  writeFileSync(
    path,
    `#!/bin/sh\necho "${name} $*" >> "${join(dir, 'calls.log')}"\nif [ "$STUB_STATUS" = TERM ]; then kill -TERM $$; fi\nexit "\${STUB_STATUS:-0}"\n`,
  );
  chmodSync(path, 0o755);
}

function runStep(
  script: string,
  env: Record<string, string>,
): { status: number | null; stdout: string; calls: string[] } {
  const file = join(dir, 'step.sh');
  writeFileSync(file, script);
  // What the runner does for `run:` on Linux without a `shell:`: bash -e {0}.
  const result = spawnSync('bash', ['--noprofile', '--norc', '-e', file], {
    env: {
      PATH: `${dir}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      RUNNER_TEMP: dir,
      GITHUB_OUTPUT: join(dir, 'output'),
      ...env,
    },
    encoding: 'utf8',
  });
  let calls: string[] = [];
  try {
    calls = readFileSync(join(dir, 'calls.log'), 'utf8').trimEnd().split('\n');
  } catch {
    // no call was made
  }
  return { status: result.status, stdout: result.stdout, calls };
}

const accepted: [string, string][] = [
  ['0 (no changes)', '0'],
  ['2 (changes)', '2'],
];
const refused: [string, string][] = [
  ['1 (invalid manifests)', '1'],
  ['127 (not found)', '127'],
  ['134 (abort)', '134'],
  ['a signal', 'TERM'],
];

describe('.github/workflows/ci.yml: the plan step', () => {
  const plan = step(workflow('.github/workflows/ci.yml'), 'test', (s) => s.run?.includes('pfexpose plan') === true);

  it.each(accepted)('passes on exit %s', (_name, status) => {
    stub('npx');
    const got = runStep(plan.run ?? '', { BASE: 'HEAD~1', STUB_STATUS: status });
    expect(got.calls).toEqual(['npx pfexpose plan examples/ --frozen --base HEAD~1']);
    expect(got.status).toBe(0);
  });

  it.each(refused)('fails on exit %s', (_name, status) => {
    stub('npx');
    const got = runStep(plan.run ?? '', { BASE: 'HEAD~1', STUB_STATUS: status });
    expect(got.status).not.toBe(0);
    expect(got.stdout).toMatch(/^::error::pfexpose plan failed \(exit \d+\)$/m);
  });
});

describe('contrib/github/pfexpose.yml', () => {
  const flow = workflow('contrib/github/pfexpose.yml');
  const plan = step(flow, 'plan', (s) => s.run?.includes('pfexpose plan') === true);
  const install = step(flow, 'plan', (s) => s.name === 'Install pfexpose');
  const planEnv = { MANIFESTS: 'hosts/', BASE_SHA: '0123456789abcdef0123456789abcdef01234567' };

  it.each(accepted)('the plan step passes on exit %s and says whether there are changes', (_name, status) => {
    stub('pfexpose');
    const got = runStep(plan.run ?? '', { ...planEnv, STUB_STATUS: status });
    expect(got.status).toBe(0);
    expect(got.calls).toHaveLength(2);
    expect(readFileSync(join(dir, 'output'), 'utf8')).toBe(`changes=${status === '2' ? 'true' : 'false'}\n`);
  });

  it.each(refused)('the plan step fails on exit %s', (_name, status) => {
    stub('pfexpose');
    const got = runStep(plan.run ?? '', { ...planEnv, STUB_STATUS: status });
    expect(got.status).not.toBe(0);
    expect(got.stdout).toMatch(/^::error::pfexpose plan failed \(exit \d+\)$/m);
  });

  it('installs the release tarball PFEXPOSE_PACKAGE names, scripts off, never from the npm registry by name', () => {
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    expect(flow.env?.['PFEXPOSE_PACKAGE']).toBe(
      `https://github.com/pfexpose/pfexpose/releases/download/v${version}/pfexpose-${version}.tgz`,
    );
    expect(install.run).not.toMatch(/pfexpose@/);
    stub('npm');
    stub('pfexpose');
    const got = runStep(install.run ?? '', { PFEXPOSE_PACKAGE: './tools/pfexpose-0.1.0.tgz' });
    expect(got.status).toBe(0);
    expect(got.calls).toEqual([
      'npm install --global --ignore-scripts --no-audit --no-fund ./tools/pfexpose-0.1.0.tgz',
      'pfexpose --version',
    ]);
  });

  it('stops with a clear error when PFEXPOSE_PACKAGE is empty, a placeholder or a git repository', () => {
    stub('npm');
    const cases: [string, RegExp][] = [
      ['', /^::error title=pfexpose::set PFEXPOSE_PACKAGE in this workflow/m],
      [
        'https://example.org/OWNER/pfexpose-0.1.0.tgz',
        /^::error title=pfexpose::set PFEXPOSE_PACKAGE in this workflow/m,
      ],
      ['github:example/pfexpose#v0.1.0', /^::error title=pfexpose::PFEXPOSE_PACKAGE names a git repository/m],
      ['git+https://git.example.org/pfexpose.git#v0.1.0', /^::error title=pfexpose::PFEXPOSE_PACKAGE names a git/m],
    ];
    for (const [value, message] of cases) {
      const got = runStep(install.run ?? '', { PFEXPOSE_PACKAGE: value });
      expect(got.status, value).toBe(1);
      expect(got.stdout).toMatch(message);
      expect(got.calls).toEqual([]);
    }
  });

  it('asks for no more permissions than reading the code and writing the comment', () => {
    expect(flow.permissions).toEqual({});
    expect(flow.jobs['plan']?.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
  });

  it('puts no ${{ }} expressions into shell scripts (values reach them through env)', () => {
    for (const s of flow.jobs['plan']?.steps ?? []) expect(s.run ?? '').not.toContain('${{');
  });
});
