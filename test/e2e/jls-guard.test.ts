// The stale-address guard as an operator meets it: apply against the in-memory pf, the containers
// checked by the jls(8) stand-in (test/jls-sim) run for real through the jls adapter.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { normalizedLines } from '../../src/pf/rule-lines.js';
import { runInProcess } from '../helpers/cli.js';
import { createMemoryPf, type MemoryPf } from '../helpers/memory-pf.js';
import { createJlsSim, JLS_SIM, type JlsSim } from '../jls-sim/jls-control.js';

vi.setConfig({ testTimeout: 60_000 });

const web = (ip: string, port: number): string =>
  `version: 1\ncontainers:\n  web:\n    ip: ${ip}\n    ports:\n      - "em0:${port}:80"\n`;
const WEB_AND_DB = `${web('10.0.0.2', 8080)}  db:\n    ip: 10.0.0.3\n    ports:\n      - "em0:5432:5432"\n`;

let pf: MemoryPf;
let jls: JlsSim;
let work: string;
let env: Record<string, string>;

beforeEach(async () => {
  pf = createMemoryPf();
  jls = await createJlsSim([{ jid: 1, name: 'web', ip4: ['10.0.0.2'] }]);
  work = await mkdtemp(join(tmpdir(), 'pfexpose-jls-'));
  await mkdir(join(work, 'm'));
  await writeFile(join(work, 'm', 'web.yaml'), web('10.0.0.2', 8080));
  env = { ...jls.env, PFEXPOSE_JLS: JLS_SIM, PFEXPOSE_STATE_DIR: join(work, 'state'), NO_COLOR: '1' };
});
afterEach(async () => {
  await jls.cleanup();
  await rm(work, { recursive: true, force: true });
});

function pfexpose(...args: string[]): ReturnType<typeof runInProcess> {
  return runInProcess(args, { cwd: work, env, pfctl: (options) => pf.pfctl(options) });
}

async function anchorLines(): Promise<string[]> {
  return normalizedLines((await pf.readAnchor('pfexpose')) ?? '');
}

