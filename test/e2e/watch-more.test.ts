// `pfexpose watch` end to end, second half (the first is watch.test.ts; the harness and how the
// tests run is in watch-harness.ts): what apply would refuse, holds, other processes, invalid
// manifests at start, files written in halves, idle metrics connections.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Pf,
  cleanups,
  runCleanups,
  setup,
  manifest,
  startAgent,
  startAgentInProcess,
  waitFor,
  eventAfter,
  anchorWith,
  appliedWith,
  cliInProcess,
  cli,
  health,
} from './watch-harness.js';

afterEach(runCleanups);
describe('pfexpose watch: what apply would refuse, the agent does not load', () => {
  it('re-checks the anchor hooks on every reconcile; nothing loads while they are missing, and it goes on once they are back', async () => {
    const { pf, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [
      manifests,
      '--interval',
      '0',
      '--debounce',
      '200ms',
      '--settle',
      '200ms',
      '--metrics',
      '127.0.0.1:0',
    ]);
    await appliedWith(pf, agent, 'port = 8080');

    await pf.writeMain('pass all\n');
    let mark = agent.lines.length;
    agent.signal('SIGHUP');
    const failed = await waitFor('preflight-failed', () => eventAfter(agent, 'preflight-failed', mark), agent);
    expect(failed['level']).toBe('error');
    expect(failed.message).toContain('does not call anchor "pfexpose"');
    expect(eventAfter(agent, 'in-sync', mark)).toBeUndefined();
    const unhealthy = await health(agent);
    expect(unhealthy.status).toBe(503);
    expect(unhealthy.body).toMatchObject({ healthy: false, status: 'preflight-failed' });
    expect(unhealthy.body.reason).toContain('rdr-anchor "pfexpose"');
    const metrics = await (
      await fetch(`http://${String(agent.lines.find((l) => l.event === 'started')?.['metrics'])}/metrics`)
    ).text();
    expect(metrics).toContain('pfexpose_preflight_ok 0');

    // A manifest change meanwhile goes through apply's own preflight, and is refused: no load.
    const loads = (await pf.loadCalls()).length;
    mark = agent.lines.length;
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8081:80']));
    const refused = await waitFor('apply-refused', () => eventAfter(agent, 'apply-refused', mark), agent);
    expect(refused.message).toContain('does not call anchor');
    expect(await pf.loadCalls()).toHaveLength(loads);
    expect(await pf.readAnchor('pfexpose')).toContain('port = 8080');

    await pf.writeMain('rdr-anchor "pfexpose" all\nanchor "pfexpose" all\n');
    mark = agent.lines.length;
    agent.signal('SIGHUP');
    await waitFor('preflight-ok', () => eventAfter(agent, 'preflight-ok', mark), agent);
    await anchorWith(pf, agent, 'port = 8081');
    await waitFor('healthy again', async () => (await health(agent)).status === 200, agent);
  }, 120_000);

  it('after a reconcile found pf disabled, a manifest change takes the full path and loads nothing', async () => {
    const { pf, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [
      manifests,
      '--interval',
      '0',
      '--debounce',
      '200ms',
      '--settle',
      '200ms',
      '--metrics',
      '127.0.0.1:0',
    ]);
    await appliedWith(pf, agent, 'port = 8080');
    await pf.setEnabled(false);
    let mark = agent.lines.length;
    agent.signal('SIGHUP');
    const failed = await waitFor('preflight-failed', () => eventAfter(agent, 'preflight-failed', mark), agent);
    expect(failed.message).toContain('pf is disabled');
    expect((await health(agent)).body).toMatchObject({ healthy: false, status: 'preflight-failed' });

    const loads = (await pf.loadCalls()).length;
    mark = agent.lines.length;
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8081:80']));
    const refused = await waitFor('apply-refused', () => eventAfter(agent, 'apply-refused', mark), agent);
    expect(refused.message).toContain('pf is disabled');
    expect(await pf.loadCalls()).toHaveLength(loads);
    expect(eventAfter(agent, 'apply-failed', mark)).toBeUndefined();
  }, 120_000);
});

