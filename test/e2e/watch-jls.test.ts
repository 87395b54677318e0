// The agent and the stale-address guard, in process against the in-memory pf and jls: withheld
// containers come in once they run (at the next reconcile), and stale manifests leave pf alone.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryJls } from '../helpers/memory-jls.js';
import { anchorWith, manifest, runCleanups, setup, startAgentInProcess, waitFor } from './watch-harness.js';

vi.setConfig({ testTimeout: 120_000 });
afterEach(runCleanups);

describe('watch checks the containers against jls on every reconcile', () => {
  it('withholds a stopped container and applies its exposures once it runs', async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.0.0.2', ['em0:8080:80']));
    await writeFile(join(manifests, 'db.yaml'), manifest('db', '10.0.0.3', ['em0:5432:5432']));
    const jls = createMemoryJls([{ name: 'web', ip4: ['10.0.0.2'] }]);
    const agent = startAgentInProcess(
      pf,
      state,
      [manifests, '--interval', '200ms', '--stopped-containers', 'withhold'],
      {
        jls,
      },
    );
    const first = await anchorWith(pf, agent, '10.0.0.2');
    expect(first).not.toContain('10.0.0.3');
    const warned = await waitFor(
      'the containers-warning event',
      () => agent.lines.find((l) => l.event === 'containers-warning'),
      agent,
      15_000,
    );
    expect(warned.message).toContain('container "db": jail "db" is not running');
    expect(warned['withheld']).toEqual(['db']);

    jls.setJails([
      { name: 'web', ip4: ['10.0.0.2'] },
      { name: 'db', ip4: ['10.0.0.3'] },
    ]);
    await anchorWith(pf, agent, '10.0.0.3');
    await waitFor(
      'the containers-running event',
      () => agent.lines.find((l) => l.event === 'containers-running'),
      agent,
      15_000,
    );
  });

  it('leaves pf alone while an address is stale, and applies once the manifest is right', async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.0.0.2', ['em0:8080:80']));
    const jls = createMemoryJls([{ name: 'web', ip4: ['10.0.0.2'] }]);
    const agent = startAgentInProcess(pf, state, [manifests, '--interval', '200ms', '--settle', '100ms'], { jls });
    const before = await anchorWith(pf, agent, '10.0.0.2');

    jls.setJails([
      { name: 'web', ip4: ['10.0.0.9'] },
      { name: 'billing', ip4: ['10.0.0.2'] },
    ]);
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.0.0.2', ['em0:9090:80']));
    const stale = await waitFor(
      'the containers-stale event',
      () => agent.lines.find((l) => l.event === 'containers-stale'),
      agent,
      15_000,
    );
    expect(stale.level).toBe('error');
    expect(stale['findings']).toEqual([
      'container "web": 10.0.0.2 is held by jail "billing" now; jail "web" no longer holds 10.0.0.2 (it holds 10.0.0.9)',
    ]);
    // Several reconciles later pf still holds what it held.
    await waitFor(
      'more reconciles',
      () => agent.lines.filter((l) => l.message.includes('still: container addresses are stale')).length >= 2,
      agent,
      15_000,
    );
    expect(await pf.readAnchor('pfexpose')).toBe(before);

    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.0.0.9', ['em0:9090:80']));
    await anchorWith(pf, agent, '10.0.0.9');
    await waitFor('the containers-ok event', () => agent.lines.find((l) => l.event === 'containers-ok'), agent);
  });

  it('guards the last good ruleset while the manifests are invalid: no drift repair towards a stale address', async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.0.0.2', ['em0:8080:80']));
    const jls = createMemoryJls([{ name: 'web', ip4: ['10.0.0.2'] }]);
    const agent = startAgentInProcess(pf, state, [manifests, '--interval', '200ms', '--settle', '100ms'], { jls });
    await anchorWith(pf, agent, '10.0.0.2');
    await writeFile(join(manifests, 'web.yaml'), 'version: 1\ncontainers:\n  web: [not, a, mapping]\n');
    await waitFor('manifests-invalid', () => agent.lines.find((l) => l.event === 'manifests-invalid'), agent, 15_000);
    jls.setJails([
      { name: 'web', ip4: ['10.0.0.9'] },
      { name: 'billing', ip4: ['10.0.0.2'] },
    ]);
    // The anchor is flushed once the agent knows the addresses are stale: a reconcile that read the
    // jails just before they changed may still repair it (the jails and pf are read one after the other).
    await waitFor('containers-stale', () => agent.lines.find((l) => l.event === 'containers-stale'), agent, 15_000);
    const still = (): number =>
      agent.lines.filter((l) => l.message.includes('still: container addresses are stale')).length;
    const atFlush = still();
    await pf.writeAnchor('pfexpose', '');
    await waitFor('two more reconciles', () => still() >= atFlush + 2, agent, 15_000);
    // The flushed anchor was not repaired towards 10.0.0.2, which billing holds now.
    expect(await pf.readAnchor('pfexpose')).toBe('');
  });

  it("exports pf's counters per exposure in /metrics, read at each reconcile", async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.0.0.2', ['em0:8080:80']));
    await pf.setControl({
      labelCounters: {
        'web:tcp:em0:8080': { evaluations: 9, inPackets: 40, inBytes: 4000, outPackets: 30, outBytes: 9000, states: 5 },
      },
    });
    const agent = startAgentInProcess(pf, state, [manifests, '--interval', '200ms', '--metrics', '127.0.0.1:0']);
    await anchorWith(pf, agent, '10.0.0.2');
    const started = await waitFor('the started event', () => agent.lines.find((l) => l.event === 'started'), agent);
    const url = `http://${String(started['metrics'])}/metrics`;
    const series = 'container="web",protocol="tcp",listen="em0",port="8080"';
    const text = await waitFor(
      'the exposure series',
      async () => {
        const body = await (await fetch(url)).text();
        return body.includes(`pfexpose_exposure_packets_total{${series},direction="in"} 40`) ? body : undefined;
      },
      agent,
      15_000,
    );
    expect(text).toContain(`pfexpose_exposure_packets_total{${series},direction="out"} 30`);
    expect(text).toContain(`pfexpose_exposure_bytes_total{${series},direction="in"} 4000`);
    expect(text).toContain(`pfexpose_exposure_bytes_total{${series},direction="out"} 9000`);
    expect(text).toContain(`pfexpose_exposure_evaluations_total{${series}} 9`);
    expect(text).toContain(`pfexpose_exposure_states_created_total{${series}} 5`);
    expect(text).toContain('pfexpose_exposure_series_dropped 0');
    expect(text).toContain('pfexpose_containers_stale 0');
  });
});
