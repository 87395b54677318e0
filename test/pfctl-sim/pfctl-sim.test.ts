// The simulator itself, driven through its command line the way pfctl is.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { runCommand } from '../../src/host/run-command.js';
import { createSim, PFCTL_SIM, type Sim } from './sim-control.js';

let sim: Sim;
beforeEach(async () => {
  sim = await createSim();
});
afterEach(async () => {
  await sim.cleanup();
});

async function pfctl(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const result = await runCommand(PFCTL_SIM, args, { env: sim.env, ...(stdin === undefined ? {} : { stdin }) });
  if (result.kind !== 'completed') throw new Error(`simulator did not complete: ${result.kind}`);
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

const RULES = [
  'pass in quick on em0 inet proto tcp from any to 10.0.0.2 port = 80 label "web" tagged pfexpose',
  'rdr on em0 inet proto tcp from any to (em0) port = 8080 tag pfexpose -> 10.0.0.2 port 80',
  'table <jails> persist { 10.0.0.2 10.0.0.3 }',
].join('\n');

describe('pfctl simulator', () => {
  it('prints translation rules with -sn and filter rules with -sr, as pfctl does after a load', async () => {
    const ordered = `${RULES.split('\n')[2]!}\n${RULES.split('\n')[1]!}\n${RULES.split('\n')[0]!}\n`;
    expect(await pfctl(['-o', 'none', '-a', 'pfexpose', '-f', '-'], ordered)).toEqual({
      code: 0,
      stdout: '',
      stderr: '',
    });
    expect((await pfctl(['-a', 'pfexpose', '-P', '-sn'])).stdout).toBe(
      'rdr on em0 inet proto tcp from any to (em0) port = 8080 tag pfexpose -> 10.0.0.2 port 80\n',
    );
    expect((await pfctl(['-a', 'pfexpose', '-P', '-sr'])).stdout).toBe(
      'pass in quick on em0 inet proto tcp from any to 10.0.0.2 port = 80 flags S/SA keep state label "web" tagged pfexpose\n',
    );
    // without -P, ports on the match side are printed by service name
    expect((await pfctl(['-a', 'pfexpose', '-sn'])).stdout).toContain(
      'port = http-alt tag pfexpose -> 10.0.0.2 port 80',
    );
    expect((await pfctl(['-a', 'pfexpose', '-s', 'Tables'])).stdout).toBe('jails\n');
    expect((await pfctl(['-a', 'pfexpose', '-t', 'jails', '-T', 'show'])).stdout).toBe('   10.0.0.2\n   10.0.0.3\n');
  });

  it('rejects rules out of order and lines it cannot read, loading nothing', async () => {
    const result = await pfctl(['-o', 'none', '-a', 'pfexpose', '-f', '-'], RULES);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'stdin:2: Rules must be in order: options, ethernet, normalization, queueing, translation, filtering\n' +
        'pfctl: Syntax error in config file: pf rules not loaded\n',
    );
    const dry = await pfctl(['-o', 'none', '-a', 'pfexpose', '-nf', '-'], 'pass in\nfrobnicate all\n');
    expect(dry).toEqual({ code: 1, stdout: '', stderr: 'stdin:2: syntax error\n' });
    expect(await sim.readAnchor('pfexpose')).toBeUndefined();
  });

  it('flushes an anchor, toggles pf, and logs every call', async () => {
    await sim.writeAnchor('pfexpose', 'pass in all\n');
    expect((await pfctl(['-a', 'pfexpose', '-F', 'all'])).code).toBe(0);
    expect(await sim.readAnchor('pfexpose')).toBe('');
    expect((await pfctl(['-d'])).code).toBe(0);
    expect((await pfctl(['-s', 'info'])).stdout).toMatch(/^Status: Disabled/);
    expect((await pfctl(['-e'])).code).toBe(0);
    expect((await pfctl(['-e'])).stderr).toBe('pfctl: pf already enabled\n');
    expect((await sim.calls()).map((call) => call.argv)).toEqual([
      ['-a', 'pfexpose', '-F', 'all'],
      ['-d'],
      ['-s', 'info'],
      ['-e'],
      ['-e'],
    ]);
  });

  it('refuses command lines it does not implement, so adapter mistakes show', async () => {
    expect(await pfctl(['-x', 'loud'])).toMatchObject({ code: 2, stderr: 'pfctl-sim: unknown option -x\n' });
    expect((await pfctl(['-a', 'pfexpose'])).code).toBe(2);
  });

  it('lists the anchors that exist with -s Anchors: loaded ones and those the main ruleset calls', async () => {
    expect(await pfctl(['-v', '-s', 'Anchors'])).toEqual({ code: 0, stdout: '  pfexpose\n', stderr: '' });
    await sim.writeMain('rdr-anchor "pfexpose" all\nanchor "pfexpose" all\nanchor "zeta" all\n');
    await sim.writeAnchor('alpha', '');
    expect(await pfctl(['-v', '-s', 'Anchors'])).toEqual({
      code: 0,
      stdout: '  alpha\n  pfexpose\n  zeta\n',
      stderr: '',
    });
    expect((await pfctl(['-sA'])).stdout).toBe('  alpha\n  pfexpose\n  zeta\n');
  });

  it('answers a missing anchor with a warning and status 0, like FreeBSD', async () => {
    expect(await pfctl(['-a', 'nothere', '-sr'])).toEqual({
      code: 0,
      stdout: '',
      stderr: 'pfctl: DIOCGETRULES: Invalid argument\n',
    });
    expect(await pfctl(['-a', 'nothere', '-s', 'Tables'])).toEqual({
      code: 0,
      stdout: '',
      stderr: 'pfctl: Anchor does not exist.\n',
    });
  });

  it('loads from -f FILE as from -f -, naming the file in its errors as pfctl does', async () => {
    const file = join(sim.dir, 'ruleset.conf');
    await writeFile(file, `${RULES.split('\n')[1]!}\n${RULES.split('\n')[0]!}\n`);
    expect(await pfctl(['-o', 'none', '-a', 'pfexpose', '-n', '-f', file])).toEqual({
      code: 0,
      stdout: '',
      stderr: '',
    });
    expect(await sim.readAnchor('pfexpose')).toBeUndefined();
    expect(await pfctl(['-o', 'none', '-a', 'pfexpose', '-f', file])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await pfctl(['-a', 'pfexpose', '-P', '-sn'])).stdout).toContain('port = 8080');
    await writeFile(file, 'pass in\nfrobnicate all\n');
    expect(await pfctl(['-o', 'none', '-a', 'pfexpose', '-f', file])).toEqual({
      code: 1,
      stdout: '',
      stderr: `${file}:2: syntax error\npfctl: Syntax error in config file: pf rules not loaded\n`,
    });
    const missing = join(sim.dir, 'missing.conf');
    expect(await pfctl(['-o', 'none', '-a', 'pfexpose', '-f', missing])).toEqual({
      code: 1,
      stdout: '',
      stderr: `pfctl: ${missing}: No such file or directory\npfctl: cannot open the main config file!: No such file or directory\npfctl: Syntax error in config file: pf rules not loaded\n`,
    });
    expect((await pfctl(['-a', 'pfexpose', '-P', '-sn'])).stdout).toContain('port = 8080');
  });
});