describe('pfexpose watch: holding a rollback', () => {
  it('keeps the ruleset rollback loaded, repairs drift towards it, and applies again when the manifests change', async () => {
    const { pf, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [
      manifests,
      '--interval',
      '0',
      '--debounce',
      '200ms',
      '--settle',
      '200ms',
      '--metrics',
      '127.0.0.1:0',
    ]);
    const first = await appliedWith(pf, agent, 'port = 8080');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8081:80']));
    await anchorWith(pf, agent, 'port = 8081');
    await waitFor('the agent to be idle', () => agent.lines.filter((l) => l.event === 'applied').length >= 2, agent);

    const back = await cliInProcess(pf, state, ['rollback']);
    expect(back.code, back.stderr).toBe(0);
    expect(await pf.readAnchor('pfexpose')).toBe(first);

    let mark = agent.lines.length;
    agent.signal('SIGHUP');
    const holding = await waitFor('holding', () => eventAfter(agent, 'holding', mark), agent);
    expect(holding.message).toContain('pfexpose rollback');
    expect(await pf.readAnchor('pfexpose')).toBe(first);
    const held = await health(agent);
    expect(held.status).toBe(200);
    expect(held.body.status).toBe('held');

    // Drift: the anchor flushed. The repair loads the rolled-back ruleset, not the manifests.
    await pf.runner('pfctl', ['-a', 'pfexpose', '-F', 'all']);
    mark = agent.lines.length;
    agent.signal('SIGHUP');
    await waitFor('drift-repaired', () => eventAfter(agent, 'drift-repaired', mark), agent);
    expect(await pf.readAnchor('pfexpose')).toContain('port = 8080');
    expect(await pf.readAnchor('pfexpose')).not.toContain('port = 8081');

    mark = agent.lines.length;
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8082:80']));
    await anchorWith(pf, agent, 'port = 8082');
    expect(eventAfter(agent, 'hold-released', mark)).toBeDefined();
    await waitFor('healthy and no longer held', async () => (await health(agent)).body.status === 'ok', agent);
  }, 120_000);

  it('holds an unconfirmed apply --confirm reverted while it was stopped, even when the manifests were read under another path', async () => {
    const { sim, dir, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const before = startAgent(sim, state, [manifests, '--interval', '0']);
    const first = await appliedWith(sim, before, 'port = 8080');
    before.signal('SIGTERM');
    expect(await before.exited).toEqual({ code: 0, signal: null });

    // The operator tries a change with a safety net, does not confirm it, and it is reverted.
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8081:80']));
    const trial = await cli(sim, state, ['apply', 'manifests', '--confirm', '1s'], dir);
    expect(trial.code, trial.stderr).toBe(0);
    await waitFor('the watchdog to revert', async () => (await sim.readAnchor('pfexpose')) === first);

    const agent = startAgent(sim, state, [manifests, '--interval', '0', '--metrics', '127.0.0.1:0']);
    await waitFor('holding', () => agent.lines.find((l) => l.event === 'holding'), agent);
    expect(agent.lines.find((l) => l.event === 'holding')?.message).toContain('not confirmed');
    expect(await sim.readAnchor('pfexpose')).toBe(first);
    expect((await health(agent)).body.status).toBe('held');
  }, 120_000);
});

describe('pfexpose watch: another pfexpose process loads the anchor between two reconciles', () => {
  it('after an apply by hand, a failed load of the agent puts back what pf held, not what the agent had loaded', async () => {
    const { pf, dir, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [
      manifests,
      '--interval',
      '0',
      '--debounce',
      '200ms',
      '--settle',
      '200ms',
    ]);
    await appliedWith(pf, agent, 'port = 8080');
    // A quick change first, so the agent's last word on the anchor is its own fast-path apply.
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80', 'em0:8443:443']));
    await anchorWith(pf, agent, 'port = 8443');
    await waitFor('the agent to be idle', () => agent.lines.filter((l) => l.event === 'applied').length >= 2, agent);

    // The operator applies other manifests by hand: pf and the state directory say so.
    const other = join(dir, 'other');
    await mkdir(other);
    await writeFile(join(other, 'api.yaml'), manifest('api', '10.13.37.20', ['em0:8090:90']));
    const byHand = await cliInProcess(pf, state, ['apply', other]);
    expect(byHand.code, byHand.stderr).toBe(0);
    const held = await pf.readAnchor('pfexpose');
    expect(held).toContain('port = 8090');

    // The agent's next load commits, then pfctl dies: pf must get back what it held (the apply by
    // hand), which only a read of the anchor before the load can know.
    await pf.setControl({ dieLoads: 1, dieWhen: 'after-commit' });
    const before = (await pf.calls()).length;
    const mark = agent.lines.length;
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8081:80']));
    const failed = await waitFor('apply-failed', () => eventAfter(agent, 'apply-failed', mark), agent);
    expect(failed['restored']).toBe(true);
    expect(failed.message).toContain('the previous ruleset was loaded again');
    expect(await pf.readAnchor('pfexpose')).toBe(held);
    // It read the anchor and made a dry run before that load: the full path.
    const calls = (await pf.calls()).slice(before).map((call) => call.argv.join(' '));
    const load = calls.findIndex((argv) => argv.includes(' -f ') && !argv.includes(' -n '));
    expect(calls.slice(0, load).some((argv) => argv.includes('-P -sn'))).toBe(true);
    expect(calls.slice(0, load).some((argv) => argv.includes(' -n -f '))).toBe(true);
  }, 120_000);
});

describe('pfexpose watch: started while the manifests are invalid', () => {
  it('still reconciles: repairs the ruleset last applied, and reports pf disabled beside the invalid manifests', async () => {
    const { pf, dir, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const applied = await cliInProcess(pf, state, ['apply', manifests]);
    expect(applied.code, applied.stderr).toBe(0);
    const recorded = await pf.readAnchor('pfexpose');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:70000:80']));
    await pf.runner('pfctl', ['-a', 'pfexpose', '-F', 'all']);

    const agent = startAgentInProcess(pf, state, [manifests, '--interval', '0', '--metrics', '127.0.0.1:0'], {
      cwd: dir,
    });
    await waitFor('drift-repaired', () => agent.lines.find((l) => l.event === 'drift-repaired'), agent);
    expect(await pf.readAnchor('pfexpose')).toBe(recorded);
    expect(agent.lines.find((l) => l.event === 'drift')?.message).toContain('recorded as last applied');
    const metricsUrl = `http://${String(agent.lines.find((l) => l.event === 'started')?.['metrics'])}/metrics`;
    let text = await (await fetch(metricsUrl)).text();
    expect(text).toContain('pfexpose_reconciles_total 1');
    expect(text).toContain('pfexpose_manifests_valid 0');
    const ok = await health(agent);
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('manifests-invalid');

    await pf.setEnabled(false);
    const mark = agent.lines.length;
    agent.signal('SIGHUP');
    await waitFor('preflight-failed', () => eventAfter(agent, 'preflight-failed', mark), agent);
    const sick = await health(agent);
    expect(sick.status).toBe(503);
    expect(sick.body.status).toBe('preflight-failed');
    expect(sick.body.reason).toContain('pf is disabled');
    expect(sick.body.reason).toContain('the manifests are invalid');
    text = await (await fetch(metricsUrl)).text();
    expect(text).toContain('pfexpose_preflight_ok 0');
  }, 120_000);
});

describe('pfexpose watch: a file written in two halves (issue 9, C2)', () => {
  const FIRST_HALF = [
    'version: 1',
    'containers:',
    '  db:',
    '    ip: 10.13.37.11',
    '    ports:',
    '      - kleene: em0:5432:5432',
    '',
  ].join('\n');
  const SECOND_HALF = '        from: [198.51.100.0/24]\n';

  /**
   * Writes db.yaml through one open descriptor: the first half (valid YAML on its own, publishing
   * 5432 from any source), a pause, then the rest. Meanwhile samples the anchor every 20 ms.
   */
  async function writeInHalves(sim: Pf, file: string, pauseMs: number): Promise<string[]> {
    const seen: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        seen.push((await sim.readAnchor('pfexpose')) ?? '');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const handle = await open(file, 'w');
    await handle.write(FIRST_HALF);
    await handle.sync();
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    await handle.write(SECOND_HALF);
    await handle.close();
    return new Promise((resolve) => {
      setTimeout(() => {
        sampling = false;
        void sampler.then(() => resolve(seen));
      }, 0);
    });
  }

  const firstHalfOnly = (anchor: string): boolean => /port = 5432/.test(anchor) && !anchor.includes('198.51.100.0/24');

  it('never loads the first half when the pause is longer than the debounce but shorter than --settle', async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    // The default --settle (2 s); the pause (800 ms) is four debounce periods long.
    const agent = startAgentInProcess(pf, state, [manifests, '--debounce', '200ms', '--interval', '0']);
    await appliedWith(pf, agent, 'port = 8080');
    const loads = (await pf.loadCalls()).length;
    const mark = agent.lines.length;

    const seen = await writeInHalves(pf, join(manifests, 'db.yaml'), 800);
    const anchor = await anchorWith(pf, agent, '198.51.100.0/24');
    expect(anchor).toContain('port = 5432');
    await waitFor('the applied event', () => eventAfter(agent, 'applied', mark), agent);
    // The agent did see the file before it was complete, and waited.
    const waited = agent.lines.slice(mark).filter((l) => l.event === 'unsettled');
    expect(waited.length).toBeGreaterThan(0);
    // One load since the write began, and it was the whole file: the first half never reached pf.
    expect((await pf.loadCalls()).length).toBe(loads + 1);
    expect(seen.some(firstHalfOnly)).toBe(false);
    expect(agent.lines.slice(mark).filter((l) => l.event === 'applied')).toHaveLength(1);
  }, 120_000);

  it('with --settle shorter than the pause, the first half is loaded: the documented limit (the test can see a partial load)', async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [
      manifests,
      '--debounce',
      '100ms',
      '--settle',
      '100ms',
      '--interval',
      '0',
    ]);
    await appliedWith(pf, agent, 'port = 8080');
    const mark = agent.lines.length;
    // A pause far longer than debounce + settle: the first half stays unchanged long enough to count.
    const seen = await writeInHalves(pf, join(manifests, 'db.yaml'), 4000);
    await anchorWith(pf, agent, '198.51.100.0/24');
    expect(seen.some(firstHalfOnly)).toBe(true);
    await waitFor(
      'two applies (the first half, then the whole)',
      () => agent.lines.slice(mark).filter((l) => l.event === 'applied').length >= 2,
      agent,
    );
  }, 120_000);
});

