// Saved plans are tied to their manifests (issue 9, M1): `apply PLAN` compiles the manifests the
// plan records, as they are on disk now, and loads nothing unless they give exactly the plan's
// ruleset. The CLI in process against the in-memory pf (under the real pfctl adapter); "pf
// unchanged" is checked on the anchor and on its log of pfctl runs (pfctl was never asked to load).
// The built CLI's own exit codes and output streams are proven in apply.test.ts.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintDeployedText } from '../../src/plan/plan-file.js';
import { runInProcess, STACK_TRACE, type RunResult } from '../helpers/cli.js';
import { createMemoryPf, type MemoryPf } from '../helpers/memory-pf.js';

const WEB = `version: 1
containers:
  web:
    ip: 10.0.0.2
    ports:
      - "em0:8080:80"
`;
const WEB_AND_DB = `${WEB}  db:
    ip: 10.0.0.3
    ports:
      - "em0:5432:5432"
`;

let sim: MemoryPf;
let work: string;

beforeEach(async () => {
  sim = createMemoryPf();
  work = await mkdtemp(join(tmpdir(), 'pfexpose-plan-tamper-'));
  await writeFile(join(work, 'web.yaml'), WEB);
});
afterEach(async () => {
  await sim.cleanup();
  await rm(work, { recursive: true, force: true });
});

function pfexpose(...args: string[]): Promise<RunResult> {
  return runInProcess(args, {
    cwd: work,
    env: { NO_COLOR: '1', PFEXPOSE_STATE_DIR: join(work, 'state') },
    pfctl: (options) => sim.pfctl(options),
  });
}

/** Applies web.yaml, changes it to WEB_AND_DB and saves a plan of that change. */
async function planChange(): Promise<string> {
  expect((await pfexpose('apply', 'web.yaml')).code).toBe(0);
  await writeFile(join(work, 'web.yaml'), WEB_AND_DB);
  const plan = await pfexpose('plan', 'web.yaml', '--live', '-o', 'plan.json');
  expect(plan.code, plan.stderr).toBe(2);
  return (await sim.readAnchor('pfexpose')) ?? '';
}

async function editPlan(edit: (plan: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  const path = join(work, 'plan.json');
  await writeFile(
    path,
    JSON.stringify(edit(JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>), null, 2),
  );
}

async function expectPfUntouched(before: string, loadsBefore: number): Promise<void> {
  expect(await sim.readAnchor('pfexpose')).toBe(before);
  expect((await sim.loadCalls()).length).toBe(loadsBefore);
}

/** Runs of pfctl that were given a ruleset file at all, dry runs included. */
async function rulesetRuns(): Promise<number> {
  return (await sim.calls()).filter((call) => call.argv.includes('-f')).length;
}

describe('apply PLAN: the plan must be what its manifests compile to', () => {
  it('applies an untouched plan', async () => {
    await planChange();
    const run = await pfexpose('apply', 'plan.json');
    expect(run.code, run.stderr).toBe(0);
    expect(await sim.readAnchor('pfexpose')).toContain('10.0.0.3');
  });

  it('refuses a plan whose rules were edited to pass in quick all and whose fingerprint was recomputed; pf unchanged', async () => {
    const before = await planChange();
    const loads = (await sim.loadCalls()).length;
    const fileRuns = await rulesetRuns();
    const evil = 'pass in quick all\n';
    await editPlan((plan) => ({ ...plan, desired: { ruleset: evil, fingerprint: fingerprintDeployedText(evil) } }));
    const run = await pfexpose('apply', 'plan.json');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('plan.json: the plan does not match its own inputs');
    expect(run.stderr).toContain('the plan has "pass in quick all"');
    expect(run.stderr).toContain('nothing was applied: make a new plan with pfexpose plan -o FILE');
    expect(run.stderr).not.toMatch(STACK_TRACE);
    await expectPfUntouched(before, loads);
    // Not even a dry run: the ruleset never reached pfctl.
    expect(await rulesetRuns()).toBe(fileRuns);
  });

  it('refuses a plan whose rules were edited without recomputing the fingerprint; pf unchanged', async () => {
    const before = await planChange();
    const loads = (await sim.loadCalls()).length;
    await editPlan((plan) => ({
      ...plan,
      desired: { ...(plan['desired'] as object), ruleset: 'pass in quick all\n' },
    }));
    const run = await pfexpose('apply', 'plan.json');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('does not match its own fingerprint');
    await expectPfUntouched(before, loads);
  });

  it('refuses a plan whose rules and recorded manifest digests were both rewritten: the manifests on disk decide; pf unchanged', async () => {
    const before = await planChange();
    const loads = (await sim.loadCalls()).length;
    const evil = 'pass in quick all\n';
    await editPlan((plan) => ({
      ...plan,
      desired: { ruleset: evil, fingerprint: fingerprintDeployedText(evil) },
      inputs: { ...(plan['inputs'] as object), manifests: [{ file: 'web.yaml', sha256: '0'.repeat(64) }] },
    }));
    const run = await pfexpose('apply', 'plan.json');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/nothing was applied/);
    await expectPfUntouched(before, loads);
  });

  it('refuses a stale plan: the manifests changed since it was made (exit 1, re-run plan); pf unchanged', async () => {
    const before = await planChange();
    const loads = (await sim.loadCalls()).length;
    await writeFile(join(work, 'web.yaml'), WEB.replace('8080', '8081'));
    const run = await pfexpose('apply', 'plan.json');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'plan.json: the plan is stale: its inputs changed since it was made (changed: "web.yaml")',
    );
    expect(run.stderr).toContain('run pfexpose plan -o FILE again');
    expect(run.stderr).not.toMatch(STACK_TRACE);
    await expectPfUntouched(before, loads);
  });

  it('refuses a version 1 plan with a message to plan again; pf unchanged', async () => {
    const before = await planChange();
    const loads = (await sim.loadCalls()).length;
    await editPlan((plan) => {
      const { inputs: _inputs, ...rest } = plan;
      return { ...rest, version: 1 };
    });
    const run = await pfexpose('apply', 'plan.json');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the plan file has version 1');
    expect(run.stderr).toContain('run pfexpose plan -o FILE again');
    await expectPfUntouched(before, loads);
  });
});
