// route(8)'s answer is external input: an interface it names that no pf rule can carry is a
// located refusal of apply (exit 1, pf untouched), never an internal error. The CLI in process
// against the in-memory pf, and the spawned route stand-in's garbage knob (PFCTL_SIM_ROUTE_OUTPUT_B64).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runInProcess, STACK_TRACE, type RunResult } from '../helpers/cli.js';
import { createMemoryPf, type MemoryPf } from '../helpers/memory-pf.js';
import { createSim, ROUTE_SIM, type Sim } from '../pfctl-sim/sim-control.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

// No interface named: the entry listens on the gateway, which only route(8) can tell.
const GATEWAY = `version: 1
containers:
  gw:
    ip: 10.0.0.9
    ports:
      - "9000:90"
`;

/** The route stand-in's answers. */
let sim: Sim;
let pf: MemoryPf;
let work: string;

beforeEach(async () => {
  sim = await createSim({ routeIf: 'em0' });
  pf = createMemoryPf();
  work = await mkdtemp(join(tmpdir(), 'pfexpose-route-e2e-'));
  await writeFile(join(work, 'gw.yaml'), GATEWAY);
});
afterEach(async () => {
  await sim.cleanup();
  await rm(work, { recursive: true, force: true });
});

function apply(routeOutput: string | Buffer): Promise<RunResult> {
  return runInProcess(['apply', '.'], {
    cwd: work,
    pfctl: (options) => pf.pfctl(options),
    env: {
      ...sim.env,
      NO_COLOR: '1',
      PFEXPOSE_ROUTE: ROUTE_SIM,
      PFEXPOSE_STATE_DIR: join(work, 'state'),
      PFCTL_SIM_ROUTE_OUTPUT_B64: Buffer.from(routeOutput).toString('base64'),
    },
  });
}

describe('apply: route answers an interface no rule can carry', () => {
  it.each([
    ['self', '  interface: self\n', /"self" is a word of pf's rule grammar/],
    ['any', '  interface: any\n', /"any" is a word of pf's rule grammar/],
    ['em0;', '  interface: em0;\n', /contains ";"/],
    ['24 characters', `  interface: ${'x'.repeat(24)}\n`, /longer than pf's limit of 15 characters/],
    [
      'binary',
      Buffer.from([
        0x20, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x3a, 0x20, 0x65, 0x6d, 0xff, 0x1b, 0x0a,
      ]),
      /interface name "em/,
    ],
  ])('%s: exit 1, a message naming route and the fix, nothing loaded', async (_name, output, why) => {
    const run = await apply(output);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /cannot detect the gateway interface: \S+ -n get default answered with an interface pfexpose cannot put in a pf rule/,
    );
    expect(run.stderr).toMatch(why);
    expect(run.stderr).toMatch(/declare the host's gateway in a manifest or pass --gateway IF; nothing was applied/);
    expect(run.stderr).not.toMatch(/bug|internal error/i);
    expect(run.stderr).not.toMatch(STACK_TRACE);
    expect(await pf.loadCalls()).toEqual([]);
  });

  it('empty output: exit 1, route printed no interface line, nothing loaded', async () => {
    const run = await apply('');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/printed no "interface:" line/);
    expect(run.stderr).not.toMatch(STACK_TRACE);
    expect(await pf.loadCalls()).toEqual([]);
  });

  it('a sound answer still applies (the knob is the only difference)', async () => {
    const run = await apply('  interface: em1\n');
    expect(run.stderr).toMatch(/gateway interface em1/);
    expect(run.code).toBe(0);
    expect(await pf.readAnchor('pfexpose')).toMatch(/rdr on em1 /);
  });
});
