// What users take for GitHub: the workflow they copy (contrib/github/pfexpose.yml) and the
// composite action they can `uses:` (action.yml at the repository root). Every `run:` script is
// clean under shellcheck as actionlint runs it (bash), takes ${{ }} values only through env, and
// the actions they use are on a current major (Node 24 runtimes). The action's steps run here with
// bash as the runner runs them, against stand-ins for npm and pfexpose that exit as a test says.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

interface Action {
  name: string;
  inputs: Record<string, { description: string; default?: string; required?: boolean }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: Step[] };
}

interface Workflow {
  jobs: Record<string, { steps: Step[] }>;
}

const readYaml = <T>(path: string): T => parse(readFileSync(join(root, path), 'utf8')) as T;
const action = readYaml<Action>('action.yml');
const workflow = readYaml<Workflow>('contrib/github/pfexpose.yml');

/** [where, step] for every step users run: the workflow's jobs and the action's steps. */
const allSteps: [string, Step][] = [
  ...Object.entries(workflow.jobs).flatMap(([job, { steps }]) =>
    steps.map((s): [string, Step] => [`contrib/github/pfexpose.yml ${job}: ${s.name ?? s.uses ?? '?'}`, s]),
  ),
  ...action.runs.steps.map((s): [string, Step] => [`action.yml: ${s.name ?? s.uses ?? '?'}`, s]),
];
const scripts = allSteps.filter(([, s]) => s.run !== undefined).map(([where, s]): [string, string] => [where, s.run!]);

describe('shell steps under shellcheck (as actionlint checks them)', () => {
  it('finds the scripts', () => {
    expect(scripts.length).toBeGreaterThanOrEqual(7);
  });

  it.each(scripts)('%s is clean and takes no ${{ }} into the script', (_where, script) => {
    expect(script).not.toContain('${{');
    const result = spawnSync('shellcheck', ['--shell=bash', '--severity=style', '-'], {
      input: script,
      encoding: 'utf8',
    });
    expect(result.error).toBeUndefined();
    expect([result.status, result.stdout]).toEqual([0, '']);
  });

  it('shellcheck does find unquoted expansions (the check can fail)', () => {
    const result = spawnSync('shellcheck', ['--shell=bash', '-'], {
      input: 'pfexpose validate $MANIFESTS\n',
      encoding: 'utf8',
    });
    expect(result.stdout).toContain('SC2086');
  });
});

describe('actions used', () => {
  const uses = allSteps.flatMap(([where, s]) => (s.uses === undefined ? [] : [[where, s.uses, s] as const]));

  it('checkout and setup-node on v5 (the Node 24 runtime), the package-manager cache off', () => {
    const names = uses.map(([, u]) => u);
    expect(names).toEqual(expect.arrayContaining(['actions/checkout@v5', 'actions/setup-node@v5']));
    for (const [where, name, step] of uses) {
      const major = /^actions\/[a-z-]+@v(\d+)$/.exec(name);
      expect(major, `${where} uses ${name}`).not.toBeNull();
      expect(Number(major?.[1]), `${where} uses ${name}`).toBeGreaterThanOrEqual(5);
      if (name.startsWith('actions/setup-node@')) expect(step.with?.['package-manager-cache']).toBe(false);
    }
  });
});

