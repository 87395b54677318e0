// The real Pfctl adapter against the pfctl simulator, spawned for real.
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { createPfctl, type Pfctl } from '../../src/host/pfctl.js';
import { createSim, PFCTL_SIM, type Sim } from '../pfctl-sim/sim-control.js';

const RULESET = [
  'rdr on em0 inet proto tcp from any to (em0) port = 8080 tag pfexpose -> 10.0.0.2 port 80',
  'pass in quick on em0 inet proto tcp from any to 10.0.0.2 port = 80 flags S/SA keep state label "pfexpose:web" tagged pfexpose',
  '',
].join('\n');
const OTHER = 'rdr on em0 inet proto tcp from any to (em0) port = 9090 tag pfexpose -> 10.0.0.3 port 90\n';

let sim: Sim;
let pfctl: Pfctl;
let sleeps: number[];

beforeEach(async () => {
  sim = await createSim();
  sleeps = [];
  pfctl = createPfctl({
    program: PFCTL_SIM,
    env: sim.env,
    timeoutMs: 10_000,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  });
});
afterEach(async () => {
  await sim.cleanup();
});

describe('status', () => {
  it('reads enabled and disabled', async () => {
    expect(await pfctl.status()).toEqual({ kind: 'ok', enabled: true });
    await sim.setEnabled(false);
    expect(await pfctl.status()).toEqual({ kind: 'ok', enabled: false });
  });

  it('reports a failing pfctl with its message', async () => {
    await sim.setControl({ fail: '/dev/pf: Permission denied' });
    const result = await pfctl.status();
    expect(result.kind).toBe('failed');
    expect(result.kind === 'failed' && result.message).toContain('/dev/pf: Permission denied');
  });

  it('reports a missing program', async () => {
    const missing = createPfctl({ program: '/nonexistent/pfctl', env: sim.env });
    expect((await missing.status()).kind).toBe('not-found');
  });
});

describe('showMain', () => {
  it('returns the main ruleset, hooked by default', async () => {
    expect(await pfctl.showMain()).toEqual({ kind: 'ok', nat: 'rdr-anchor "pfexpose" all\n', filter: 'anchor "pfexpose" all\n' });
  });

  it('returns what the test wrote as the main ruleset', async () => {
    await sim.writeMain('pass all flags S/SA keep state\n');
    expect(await pfctl.showMain()).toEqual({ kind: 'ok', nat: '', filter: 'pass all flags S/SA keep state\n' });
  });
});

describe('load, showAnchor', () => {
  it('loads and reads back with -P', async () => {
    const loaded = await pfctl.load('pfexpose', RULESET);
    expect(loaded).toEqual({ kind: 'ok', attempts: 1, warnings: [] });
    expect(await pfctl.showAnchor('pfexpose')).toEqual({
      kind: 'ok',
      nat: `${RULESET.split('\n')[0]}\n`,
      filter: `${RULESET.split('\n')[1]}\n`,
      tables: [],
    });
    const showCalls = (await sim.calls()).filter((call) => call.argv.includes('-P'));
    expect(showCalls.map((call) => call.argv)).toEqual([
      ['-a', 'pfexpose', '-P', '-sn'],
      ['-a', 'pfexpose', '-P', '-sr'],
    ]);
  });

  it('lists the tables of the anchor', async () => {
    await pfctl.load('pfexpose', `table <jails> persist { 10.0.0.2 10.0.0.3 }\n${RULESET}`);
    const shown = await pfctl.showAnchor('pfexpose');
    expect(shown.kind === 'ok' && shown.tables).toEqual(['jails']);
  });

  it('an anchor the main ruleset calls but nothing loaded is empty', async () => {
    expect(await pfctl.showAnchor('pfexpose')).toEqual({ kind: 'ok', nat: '', filter: '', tables: [] });
  });

  it('reports a missing anchor (pfctl warns and exits 0)', async () => {
    expect((await pfctl.showAnchor('elsewhere')).kind).toBe('anchor-missing');
  });

  it('reports pf disabled', async () => {
    await sim.setEnabled(false);
    expect((await pfctl.showAnchor('pfexpose')).kind).toBe('pf-disabled');
  });

  it('reports an error printed while exiting 0', async () => {
    await pfctl.load('pfexpose', RULESET);
    await sim.setControl({ showError: 'DIOCGETRULESET: Operation not supported by device' });
    const result = await pfctl.showAnchor('pfexpose');
    expect(result.kind).toBe('pfctl-error');
    expect(result.kind === 'pfctl-error' && result.message).toContain('exited 0 but printed an error');
  });

  it('rejects an invalid anchor name before running anything', async () => {
    expect((await pfctl.showAnchor('../etc')).kind).toBe('invalid-name');
    expect((await pfctl.load('a/b', RULESET)).kind).toBe('invalid-name');
    expect(await sim.calls()).toEqual([]);
  });
});

