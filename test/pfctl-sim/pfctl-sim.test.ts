// The simulator itself, driven through its command line the way pfctl is.
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
    expect(await pfctl(['-o', 'none', '-a', 'pfexpose', '-f', '-'], ordered)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await pfctl(['-a', 'pfexpose', '-P', '-sn'])).stdout).toBe(
      'rdr on em0 inet proto tcp from any to (em0) port = 8080 tag pfexpose -> 10.0.0.2 port 80\n',
    );
    expect((await pfctl(['-a', 'pfexpose', '-P', '-sr'])).stdout).toBe(
      'pass in quick on em0 inet proto tcp from any to 10.0.0.2 port = 80 flags S/SA keep state label "web" tagged pfexpose\n',
    );
    // without -P, ports on the match side are printed by service name
    expect((await pfctl(['-a', 'pfexpose', '-sn'])).stdout).toContain('port = http-alt tag pfexpose -> 10.0.0.2 port 80');
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

  it('answers a missing anchor with a warning and status 0, like FreeBSD', async () => {
    expect(await pfctl(['-a', 'nothere', '-sr'])).toEqual({ code: 0, stdout: '', stderr: 'pfctl: DIOCGETRULES: Invalid argument\n' });
    expect(await pfctl(['-a', 'nothere', '-s', 'Tables'])).toEqual({ code: 0, stdout: '', stderr: 'pfctl: Anchor does not exist.\n' });
  });
});