describe('action.yml', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pfexpose-action-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const step = (name: string): Step => {
    const found = action.runs.steps.find((s) => s.name === name);
    if (found?.run === undefined) throw new Error(`action.yml has no step ${name}`);
    return found;
  };

  /** A stand-in program: logs its arguments one a line, then exits with $STUB_STATUS (or dies by SIGTERM). */
  function stub(name: string): void {
    const path = join(dir, name);
    writeFileSync(
      path,
      `#!/bin/sh\nprintf '%s' "${name}" >> "${join(dir, 'calls.log')}"\nfor a in "$@"; do printf ' [%s]' "$a" >> "${join(dir, 'calls.log')}"; done\necho >> "${join(dir, 'calls.log')}"\nif [ "$STUB_STATUS" = TERM ]; then kill -TERM $$; fi\nexit "\${STUB_STATUS:-0}"\n`,
    );
    chmodSync(path, 0o755);
  }

  /** Runs a step as the runner runs `shell: bash`: bash --noprofile --norc -eo pipefail {0}. */
  function run(s: Step, env: Record<string, string>): { status: number | null; stdout: string; calls: string[] } {
    expect(s.shell).toBe('bash');
    const file = join(dir, 'step.sh');
    writeFileSync(file, s.run ?? '');
    const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
      cwd: dir,
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

  const output = (): string => readFileSync(join(dir, 'output'), 'utf8');
  const base = '0123456789abcdef0123456789abcdef01234567';

  it('is a composite action whose every run step is bash and every ${{ inputs.X }} an input it declares', () => {
    expect(action.runs.using).toBe('composite');
    const text = readFileSync(join(root, 'action.yml'), 'utf8');
    const used = [...text.matchAll(/\$\{\{ inputs\.([a-z-]+) \}\}/g)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(Object.keys(action.inputs)).toContain(name);
    for (const s of action.runs.steps) if (s.run !== undefined) expect(s.shell).toBe('bash');
    expect(action.outputs['changes']?.value).toBe('${{ steps.plan.outputs.changes }}');
    expect(action.runs.steps.some((s) => s.id === 'plan')).toBe(true);
  });

  it("installs this version's release tarball by default, with scripts off", () => {
    expect(action.inputs['package']?.default).toBe(
      `https://github.com/pfexpose/pfexpose/releases/download/v${version}/pfexpose-${version}.tgz`,
    );
    expect(action.inputs['base']?.default).toBe('${{ github.event.pull_request.base.sha }}');
    stub('npm');
    stub('pfexpose');
    const got = run(step('Install pfexpose'), { PFEXPOSE_PACKAGE: './tools/pfexpose-0.1.0.tgz' });
    expect(got.status).toBe(0);
    expect(got.calls).toEqual([
      'npm [install] [--global] [--ignore-scripts] [--no-audit] [--no-fund] [./tools/pfexpose-0.1.0.tgz]',
      'pfexpose [--version]',
    ]);
  });

  it.each([
    ['', /^::error title=pfexpose::the package input is empty/m],
    ['github:example/pfexpose#v0.1.0', /^::error title=pfexpose::the package input names a git repository/m],
    ['git+https://git.example.org/pfexpose.git', /^::error title=pfexpose::the package input names a git repository/m],
  ])('refuses to install %j', (value, message) => {
    stub('npm');
    const got = run(step('Install pfexpose'), { PFEXPOSE_PACKAGE: value });
    expect(got.status).toBe(1);
    expect(got.stdout).toMatch(message);
    expect(got.calls).toEqual([]);
  });

  it('validates each manifest path as one word, never expanded as a glob', () => {
    stub('pfexpose');
    writeFileSync(join(dir, 'a.yaml'), '');
    const got = run(step('Validate'), { MANIFESTS: 'hosts/ *.yaml' });
    expect(got.calls).toEqual(['pfexpose [validate] [--format] [github] [hosts/] [*.yaml]']);
    expect(got.status).toBe(0);
  });

  it('fails the step when validate finds invalid manifests', () => {
    stub('pfexpose');
    expect(run(step('Validate'), { MANIFESTS: 'hosts/', STUB_STATUS: '1' }).status).not.toBe(0);
  });

  it.each([
    ['0 (no changes)', '0', 'false'],
    ['2 (changes)', '2', 'true'],
  ])('plans on exit %s: the step passes and says whether there are changes', (_name, status, changes) => {
    stub('pfexpose');
    const got = run(step('Plan against the base commit'), {
      MANIFESTS: 'hosts/ shared/',
      BASE_SHA: base,
      FROZEN: 'true',
      STUB_STATUS: status,
    });
    expect(got.status).toBe(0);
    expect(got.calls).toEqual([
      `pfexpose [plan] [hosts/] [shared/] [--base] [${base}] [--frozen] [--format] [github]`,
      `pfexpose [plan] [hosts/] [shared/] [--base] [${base}] [--frozen] [--format] [markdown]`,
    ]);
    expect(output()).toBe(`changes=${changes}\nmarkdown=${join(dir, 'pfexpose-plan.md')}\n`);
  });

  it.each([
    ['1 (invalid manifests)', '1'],
    ['127 (not found)', '127'],
    ['a signal', 'TERM'],
  ])('fails the plan step on exit %s', (_name, status) => {
    stub('pfexpose');
    const got = run(step('Plan against the base commit'), {
      MANIFESTS: 'hosts/',
      BASE_SHA: base,
      FROZEN: 'true',
      STUB_STATUS: status,
    });
    expect(got.status).not.toBe(0);
    expect(got.stdout).toMatch(/^::error::pfexpose plan failed \(exit \d+\)$/m);
  });

  it('plans without --frozen when frozen is false, and refuses any other value or no base', () => {
    stub('pfexpose');
    const plan = step('Plan against the base commit');
    const loose = run(plan, { MANIFESTS: 'hosts/', BASE_SHA: base, FROZEN: 'false' });
    expect(loose.status).toBe(0);
    expect(loose.calls[0]).toBe(`pfexpose [plan] [hosts/] [--base] [${base}] [--format] [github]`);
    rmSync(join(dir, 'calls.log'));
    const typo = run(plan, { MANIFESTS: 'hosts/', BASE_SHA: base, FROZEN: 'yes' });
    expect(typo.status).toBe(1);
    expect(typo.stdout).toMatch(/^::error title=pfexpose::the frozen input is "yes": it must be true or false$/m);
    expect(typo.calls).toEqual([]);
    const nobase = run(plan, { MANIFESTS: 'hosts/', BASE_SHA: '', FROZEN: 'true' });
    expect(nobase.status).toBe(1);
    expect(nobase.stdout).toMatch(/^::error title=pfexpose::no base commit to plan against/m);
  });

  it('the CI guide (docs/guide/ci.md) shows the action at this version', () => {
    const readme = readFileSync(join(root, 'docs', 'guide', 'ci.md'), 'utf8');
    expect(readme).toContain(`uses: pfexpose/pfexpose@v${version}`);
  });
});