describe('dryRun', () => {
  it('accepts a valid ruleset without loading it', async () => {
    expect(await pfctl.dryRun('pfexpose', RULESET)).toEqual({ kind: 'ok', attempts: 1, warnings: [] });
    expect(await sim.readAnchor('pfexpose')).toBeUndefined();
    expect((await sim.calls()).map((call) => call.argv)).toEqual([['-o', 'none', '-a', 'pfexpose', '-n', '-f', '-']]);
  });

  it('maps errors to stdin lines', async () => {
    const result = await pfctl.dryRun('pfexpose', `${RULESET}bogus rule\n`);
    expect(result).toMatchObject({ kind: 'rejected', errors: [{ line: 3, message: 'syntax error' }] });
  });
});

describe('load failures', () => {
  it('a rejected load leaves the anchor as it was', async () => {
    await pfctl.load('pfexpose', RULESET);
    const result = await pfctl.load('pfexpose', 'pass in\nrdr on em0 inet proto tcp to port 1 -> 10.0.0.9\n');
    expect(result).toMatchObject({ kind: 'rejected', errors: [{ line: 2 }] });
    expect(result.kind === 'rejected' && result.stderr).toContain('pf rules not loaded');
    expect(await sim.readAnchor('pfexpose')).toBe(RULESET);
  });

  it('retries EBUSY with a doubling backoff, then loads', async () => {
    await sim.setControl({ busyLoads: 3 });
    expect(await pfctl.load('pfexpose', RULESET)).toMatchObject({ kind: 'ok', attempts: 4 });
    expect(sleeps).toEqual([100, 200, 400]);
    expect(await sim.loadCalls()).toHaveLength(4);
    expect(await sim.readAnchor('pfexpose')).toBe(RULESET);
  });

  it('gives up after a bounded number of EBUSY attempts', async () => {
    await sim.setControl({ busyLoads: 100 });
    const result = await pfctl.load('pfexpose', RULESET);
    expect(result).toMatchObject({ kind: 'busy', attempts: 5 });
    expect(await sim.loadCalls()).toHaveLength(5);
    expect(await sim.readAnchor('pfexpose')).toBeUndefined();
  });

  it('kills a hanging pfctl and says so', async () => {
    const quick = createPfctl({ program: PFCTL_SIM, env: sim.env, timeoutMs: 800 });
    await sim.setControl({ hangMs: 'forever', hangOn: ['load'] });
    const started = Date.now();
    const result = await quick.load('pfexpose', RULESET);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.kind).toBe('timed-out');
    expect(result.kind === 'timed-out' && result.message).toContain('timed out after 800 ms');
    expect(await sim.readAnchor('pfexpose')).toBeUndefined();
  });

  it('a pfctl that dies half-way (before commit) leaves the previous anchor intact', async () => {
    await pfctl.load('pfexpose', RULESET);
    await sim.setControl({ dieLoads: 1, dieWhen: 'before-commit' });
    const result = await pfctl.load('pfexpose', OTHER);
    expect(result.kind).toBe('failed');
    expect(result.kind === 'failed' && result.message).toContain('killed by SIGKILL');
    expect(await sim.readAnchor('pfexpose')).toBe(RULESET);
    // the fault is one-shot: the next load goes through
    expect((await pfctl.load('pfexpose', OTHER)).kind).toBe('ok');
    expect(await sim.readAnchor('pfexpose')).toBe(OTHER);
  });

  it('a pfctl that dies after committing leaves the new anchor whole', async () => {
    await pfctl.load('pfexpose', RULESET);
    await sim.setControl({ dieLoads: 1, dieWhen: 'after-commit' });
    expect((await pfctl.load('pfexpose', OTHER)).kind).toBe('failed');
    expect(await sim.readAnchor('pfexpose')).toBe(OTHER);
  });
});

describe('killStates', () => {
  it('reports how many states pfctl killed', async () => {
    await sim.setControl({ killedStates: 4 });
    expect(await pfctl.killStates('pfexpose:web')).toEqual({ kind: 'ok', killed: 4 });
    expect((await sim.calls()).map((call) => call.argv)).toEqual([['-k', 'label', '-k', 'pfexpose:web']]);
  });

  it('refuses a label pf would not accept', async () => {
    expect((await pfctl.killStates('')).kind).toBe('invalid-name');
  });
});
