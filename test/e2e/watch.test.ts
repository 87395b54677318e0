// `pfexpose watch` end to end. Most tests run the agent in process against the in-memory pf (under
// the real pfctl adapter) with a stand-in for route(8), and change manifests, flush the anchor,
// send signals (to CliContext.signals) and pull git checkouts while it runs. What needs a real
// process (the signals themselves and the exit code, ulimit -n, a file read that never returns,
// the apply --confirm watchdog) runs the built CLI as a child process against the pfctl simulator.
// Every wait polls for a condition with a generous deadline, so a loaded machine is slower, not red.
// Tests that do not test --settle use 200ms, not the default 2 s, so each change costs less waiting.
// The tests are split over this file and watch-more.test.ts (harness: watch-harness.ts) so they run side by side.
import { spawnSync } from 'node:child_process';
import { readFile, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  runCleanups,
  run,
  setup,
  manifest,
  startAgent,
  startAgentInProcess,
  watchInProcess,
  waitFor,
  eventAfter,
  anchorWith,
  appliedWith,
  health,
  root,
} from './watch-harness.js';

afterEach(runCleanups);
describe('pfexpose watch', () => {
  it('follows manifests as they are created, modified, renamed and deleted', async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['8080:80']));
    const agent = startAgentInProcess(pf, state, [manifests, '--debounce', '200ms', '--settle', '200ms']);
    // No gateway in the manifests: the agent asks route(8), whose stand-in says em0.
    expect(await anchorWith(pf, agent, 'port = 8080')).toContain('on em0');

    let mark = agent.lines.length;
    await writeFile(join(manifests, 'db.yaml'), manifest('db', '10.13.37.11', ['em0:5432:5432']));
    await anchorWith(pf, agent, 'port = 5432');

    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['8081:80']));
    const anchor = await anchorWith(pf, agent, 'port = 8081');
    expect(anchor).not.toContain('port = 8080');
    const applied = await waitFor(
      'the applied event',
      () => [...agent.lines.slice(mark)].reverse().find((l) => l.event === 'applied'),
      agent,
    );
    expect(applied['exposures']).toBe(2);

    mark = agent.lines.length;
    await rename(join(manifests, 'db.yaml'), join(manifests, 'postgres.yaml'));
    const after = await waitFor(
      'a cycle after the rename',
      () => eventAfter(agent, 'unchanged', mark) ?? eventAfter(agent, 'applied', mark),
      agent,
    );
    expect(after['reread']).toBe(1);
    expect(await pf.readAnchor('pfexpose')).toContain('port = 5432');

    await unlink(join(manifests, 'postgres.yaml'));
    await waitFor('the db exposure to go', async () => !(await pf.readAnchor('pfexpose'))?.includes('5432'), agent);
    expect(await pf.readAnchor('pfexpose')).toContain('port = 8081');
  }, 120_000);

  it('turns 500 rapid writes into the final state with few loads', async () => {
    const { pf, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:9999:80']));
    const agent = startAgentInProcess(pf, state, [manifests, '--debounce', '300ms']);
    await anchorWith(pf, agent, 'port = 9999');
    const before = (await pf.loadCalls()).length;
    for (let i = 0; i < 500; i += 1) await writeFile(file, manifest('web', '10.13.37.10', [`em0:${10000 + i}:80`]));
    const anchor = await anchorWith(pf, agent, 'port = 10499');
    expect(anchor).not.toContain('port = 10498');
    // Let any cycle still queued run out before counting.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const loads = (await pf.loadCalls()).length - before;
    expect(loads).toBeGreaterThanOrEqual(1);
    expect(loads).toBeLessThanOrEqual(5);
  }, 120_000);

  it('never lets an invalid manifest reach pf', async () => {
    const { pf, manifests, state } = await setup();
    const file = join(manifests, 'web.yaml');
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [manifests, '--debounce', '200ms', '--settle', '200ms']);
    await anchorWith(pf, agent, 'port = 8080');
    const loads = (await pf.loadCalls()).length;
    const mark = agent.lines.length;
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80', 'em0:70000:80']));
    const invalid = await waitFor('manifests-invalid', () => eventAfter(agent, 'manifests-invalid', mark), agent);
    expect(JSON.stringify(invalid['diagnostics'])).toContain('web.yaml:7:');
    expect((await pf.loadCalls()).length).toBe(loads);
    expect(await pf.readAnchor('pfexpose')).not.toContain('70000');
    // The next valid version goes through.
    await writeFile(file, manifest('web', '10.13.37.10', ['em0:8080:80', 'em0:7000:80']));
    await anchorWith(pf, agent, 'port = 7000');
  }, 120_000);

  it('repairs a flushed anchor within one reconcile and reports it in /metrics', async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [manifests, '--interval', '2s', '--metrics', '127.0.0.1:0']);
    const started = await waitFor('started', () => agent.lines.find((l) => l.event === 'started'), agent);
    const metricsUrl = `http://${String(started['metrics'])}/metrics`;
    const applied = await appliedWith(pf, agent, 'port = 8080');
    const mark = agent.lines.length;
    await pf.runner('pfctl', ['-a', 'pfexpose', '-F', 'all']);
    expect(await pf.readAnchor('pfexpose')).toBe('');
    const repaired = await waitFor('drift-repaired', () => eventAfter(agent, 'drift-repaired', mark), agent);
    expect(await pf.readAnchor('pfexpose')).toBe(applied);
    // Within one reconcile: at most one that had read the anchor before the flush came between.
    const between = agent.lines.slice(mark, agent.lines.indexOf(repaired));
    expect(between.filter((l) => l.event === 'in-sync').length).toBeLessThanOrEqual(1);
    const text = await (await fetch(metricsUrl)).text();
    expect(text).toContain('pfexpose_drift_repairs_total 1');
    expect(text).toContain('pfexpose_exposures 1');
    expect(text).toContain('pfexpose_last_apply_success 1');
    expect(text).toMatch(/^pfexpose_applies_total\{result="applied"\} 2$/m);
    // Who runs, and since when pf is known to hold the manifests; a real scrape promtool accepts.
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(text).toContain(
      `pfexpose_build_info{version="${version}",node="${process.version}",platform="${process.platform}"} 1`,
    );
    expect(text).toMatch(/^process_start_time_seconds \d+$/m);
    expect(text).toMatch(/^pfexpose_last_successful_reconcile_timestamp_seconds \d/m);
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect([promtool.error, promtool.status, promtool.stdout, promtool.stderr]).toEqual([undefined, 0, '', '']);
    const health = await fetch(metricsUrl.replace('/metrics', '/healthz'));
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ healthy: true, status: 'ok' });
  }, 120_000);

  it('only reports drift with --drift warn, once while it lasts', async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgentInProcess(pf, state, [
      manifests,
      '--interval',
      '1s',
      '--drift',
      'warn',
      '--metrics',
      '127.0.0.1:0',
    ]);
    await appliedWith(pf, agent, 'port = 8080');
    const loads = (await pf.loadCalls()).length;
    const mark = agent.lines.length;
    await pf.writeAnchor('pfexpose', '');
    const drift = await waitFor('drift', () => eventAfter(agent, 'drift', mark), agent);
    expect(drift['level']).toBe('warn');
    // The exposure's rdr, pass out and pass in rules.
    expect(drift['missing']).toBe(3);
    // Later reconciles find the same drift: only a debug line each, and it is counted once.
    await waitFor(
      'two more reconciles',
      () => agent.lines.slice(mark).filter((l) => l.event === 'drift').length >= 3,
      agent,
    );
    expect(
      agent.lines
        .slice(mark)
        .filter((l) => l.event === 'drift')
        .map((l) => l.level)
        .slice(0, 3),
    ).toEqual(['warn', 'debug', 'debug']);
    const metrics = await (
      await fetch(`http://${String(agent.lines.find((l) => l.event === 'started')?.['metrics'])}/metrics`)
    ).text();
    expect(metrics).toContain('pfexpose_drift_detected_total 1');
    expect(await pf.readAnchor('pfexpose')).toBe('');
    expect((await pf.loadCalls()).length).toBe(loads);
  }, 120_000);

  it('reconciles on SIGHUP', async () => {
    const { sim, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    const agent = startAgent(sim, state, [manifests, '--interval', '0']);
    const applied = await appliedWith(sim, agent, 'port = 8080');
    await sim.writeAnchor('pfexpose', '');
    const mark = agent.lines.length;
    agent.signal('SIGHUP');
    await waitFor('drift-repaired', () => eventAfter(agent, 'drift-repaired', mark), agent);
    expect(await sim.readAnchor('pfexpose')).toBe(applied);
    expect(agent.lines.slice(mark).map((l) => l.event)).toContain('reconcile-requested');
  }, 120_000);

  it('finishes the apply in progress on SIGTERM and exits 0', async () => {
    const { sim, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    await sim.setControl({ hangMs: 2500, hangOn: ['load'] });
    const agent = startAgent(sim, state, [manifests]);
    await waitFor('the load to start', async () => (await sim.loadCalls()).length > 0, agent);
    agent.signal('SIGTERM');
    const exit = await agent.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await sim.readAnchor('pfexpose')).toContain('port = 8080');
    const events = agent.lines.map((l) => l.event);
    expect(events).toContain('applied');
    expect(events.indexOf('stopping')).toBeLessThan(events.indexOf('applied'));
    expect(events.at(-1)).toBe('stopped');
  }, 120_000);

  it('applies what a pull brings, and leaves everything as it is when a pull fails', async () => {
    const { pf, dir, state } = await setup();
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.org',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.org',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: dir,
    };
    const git = (cwd: string, ...args: string[]) =>
      run('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env });
    const origin = join(dir, 'origin.git');
    const author = join(dir, 'author');
    const host = join(dir, 'host');
    await git(dir, 'init', '--bare', origin);
    await git(dir, 'clone', origin, author);
    await writeFile(join(author, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    await git(author, 'add', '.');
    await git(author, 'commit', '-m', 'web');
    await git(author, 'push', 'origin', 'HEAD:main');
    await git(dir, 'clone', '--branch', 'main', origin, host);

    const agent = startAgentInProcess(
      pf,
      state,
      [host, '--pull', '1s', '--frozen', '--settle', '200ms', '--metrics', '127.0.0.1:0'],
      { env },
    );
    await anchorWith(pf, agent, 'port = 8080');

    await writeFile(join(author, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8443:443']));
    await git(author, 'commit', '-am', 'tls');
    await git(author, 'push', 'origin', 'HEAD:main');
    await anchorWith(pf, agent, 'port = 8443');
    expect(agent.lines.map((l) => l.event)).toContain('pulled');

    const anchor = await pf.readAnchor('pfexpose');
    const head = (await git(host, 'rev-parse', 'HEAD')).stdout;
    await git(host, 'remote', 'set-url', 'origin', join(dir, 'gone.git'));
    const mark = agent.lines.length;
    const failed = await waitFor('pull-failed', () => eventAfter(agent, 'pull-failed', mark), agent);
    expect(failed['level']).toBe('error');
    expect((await git(host, 'rev-parse', 'HEAD')).stdout).toBe(head);
    expect(await pf.readAnchor('pfexpose')).toBe(anchor);
    const sick = await health(agent);
    expect(sick.status).toBe(503);
    expect(sick.body.status).toBe('pull-failed');
    const metrics = await (
      await fetch(`http://${String(agent.lines.find((l) => l.event === 'started')?.['metrics'])}/metrics`)
    ).text();
    expect(metrics).toMatch(/^pfexpose_pulls_total\{result="failed"\} [1-9]/m);
    // The agent goes on with the checkout it has: a flushed anchor is still repaired.
    await pf.runner('pfctl', ['-a', 'pfexpose', '-F', 'all']);
    agent.signal('SIGHUP');
    await waitFor('the repair', async () => (await pf.readAnchor('pfexpose')) === anchor, agent);

    // A history rewritten upstream, and the remote back: followed, and health recovers.
    await git(author, 'reset', '--hard', 'HEAD~1');
    await writeFile(join(author, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:9443:443']));
    await git(author, 'commit', '-am', 'rewritten');
    await git(author, 'push', '--force', 'origin', 'HEAD:main');
    await git(host, 'remote', 'set-url', 'origin', origin);
    await anchorWith(pf, agent, 'port = 9443');
    expect(agent.lines.map((l) => l.event)).toContain('pull-rewritten');
    await waitFor('healthy again', async () => (await health(agent)).body.status === 'ok', agent);
  }, 120_000);

  it('is not wedged by a committed symlink to /dev/console: pulls, reconciles and SIGTERM go on (issue 9, M4)', async () => {
    const { sim, dir, state } = await setup();
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.org',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.org',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: dir,
    };
    const git = (cwd: string, ...args: string[]) =>
      run('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env });
    const origin = join(dir, 'origin.git');
    const author = join(dir, 'author');
    const host = join(dir, 'host');
    await git(dir, 'init', '--bare', origin);
    await git(dir, 'clone', origin, author);
    await writeFile(join(author, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    await git(author, 'add', '.');
    await git(author, 'commit', '-m', 'web');
    await git(author, 'push', 'origin', 'HEAD:main');
    await git(dir, 'clone', '--branch', 'main', origin, host);
    const agent = startAgent({ ...sim, env: { ...sim.env, ...env, PFCTL_SIM_DIR: sim.dir } }, state, [
      host,
      '--pull',
      '1s',
      '--frozen',
      '--settle',
      '200ms',
      '--interval',
      '0',
      '--metrics',
      '127.0.0.1:0',
    ]);
    await appliedWith(sim, agent, 'port = 8080');

    await symlink('/dev/console', join(author, 'console.yaml'));
    await git(author, 'add', 'console.yaml');
    await git(author, 'commit', '-m', 'a link to the console');
    await git(author, 'push', 'origin', 'HEAD:main');
    let mark = agent.lines.length;
    const invalid = await waitFor('manifests-invalid', () => eventAfter(agent, 'manifests-invalid', mark), agent);
    expect(JSON.stringify(invalid['diagnostics'])).toContain('console.yaml');
    expect(await sim.readAnchor('pfexpose')).toContain('port = 8080');
    // The loop is not stuck: a reconcile completes, and later pulls still arrive.
    mark = agent.lines.length;
    agent.signal('SIGHUP');
    await waitFor('a reconcile to complete', () => eventAfter(agent, 'in-sync', mark), agent);
    await git(author, 'rm', '-q', 'console.yaml');
    await writeFile(join(author, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8443:443']));
    await git(author, 'commit', '-am', 'fixed');
    await git(author, 'push', 'origin', 'HEAD:main');
    await anchorWith(sim, agent, 'port = 8443');
    expect((await health(agent)).status).toBe(200);
    agent.signal('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('refuses --dialect openbsd as a usage error before touching pf', async () => {
    const { pf, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    const refused = await watchInProcess(pf, state, [manifests, '--dialect', 'openbsd']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--dialect openbsd: watch drives FreeBSD's pfctl");
    expect(refused.stderr).toContain('the openbsd dialect is for compile and plan only');
    expect(await pf.calls()).toEqual([]);
  });

  it('refuses a --settle outside 100ms..10m as a usage error', async () => {
    const { pf, manifests, state } = await setup();
    const refused = await watchInProcess(pf, state, [manifests, '--settle', '50ms']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--settle 50ms is out of range: use 100ms to 10m');
    expect(await pf.calls()).toEqual([]);
  });

  it('stops at once on SIGTERM while its cycle is stuck reading something that never answers (a FIFO lock file)', async () => {
    const { sim, dir, manifests, state } = await setup();
    await writeFile(join(manifests, 'web.yaml'), manifest('web', '10.13.37.10', ['em0:8080:80']));
    const fifo = join(dir, 'lock.fifo');
    await run('mkfifo', [fifo]);
    const agent = startAgent(sim, state, [manifests, '--lock', fifo, '--settle', '100ms', '--interval', '0']);
    await waitFor('started', () => agent.lines.find((l) => l.event === 'started'), agent);
    // Whether the read of the lock hangs or is refused, nothing may keep SIGTERM waiting.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const signalled = Date.now();
    agent.signal('SIGTERM');
    const exit = await agent.exited;
    expect(Date.now() - signalled).toBeLessThan(15_000);
    const events = agent.lines.map((l) => l.event);
    expect(events).toContain('stopped');
    // Exit 0; or, while a read that never returns holds one of node's threads (which exit()
    // would wait for), the end by SIGTERM's own default action, said in the log first.
    if (exit.signal === null) expect(exit.code).toBe(0);
    else {
      expect(exit.signal).toBe('SIGTERM');
      expect(events.at(-1)).toBe('stop-forced');
    }
    expect(await sim.loadCalls()).toEqual([]);
  }, 120_000);

  it('refuses a metrics address off loopback unless allowed', async () => {
    const { pf, manifests, state } = await setup();
    const refused = await watchInProcess(pf, state, [manifests, '--metrics', '0.0.0.0:9813']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--metrics-allow-remote');
  });
});
