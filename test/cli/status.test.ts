// `pfexpose status`, in process against the in-memory pf: each exposure with the counters pf keeps
// for its label, and its drift from the live anchor.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/cli.js';
import { createMemoryPf, type MemoryPf } from '../helpers/memory-pf.js';
import { createMemoryJls } from '../helpers/memory-jls.js';

const WEB = 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports:\n      - "em0:8080:80"\n';
const WEB_DB = `${WEB}  db:\n    ip: 10.0.0.3\n    ports:\n      - "em0:5432:5432"\n`;

let pf: MemoryPf;
let work: string;
let env: Record<string, string>;

beforeEach(async () => {
  pf = createMemoryPf();
  work = await mkdtemp(join(tmpdir(), 'pfexpose-status-'));
  await mkdir(join(work, 'a'));
  await mkdir(join(work, 'b'));
  await writeFile(join(work, 'a', 'web.yaml'), WEB);
  await writeFile(join(work, 'b', 'web.yaml'), WEB_DB);
  env = { PFEXPOSE_STATE_DIR: join(work, 'state'), NO_COLOR: '1' };
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

function pfexpose(...args: string[]): ReturnType<typeof runInProcess> {
  return runInProcess(args, { cwd: work, env, pfctl: (options) => pf.pfctl(options) });
}

interface StatusJson {
  inSync: boolean;
  countersRead: boolean;
  exposures: {
    label: string;
    container: string;
    port: string;
    drift: string;
    counters: Record<string, number> | null;
  }[];
}

describe('pfexpose status', () => {
  it("carries pf's label counters per exposure, in json and by the exposure in text", async () => {
    expect((await pfexpose('apply', 'a')).code).toBe(0);
    await pf.setControl({
      labelCounters: {
        'web:tcp:em0:8080': {
          evaluations: 31,
          packets: 1234,
          bytes: 98765,
          inPackets: 700,
          inBytes: 40000,
          outPackets: 534,
          outBytes: 58765,
          states: 17,
        },
      },
    });
    const json = await pfexpose('status', 'a', '--format', 'json');
    expect(json.code, json.stderr).toBe(0);
    const status = JSON.parse(json.stdout) as StatusJson;
    expect(Object.keys(status)).toEqual([
      'formatVersion',
      'command',
      'diagnostics',
      'anchor',
      'inSync',
      'countersRead',
      'exposures',
    ]);
    expect(status).toMatchObject({ formatVersion: 1, command: 'status', diagnostics: [] });
    expect(status.inSync).toBe(true);
    expect(status.exposures).toHaveLength(1);
    expect(status.exposures[0]).toMatchObject({
      label: 'web:tcp:em0:8080',
      container: 'web',
      drift: 'in-sync',
      counters: {
        evaluations: 31,
        packets: 1234,
        bytes: 98765,
        inPackets: 700,
        inBytes: 40000,
        outPackets: 534,
        outBytes: 58765,
        states: 17,
      },
    });

    const text = await pfexpose('status', 'a');
    expect(text.code).toBe(0);
    const row = text.stdout.split('\n').find((line) => line.startsWith('web:tcp:em0:8080'));
    expect(row).toBeDefined();
    expect(row?.split(/\s+/)).toEqual([
      'web:tcp:em0:8080',
      'em0:8080/tcp',
      'web',
      '10.0.0.2:80',
      'unknown',
      'in-sync',
      '31',
      '1234',
      '98765',
      '700/40000',
      '534/58765',
      '17',
    ]);
  });

  it('shows drift: an exposure not loaded, and one pf holds that the manifests dropped', async () => {
    expect((await pfexpose('apply', 'b')).code).toBe(0);
    await writeFile(join(work, 'b', 'web.yaml'), WEB.replace('8080:80', '9090:80'));
    const json = await pfexpose('status', 'b', '--format', 'json');
    expect(json.code, json.stderr).toBe(0);
    const status = JSON.parse(json.stdout) as StatusJson;
    expect(status.inSync).toBe(false);
    // A changed exposure is counted under the label pf holds it by (the deployed rule's).
    expect(status.exposures.map((e) => [e.label, e.port, e.drift, e.counters === null])).toEqual([
      ['web:tcp:em0:8080', '9090', 'differs', false],
      ['db:tcp:em0:5432', '5432', 'not-in-manifests', false],
    ]);
  });

  it('an exposure never loaded has no counters; pf failing is exit 1', async () => {
    const json = await pfexpose('status', 'a', '--format', 'json');
    expect(json.code, json.stderr).toBe(0);
    const status = JSON.parse(json.stdout) as StatusJson;
    expect(status.exposures.map((e) => [e.drift, e.counters])).toEqual([['not-loaded', null]]);
    await pf.setControl({ fail: 'DIOCGETSTATUS: Permission denied' });
    const failed = await pfexpose('status', 'a');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('Permission denied');
    expect(failed.stderr).not.toMatch(/\n\s+at /);
  });

  it("gives each exposure its container's state from jls", async () => {
    expect((await pfexpose('apply', 'b')).code).toBe(0);
    const jls = createMemoryJls([{ name: 'web', ip4: ['10.0.0.2'] }]);
    const run = await runInProcess(['status', 'b', '--format', 'json'], {
      cwd: work,
      env,
      pfctl: (options) => pf.pfctl(options),
      jls,
    });
    expect(run.code, run.stderr).toBe(0);
    const status = JSON.parse(run.stdout) as { exposures: { container: string; containerState: string }[] };
    expect(status.exposures.map((e) => [e.container, e.containerState])).toEqual([
      ['db', 'stopped'],
      ['web', 'running'],
    ]);
    jls.setJails([
      { name: 'web', ip4: ['10.0.0.9'] },
      { name: 'db', vnet: true },
    ]);
    const again = await runInProcess(['status', 'b'], { cwd: work, env, pfctl: (options) => pf.pfctl(options), jls });
    expect(again.stdout).toMatch(/^db:tcp:em0:5432 .* unchecked /m);
    expect(again.stdout).toMatch(/^web:tcp:em0:8080 .* stale /m);
  });
});