describe('pfexpose watch: idle connections to the metrics port (issue 9, M7)', () => {
  it('1,100 idle connections do not take the file descriptors the agent needs (run under ulimit -n 160)', async () => {
    const { sim, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgent(
      sim,
      state,
      [manifests, '--debounce', '100ms', '--settle', '200ms', '--interval', '0', '--metrics', '127.0.0.1:0'],
      undefined,
      160,
    );
    await appliedWith(sim, agent, 'port = 8080');
    const address = String(agent.lines.find((l) => l.event === 'started')?.['metrics']);
    const port = Number(address.split(':').at(-1));
    const sockets: Socket[] = [];
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
      return Promise.resolve();
    });
    for (let i = 0; i < 1100; i += 1) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      sockets.push(socket);
    }
    await Promise.all(
      sockets.map(
        (socket) =>
          new Promise((done) => {
            socket.once('connect', done);
            socket.once('close', done);
          }),
      ),
    );
    // While they are all open (as far as the clients know), a manifest change is read and applied.
    const mark = agent.lines.length;
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8081:80']));
    await anchorWith(sim, agent, 'port = 8081');
    await waitFor('the applied event', () => eventAfter(agent, 'applied', mark), agent);
    expect(agent.lines.slice(mark).filter((l) => /EMFILE|too many open files/i.test(JSON.stringify(l)))).toEqual([]);
    for (const socket of sockets) socket.destroy();
    await waitFor(
      '/healthz to answer',
      async () => {
        try {
          return (await fetch(`http://${address}/healthz`, { signal: AbortSignal.timeout(5000) })).status === 200;
        } catch {
          return false;
        }
      },
      agent,
    );
  }, 180_000);

  it('loads links, repairs a link rule deleted behind its back, and follows a link removed from the manifests', async () => {
    const { pf, manifests, state } = await setup();
    const text = (links: string) =>
      `${manifest('db', '10.13.37.20', ['em0:5432:5432'])}  app:\n    ip: 10.13.37.21\n    links: [${links}]\n`;
    await writeFile(join(manifests, 'm.yaml'), text('db'));
    const agent = startAgentInProcess(pf, state, [manifests, '--interval', '1s', '--settle', '200ms']);
    const link =
      'pass quick inet proto tcp from 10.13.37.21 to 10.13.37.20 port = 5432 flags S/SA keep state label "link:app:db:tcp:5432"';
    const applied = await appliedWith(pf, agent, link);
    const mark = agent.lines.length;
    await pf.writeAnchor(
      'pfexpose',
      applied
        .split('\n')
        .filter((l) => !l.includes('link:app:db'))
        .join('\n'),
    );
    await waitFor('drift-repaired', () => eventAfter(agent, 'drift-repaired', mark), agent);
    expect(await pf.readAnchor('pfexpose')).toBe(applied);
    await writeFile(join(manifests, 'm.yaml'), text(''));
    await waitFor(
      'the link rule to go',
      async () => !((await pf.readAnchor('pfexpose')) ?? link).includes('link:app:db'),
      agent,
    );
    expect(await pf.readAnchor('pfexpose')).toContain('label "db:tcp:em0:5432"');
  }, 120_000);
});
