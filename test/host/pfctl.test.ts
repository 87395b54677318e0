// The real Pfctl adapter against the pfctl simulator, spawned for real.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { createPfctl, MAX_PFCTL_TIMEOUT_MS } from '../../src/host/pfctl.js';
import type { Pfctl } from '../../src/pf/pfctl-api.js';
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
    expect(await pfctl.showMain()).toEqual({
      kind: 'ok',
      nat: 'rdr-anchor "pfexpose" all\n',
      filter: 'anchor "pfexpose" all\n',
    });
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
    expect((await sim.calls()).map((call) => call.argv)).toEqual([
      ['-o', 'none', '-a', 'pfexpose', '-n', '-f', expect.stringMatching(/\/pfexpose-load-\d+-\w{6}\/ruleset\.conf$/)],
    ]);
  });

  it('maps errors to ruleset lines, naming the file pfctl read "stdin" as before', async () => {
    const result = await pfctl.dryRun('pfexpose', `${RULESET}bogus rule\n`);
    expect(result).toMatchObject({ kind: 'rejected', errors: [{ line: 3, message: 'syntax error' }] });
    expect(result.kind === 'rejected' && result.message).toBe('pfctl refused the ruleset: stdin:3: syntax error');
    expect(result.kind === 'rejected' && result.stderr).toBe('stdin:3: syntax error\n');
  });
});

/**
 * A pfctl that records what it was given: argv, and for `-f FILE` the file's mode, its directory's
 * mode and its whole text, read when pfctl runs. $ANSWER picks its answer.
 */
async function recordingPfctl(dir: string): Promise<{ program: string; seen: () => Promise<Seen[]> }> {
  const program = join(dir, 'pfctl-recorder.mjs');
  const log = join(dir, 'seen.jsonl');
  await writeFile(
    program,
    [
      `#!${process.execPath}`,
      "import { appendFileSync, readFileSync, statSync } from 'node:fs';",
      "import { dirname } from 'node:path';",
      'const argv = process.argv.slice(2);',
      "const file = argv[argv.indexOf('-f') + 1];",
      'const seen = { argv, file, fileMode: statSync(file).mode & 0o7777, dirMode: statSync(dirname(file)).mode & 0o7777, text: readFileSync(file, "utf8") };',
      `appendFileSync(${JSON.stringify(log)}, JSON.stringify(seen) + "\\n");`,
      "if (process.env.ANSWER === 'reject') { process.stderr.write(`${file}:2: syntax error\\npfctl: Syntax error in config file: pf rules not loaded\\n`); process.exitCode = 1; }",
      "if (process.env.ANSWER === 'busy') { process.stderr.write('pfctl: DIOCXBEGIN: Device busy\\n'); process.exitCode = 1; }",
      '',
    ].join('\n'),
  );
  await chmod(program, 0o755);
  return {
    program,
    seen: async () =>
      (await readFile(log, 'utf8'))
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Seen),
  };
}

interface Seen {
  argv: string[];
  file: string;
  fileMode: number;
  dirMode: number;
  text: string;
}