// `pfctl` answers the common reads in the shell from what the node simulator printed for the same
// ruleset text: every answer must be the node simulator's, byte for byte, and a changed ruleset must
// never get an old answer.
describe('the shell fast path', () => {
  const LOADABLE = `${RULES.split('\n').reverse().join('\n')}\n`;
  const READS = [
    ['-s', 'info'],
    ['-sn'],
    ['-sr'],
    ['-a', 'pfexpose', '-P', '-sn'],
    ['-a', 'pfexpose', '-P', '-sr'],
    ['-a', 'pfexpose', '-s', 'Tables'],
  ];

  async function nodeOnly(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const result = await runCommand(PFCTL_SIM, args, { env: { ...sim.env, PFCTL_SIM_NODE_ONLY: '1' } });
    if (result.kind !== 'completed') throw new Error(`simulator did not complete: ${result.kind}`);
    return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  }

  /** How many runs started node: the shell logs `time` and `started` as one instant, node does not. */
  async function nodeRuns(): Promise<number> {
    return (await sim.calls()).filter((call) => (call as { started?: string }).started !== call.time).length;
  }

  /** Each read by the shell (in order), then by node (all at once: node's start-up is the slow part). */
  async function expectSameAsNode(): Promise<void> {
    const shell: Awaited<ReturnType<typeof pfctl>>[] = [];
    for (const args of READS) shell.push(await pfctl(args));
    const node = await Promise.all(READS.map((args) => nodeOnly(args)));
    READS.forEach((args, i) => expect(shell[i], args.join(' ')).toEqual(node[i]));
  }

  it('answers as the node simulator does, without node once an answer is kept, after loads, flushes and toggles', async () => {
    await expectSameAsNode();
    expect(await pfctl(['-o', 'none', '-a', 'pfexpose', '-f', '-'], LOADABLE)).toMatchObject({ code: 0 });
    const before = await nodeRuns();
    await expectSameAsNode();
    // Six reads by the shell, six by node (the comparison).
    expect((await nodeRuns()) - before).toBe(READS.length);
    await pfctl(['-d']);
    await expectSameAsNode();
    await pfctl(['-e']);
    await pfctl(['-a', 'pfexpose', '-F', 'all']);
    await expectSameAsNode();
    await sim.writeMain('anchor "pfexpose" all\nrdr-anchor "pfexpose" all\npass all\n');
    await expectSameAsNode();
    // The shell's own line in calls.log: its last read, before the node runs it was compared with.
    const calls = await sim.calls();
    const shellTables = calls.at(-(READS.length + 1));
    expect(shellTables).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      started: shellTables?.time,
      pid: expect.any(Number),
      argv: ['-a', 'pfexpose', '-s', 'Tables'],
    });
  });

  it('never gives an answer kept for another text: an anchor or main ruleset written behind its back is read again', async () => {
    expect(await pfctl(['-o', 'none', '-a', 'pfexpose', '-f', '-'], LOADABLE)).toMatchObject({ code: 0 });
    await pfctl(['-sr']);
    await sim.writeAnchor(
      'pfexpose',
      'pass in quick on em1 inet proto udp from any to 10.0.0.9 port = 53 keep state label "dns"\n',
    );
    expect((await pfctl(['-a', 'pfexpose', '-P', '-sr'])).stdout).toBe(
      'pass in quick on em1 inet proto udp from any to 10.0.0.9 port = 53 keep state label "dns"\n',
    );
    expect((await pfctl(['-a', 'pfexpose', '-s', 'Tables'])).stdout).toBe('');
    await sim.writeMain('pass all\n');
    expect((await pfctl(['-sr'])).stdout).toBe('pass all flags S/SA keep state\n');
    await expectSameAsNode();
  });

  it('is clean under shellcheck', async () => {
    const result = await runCommand('shellcheck', [PFCTL_SIM], {});
    expect(result).toMatchObject({ kind: 'completed', exitCode: 0, stdout: '' });
  });

  it('leaves faults on its reads to the node simulator, and keeps answering while the faults are elsewhere', async () => {
    await sim.setControl({ busyLoads: 1, holdOn: ['load'], hangMs: 5000, hangOn: ['dry-run'] });
    let before = await nodeRuns();
    for (const args of READS) await pfctl(args);
    expect((await nodeRuns()) - before).toBe(0);
    await sim.setControl({ showError: 'DIOCGETSTATUS: Operation not permitted' });
    before = await nodeRuns();
    expect(await pfctl(['-s', 'info'])).toEqual({
      code: 0,
      stdout: '',
      stderr: 'pfctl: DIOCGETSTATUS: Operation not permitted\n',
    });
    expect((await nodeRuns()) - before).toBe(1);
    await sim.setControl({ hangMs: 1, hangOn: ['show'] });
    before = await nodeRuns();
    await pfctl(['-sr']);
    expect((await nodeRuns()) - before).toBe(1);
  });
});

