// Links and network reaches through apply, plan --live and rollback, in process against the
// in-memory pf under the real pfctl adapter: what the plan promises is what pf holds, the reach
// rules read back as pfexpose's own (not unmanaged), and --kill-states ends a removed link's label.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/cli.js';
import { createMemoryPf, type MemoryPf } from '../helpers/memory-pf.js';

const MANIFEST = `version: 1
syntax: docker
host: h
hosts:
  h:
    gateway: em0
    networks: [10.13.37.0/24]
containers:
  server:
    ip: 10.13.37.2
    expose: ["6379"]
    ports: ["8080:80"]
  client:
    ip: 10.13.37.3
    links: [LINKS]
`;

let pf: MemoryPf;
let work: string;

beforeEach(async () => {
  pf = createMemoryPf();
  work = await mkdtemp(join(tmpdir(), 'pfexpose-links-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function write(links: string): Promise<void> {
  await writeFile(join(work, 'm.yaml'), MANIFEST.replace('LINKS', links));
}

const run = (...args: string[]) =>
  runInProcess(
    [...args, '--state-dir', join(work, 'state')].filter((a) => a !== ''),
    {
      cwd: work,
      env: { NO_COLOR: '1', PFEXPOSE_JLS: 'none' },
      pfctl: (options) => pf.pfctl(options),
    },
  );

describe('links through apply, plan --live and rollback', () => {
  it('loads the reach rules, plans no change after, kills a removed link, and rolls back', async () => {
    await write('"server:db"');
    const applied = await run('apply', work);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const anchor = (await pf.readAnchor('pfexpose')) ?? '';
    expect(anchor).toContain(
      'pass quick inet proto tcp from 10.13.37.3 to 10.13.37.2 port = 6379 flags S/SA keep state label "link:client:db:tcp:6379"',
    );
    expect(anchor).toContain(
      'pass quick inet proto tcp from 10.13.37.0/24 to 10.13.37.2 port = 80 flags S/SA keep state label "net:server:tcp:80"',
    );

    const live = await runInProcess(['plan', work, '--live', '--format', 'json'], {
      cwd: work,
      env: { NO_COLOR: '1', PFEXPOSE_JLS: 'none' },
      pfctl: (options) => pf.pfctl(options),
    });
    const plan = JSON.parse(live.stdout) as { changes: boolean; unmanaged: unknown[]; reaches?: unknown };
    expect([live.code, plan.changes, plan.unmanaged, plan.reaches]).toEqual([0, false, [], undefined]);

    await write('"server:other"');
    const renamed = await run('apply', work, '--kill-states');
    expect(renamed.code).toBe(0);
    expect(renamed.stdout).toContain('- link client (alias db): tcp 6379 from 10.13.37.3 to 10.13.37.2');
    expect(renamed.stdout).toContain('+ link client -> server (alias other)');
    expect(renamed.stdout).toContain('ended the open connections of: link:client:db:tcp:6379, link:client:db:tcp:80');
    const killed = (await pf.calls()).filter((c) => c.argv.includes('-k')).map((c) => c.argv.join(' '));
    expect(killed.join('\n')).toContain('link:client:db:tcp:6379');

    const back = await run('rollback');
    expect(back.code).toBe(0);
    expect(await pf.readAnchor('pfexpose')).toContain('label "link:client:db:tcp:6379"');
  });
});