describe('loads read a complete file', () => {
  const big = `${'pass in quick on em0 inet proto tcp from any to 10.0.0.2 port = 80 flags S/SA keep state label "pfexpose:web" tagged pfexpose\n'.repeat(1500)}`;

  it.each([
    ['load', (p: Pfctl, text: string) => p.load('pfexpose', text), []],
    ['dry run', (p: Pfctl, text: string) => p.dryRun('pfexpose', text), ['-n']],
  ] as const)(
    '%s: pfctl -f FILE, the whole ruleset in a 0600 file in a private 0700 directory, removed afterwards',
    async (_name, run, dry) => {
      const loadDir = join(sim.dir, 'loads');
      await mkdir(loadDir);
      const recorder = await recordingPfctl(sim.dir);
      const adapter = createPfctl({ program: recorder.program, env: sim.env, loadDir });
      expect(big.length).toBeGreaterThan(128 * 1024);
      expect(await run(adapter, big)).toMatchObject({ kind: 'ok', attempts: 1 });
      const [seen] = await recorder.seen();
      expect(seen?.argv).toEqual(['-o', 'none', '-a', 'pfexpose', ...dry, '-f', seen?.file]);
      expect(seen?.file).toMatch(new RegExp(`^${loadDir}/pfexpose-load-${process.pid}-\\w{6}/ruleset\\.conf$`));
      expect(seen?.text).toBe(big);
      expect(seen?.fileMode).toBe(0o600);
      expect(seen?.dirMode).toBe(0o700);
      expect(existsSync(seen?.file ?? '')).toBe(false);
      expect(await readdir(loadDir)).toEqual([]);
    },
  );

  it('a rejected load reports the file\'s lines under "stdin" and removes the file', async () => {
    const loadDir = join(sim.dir, 'loads');
    await mkdir(loadDir);
    const recorder = await recordingPfctl(sim.dir);
    const adapter = createPfctl({ program: recorder.program, env: { ...sim.env, ANSWER: 'reject' }, loadDir });
    const result = await adapter.load('pfexpose', RULESET);
    expect(result).toMatchObject({ kind: 'rejected', errors: [{ line: 2, message: 'syntax error' }] });
    expect(result.kind === 'rejected' && result.message).toBe(
      'pfctl refused the ruleset: stdin:2: syntax error; pfctl: Syntax error in config file: pf rules not loaded',
    );
    expect(result.kind === 'rejected' && result.stderr).not.toContain(loadDir);
    expect(await readdir(loadDir)).toEqual([]);
  });

  it('EBUSY retries read the same complete file; it is removed once they give up', async () => {
    const loadDir = join(sim.dir, 'loads');
    await mkdir(loadDir);
    const recorder = await recordingPfctl(sim.dir);
    const adapter = createPfctl({
      program: recorder.program,
      env: { ...sim.env, ANSWER: 'busy' },
      loadDir,
      busyAttempts: 3,
      sleep: () => Promise.resolve(),
    });
    expect(await adapter.load('pfexpose', RULESET)).toMatchObject({ kind: 'busy', attempts: 3 });
    const seen = await recorder.seen();
    expect(seen.map((s) => s.text)).toEqual([RULESET, RULESET, RULESET]);
    expect(new Set(seen.map((s) => s.file)).size).toBe(1);
    expect(await readdir(loadDir)).toEqual([]);
  });

  it('a load directory that cannot be used starts no pfctl and loads nothing', async () => {
    const result = await pfctl.load('pfexpose', RULESET);
    expect(result.kind).toBe('ok');
    const broken = createPfctl({ program: PFCTL_SIM, env: sim.env, loadDir: join(sim.dir, 'no-such-dir') });
    const before = (await sim.calls()).length;
    const refused = await broken.load('pfexpose', OTHER);
    expect(refused.kind).toBe('not-started');
    expect(refused.kind === 'not-started' && refused.message).toContain(
      'cannot write the ruleset file for pfctl, nothing was loaded',
    );
    expect(await sim.calls()).toHaveLength(before);
    expect(await sim.readAnchor('pfexpose')).toBe(RULESET);
  });

  it('a timed-out load removes its file too', async () => {
    const loadDir = join(sim.dir, 'loads');
    await mkdir(loadDir);
    const quick = createPfctl({ program: PFCTL_SIM, env: sim.env, timeoutMs: 500, loadDir });
    await sim.setControl({ hangMs: 'forever', hangOn: ['load'] });
    expect((await quick.load('pfexpose', RULESET)).kind).toBe('timed-out');
    expect(await readdir(loadDir)).toEqual([]);
  });

  it.each([0, -1, 1.5, MAX_PFCTL_TIMEOUT_MS + 1, 2 ** 31])(
    'refuses a pfctl timeout of %s ms, which Node would fire at once',
    (timeoutMs) => {
      expect(() => createPfctl({ program: PFCTL_SIM, timeoutMs })).toThrow(RangeError);
    },
  );
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

describe('labelCounters (-a NAME -s labels)', () => {
  it('sums the counts of the rules that share a label, from the simulator', async () => {
    const twoFamilies = [
      RULESET,
      'pass in quick on em0 inet6 proto tcp from any to fd00::2 port = 80 flags S/SA keep state label "pfexpose:web" tagged pfexpose',
      'pass in quick on em0 inet proto tcp from any to 10.0.0.3 port = 90 flags S/SA keep state label "pfexpose:db" tagged pfexpose',
      '',
    ].join('\n');
    expect((await pfctl.load('pfexpose', twoFamilies)).kind).toBe('ok');
    await sim.setControl({
      labelCounters: {
        'pfexpose:web': [
          {
            evaluations: 10,
            packets: 7,
            bytes: 700,
            inPackets: 4,
            inBytes: 400,
            outPackets: 3,
            outBytes: 300,
            states: 2,
          },
          { evaluations: 1, packets: 1, bytes: 60, inPackets: 1, inBytes: 60, states: 1 },
        ],
      },
    });
    const read = await pfctl.labelCounters?.('pfexpose');
    expect(read).toEqual({
      kind: 'ok',
      unreadable: [],
      counters: [
        {
          label: 'pfexpose:db',
          evaluations: 0,
          packets: 0,
          bytes: 0,
          inPackets: 0,
          inBytes: 0,
          outPackets: 0,
          outBytes: 0,
          states: 0,
        },
        {
          label: 'pfexpose:web',
          evaluations: 11,
          packets: 8,
          bytes: 760,
          inPackets: 5,
          inBytes: 460,
          outPackets: 3,
          outBytes: 300,
          states: 3,
        },
      ],
    });
    const call = (await sim.calls()).at(-1);
    expect(call?.argv).toEqual(['-a', 'pfexpose', '-s', 'labels']);
  });

  it('reports a missing anchor and a failing pfctl as failures', async () => {
    expect((await pfctl.labelCounters?.('nowhere'))?.kind).toBe('anchor-missing');
    await sim.setControl({ fail: 'DIOCGETRULES: Operation not permitted' });
    const failed = await pfctl.labelCounters?.('pfexpose');
    expect(failed?.kind).toBe('failed');
  });
});