describe('reading slowly, and holding', () => {
  const LINE =
    'pass in quick on em0 inet proto tcp from any to 10.0.0.2 port = 80 flags S/SA keep state label "web" tagged pfexpose\n';

  it('readDelayMs/readChunkBytes: reads its input in chunks, logging how far it got, then loads it whole', async () => {
    const text = LINE.repeat(100);
    await sim.setControl({ readDelayMs: 1, readChunkBytes: 4096 });
    expect((await pfctl(['-o', 'none', '-a', 'pfexpose', '-f', '-'], text)).code).toBe(0);
    const reads = await sim.reads();
    const chunks = Math.ceil(text.length / 4096);
    expect(reads).toHaveLength(chunks + 1);
    expect(reads.map((r) => r.bytes)).toEqual([
      ...Array.from({ length: chunks }, (_, i) => Math.min(text.length, (i + 1) * 4096)),
      text.length,
    ]);
    expect(reads[chunks]).toMatchObject({ file: '-', eof: true });
    expect(await sim.readAnchor('pfexpose')).toBe(text);
  });

  it.each([
    ['start', 0],
    ['mid-read', 4096],
  ] as const)('holdOn + holdAt %s: waits while the hold file exists, then goes on', async (at, readBefore) => {
    const text = LINE.repeat(100);
    await sim.setControl({ holdOn: ['load'], holdAt: at, readChunkBytes: 4096 });
    await sim.hold(true);
    const run = pfctl(['-o', 'none', '-a', 'pfexpose', '-f', '-'], text);
    await waitUntil(async () => (await sim.holds()).length === 1);
    expect((await sim.holds())[0]).toMatchObject({ op: 'load', at });
    expect((await sim.reads()).map((r) => r.bytes).slice(-1)[0] ?? 0).toBe(readBefore);
    expect(await sim.readAnchor('pfexpose')).toBeUndefined();
    await sim.hold(false);
    expect((await run).code).toBe(0);
    expect(await sim.readAnchor('pfexpose')).toBe(text);
  });

  // Why pfexpose no longer feeds pfctl through a pipe (issue 9, C1): pfctl reads standard input to
  // EOF and loads what it got. A writer that dies after `pass in quick` leaves `pass in quick all`.
  it('-f -: a writer killed mid-ruleset leaves the prefix loaded, its cut last line passing everything', async () => {
    const before = LINE.repeat(700);
    const prefix = `${before}pass in quick`;
    expect(prefix.length).toBeGreaterThan(64 * 1024);
    const writer = join(sim.dir, 'writer.mjs');
    // Like pfexpose did: pfctl in a process group of its own, the ruleset written into its stdin.
    await writeFile(
      writer,
      [
        "import { spawn } from 'node:child_process';",
        `const child = spawn(${JSON.stringify(PFCTL_SIM)}, ['-o', 'none', '-a', 'pfexpose', '-f', '-'], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });`,
        `child.stdin.write(${JSON.stringify(prefix)});`,
        'setInterval(() => undefined, 60_000);',
        '',
      ].join('\n'),
    );
    await sim.setControl({ readDelayMs: 1, readChunkBytes: 8192 });
    const proc = spawn(process.execPath, [writer], { env: sim.env, stdio: 'ignore' });
    await waitUntil(async () => (await sim.reads()).some((r) => r.bytes === prefix.length));
    proc.kill('SIGKILL');
    await waitUntil(async () => (await sim.reads()).some((r) => r.eof === true));
    await waitUntil(async () => (await sim.readAnchor('pfexpose')) !== undefined);
    const loaded = (await sim.readAnchor('pfexpose'))!;
    expect(loaded).toBe(prefix);
    expect(
      (await pfctl(['-a', 'pfexpose', '-P', '-sr'])).stdout
        .split('\n')
        .filter((l) => l !== '')
        .slice(-1),
    ).toEqual(['pass in quick all flags S/SA keep state']);
  });
});

async function waitUntil(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('waitUntil: timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