describe('apply checks the containers against jls', () => {
  it('refuses a manifest whose address another jail holds now, naming both jails; pf unchanged', async () => {
    const first = await pfexpose('apply', 'm');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain('not checked');
    expect((await jls.calls()).at(-1)?.argv).toEqual([
      '--libxo',
      'json',
      'jid',
      'name',
      'vnet',
      'ip4.addr',
      'ip6.addr',
    ]);
    const before = await anchorLines();
    const loads = (await pf.loadCalls()).length;

    // web was recreated on 10.0.0.9; 10.0.0.2 went to another jail. The manifest is out of date.
    await jls.setJails([
      { jid: 2, name: 'web', ip4: ['10.0.0.9'] },
      { jid: 3, name: 'billing', ip4: ['10.0.0.2'] },
    ]);
    await writeFile(join(work, 'm', 'web.yaml'), web('10.0.0.2', 9090));
    const refused = await pfexpose('apply', 'm');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error address-stale');
    expect(refused.stderr).toContain('10.0.0.2 is held by jail "billing" now');
    expect(refused.stderr).toContain('jail "web" no longer holds 10.0.0.2 (it holds 10.0.0.9)');
    expect(refused.stderr).toMatch(/web\.yaml:3:3: error address-stale/);
    expect(refused.stderr).toContain('apply refused, pf was not touched');
    expect(await anchorLines()).toEqual(before);
    expect(await pf.loadCalls()).toHaveLength(loads);

    const json = await pfexpose('apply', 'm', '--format', 'json');
    expect(json.code).toBe(1);
    const outcome = JSON.parse(json.stdout) as {
      command: string;
      result: string;
      diagnostics: { code: string; line: number }[];
    };
    expect([outcome.command, outcome.result]).toEqual(['apply', 'refused']);
    expect(outcome.diagnostics.map((d) => [d.code, d.line])).toEqual([['address-stale', 3]]);

    // --allow-stale overrides, with a warning.
    const forced = await pfexpose('apply', 'm', '--allow-stale');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain('warning address-stale');
    expect(forced.stderr).toContain('applied anyway: --allow-stale');
    expect(await anchorLines()).not.toEqual(before);
  });

  it('a stopped container is a warning by default, and withheld with --stopped-containers withhold', async () => {
    await writeFile(join(work, 'm', 'web.yaml'), WEB_AND_DB);
    await jls.setJails([{ jid: 1, name: 'web', ip4: ['10.0.0.2'] }]);
    const kept = await pfexpose('apply', 'm');
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stderr).toContain('warning container-stopped');
    expect(kept.stderr).toContain('container "db": jail "db" is not running');
    expect((await anchorLines()).some((line) => line.includes('10.0.0.3'))).toBe(true);

    const withheld = await pfexpose('apply', 'm', '--stopped-containers', 'withhold');
    expect(withheld.code, withheld.stderr).toBe(0);
    expect(withheld.stderr).toContain('withheld until they run (--stopped-containers withhold): db');
    const lines = await anchorLines();
    expect(lines.some((line) => line.includes('10.0.0.3'))).toBe(false);
    expect(lines.some((line) => line.includes('10.0.0.2'))).toBe(true);

    // db starts: the same apply puts its exposures in.
    await jls.setJails([
      { jid: 1, name: 'web', ip4: ['10.0.0.2'] },
      { jid: 4, name: 'db', ip4: ['10.0.0.3'] },
    ]);
    const started = await pfexpose('apply', 'm', '--stopped-containers', 'withhold');
    expect(started.code, started.stderr).toBe(0);
    expect((await anchorLines()).some((line) => line.includes('10.0.0.3'))).toBe(true);
  });

  it('a jail: key names the jail; a VNET jail is said to be unchecked', async () => {
    await writeFile(
      join(work, 'm', 'web.yaml'),
      `version: 1\ncontainers:\n  web:\n    jail: www-1\n    ip: 10.0.0.2\n    ports:\n      - "em0:8080:80"\n`,
    );
    await jls.setJails([{ jid: 7, name: 'www-1', ip4: ['10.0.0.2'] }]);
    const named = await pfexpose('apply', 'm');
    expect(named.code, named.stderr).toBe(0);
    expect(named.stderr).not.toContain('container-');
    await jls.setJails([{ jid: 7, name: 'www-1', vnet: true }]);
    const vnet = await pfexpose('apply', 'm');
    expect(vnet.code, vnet.stderr).toBe(0);
    expect(vnet.stderr).toContain('warning container-unchecked');
    expect(vnet.stderr).toContain('jail "www-1" (its jail: key) is a VNET jail');
  });

  it('a jls that fails refuses the apply (pf untouched) unless --allow-stale', async () => {
    await jls.setControl({ fail: 'jail_get: Operation not permitted' });
    const refused = await pfexpose('apply', 'm');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('jls gave no answer');
    expect(refused.stderr).toContain('Operation not permitted');
    expect(await pf.loadCalls()).toHaveLength(0);
    const forced = await pfexpose('apply', 'm', '--allow-stale');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain('container addresses were not checked (--allow-stale)');
  });

  it('without a jls, apply says once that addresses were not checked; --jls none says nothing', async () => {
    const { PFEXPOSE_JLS: _jls, ...withoutJls } = env;
    const noJls = await runInProcess(['apply', 'm'], { cwd: work, env: withoutJls, pfctl: (o) => pf.pfctl(o) });
    expect(noJls.code, noJls.stderr).toBe(0);
    expect(noJls.stderr.match(/container addresses were not checked/g)).toHaveLength(1);
    await writeFile(join(work, 'm', 'web.yaml'), web('10.0.0.2', 9090));
    const none = await pfexpose('apply', 'm', '--jls', 'none');
    expect(none.code, none.stderr).toBe(0);
    expect(none.stderr).not.toContain('not checked');
    expect(await jls.calls()).toHaveLength(0);
  });

  it('plan --live says what it found as warnings, and that apply would refuse', async () => {
    expect((await pfexpose('apply', 'm')).code).toBe(0);
    await jls.setJails([
      { jid: 2, name: 'web', ip4: ['10.0.0.9'] },
      { jid: 3, name: 'billing', ip4: ['10.0.0.2'] },
    ]);
    await writeFile(join(work, 'm', 'web.yaml'), web('10.0.0.2', 9090));
    const plan = await pfexpose('plan', 'm', '--live');
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stderr).toContain('warning address-stale');
    expect(plan.stderr).toContain('10.0.0.2 is held by jail "billing" now');
    expect(plan.stderr).toContain('apply would refuse these manifests');
    const usage = await pfexpose('plan', 'm', '--deployed', 'm/web.yaml', '--jls', 'none');
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('--jls only applies to --live');
  });
});
