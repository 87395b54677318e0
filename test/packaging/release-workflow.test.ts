// .github/workflows/release.yml (the tarball on every push, attached to the release on a tag) and
// the project's own shell: every `run:` step of the project's workflows and .ci/run are clean under
// shellcheck (bash, as the runner runs them), take ${{ }} values only through env, and the
// release job alone may write.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
}
interface Workflow {
  on: unknown;
  permissions?: unknown;
  jobs: Record<string, { permissions?: unknown; if?: string; needs?: string; steps: Step[] }>;
}

function workflow(path: string): Workflow {
  return parse(readFileSync(join(root, path), 'utf8')) as Workflow;
}

const release = workflow('.github/workflows/release.yml');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

/** Runs a step's script as the runner does for `run:` without `shell:` on Linux: bash -e. */
function runStep(script: string, env: Record<string, string>): { status: number | null; stdout: string } {
  const result = spawnSync('bash', ['--noprofile', '--norc', '-e', '-c', script], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout };
}

describe('.github/workflows/release.yml', () => {
  it('packs on every push and releases only on a tag, with the write permission in that job alone', () => {
    expect(release.on).toEqual({ push: { branches: ['**'], tags: ['v*'] } });
    expect(release.permissions).toEqual({});
    expect(release.jobs['pack']?.permissions).toEqual({ contents: 'read' });
    expect(release.jobs['release']?.permissions).toEqual({ contents: 'write' });
    expect(release.jobs['release']?.needs).toBe('pack');
    expect(release.jobs['release']?.if).toBe("startsWith(github.ref, 'refs/tags/')");
    const uses = release.jobs['pack']!.steps.map((s) => s.uses).filter((u) => u !== undefined);
    expect(uses).toEqual(expect.arrayContaining([expect.stringMatching(/^actions\/upload-artifact@v\d+$/)]));
  });

  const tagCheck = release.jobs['pack']!.steps.find(
    (s) => s.name === 'Check that a release tag names the package version',
  );

  it('refuses a tag that is not v + the package version', () => {
    expect(tagCheck?.run).toBeDefined();
    expect(runStep(tagCheck!.run!, { TAG: `v${version}` }).status).toBe(0);
    const wrong = runStep(tagCheck!.run!, { TAG: 'v999.0.0' });
    expect(wrong.status).toBe(1);
    expect(wrong.stdout).toMatch(/^::error::tag v999\.0\.0 does not match package\.json version/m);
  });
});

describe("the project's shell", () => {
  const steps = ['.github/workflows/release.yml', '.github/workflows/ci.yml'].flatMap((path) =>
    Object.entries(workflow(path).jobs).flatMap(([job, { steps }]) =>
      steps
        .filter((s) => s.run !== undefined)
        .map((s): [string, string] => [`${path} ${job}: ${s.name ?? s.run}`, s.run!]),
    ),
  );

  it.each(steps)('%s is clean under shellcheck and takes no ${{ }} into the script', (_name, script) => {
    expect(script).not.toContain('${{');
    const result = spawnSync('shellcheck', ['--shell=bash', '-'], { input: script, encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect([result.status, result.stdout]).toEqual([0, '']);
  });

  it('.ci/run is clean under shellcheck', () => {
    const result = spawnSync('shellcheck', [join(root, '.ci', 'run')], { encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect([result.status, result.stdout]).toEqual([0, '']);
  });
});
