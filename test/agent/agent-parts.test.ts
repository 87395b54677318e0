// The agent's smaller parts: the manifest cache re-reads only changed files, durations and
// metrics addresses parse, the metrics server answers, and log lines have their two forms.
import { mkdtemp, rm, unlink, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatJsonRecord, formatTextRecord } from '../../src/agent/agent-log.js';
import { AgentMetrics } from '../../src/agent/agent-metrics.js';
import { ManifestCache } from '../../src/agent/manifest-cache.js';
import { isLoopback, parseListenAddress, serveMetrics } from '../../src/agent/metrics-server.js';
import { parseDuration } from '../../src/text/duration.js';

describe('ManifestCache', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pfexpose-cache-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads every file once, then only the ones that changed, appeared or were renamed', async () => {
    await writeFile(join(dir, 'a.yaml'), 'version: 1\n');
    await writeFile(join(dir, 'b.yaml'), 'version: 1\n');
    await writeFile(join(dir, 'notes.txt'), 'not a manifest\n');
    const cache = new ManifestCache(['m'], { cwd: join(dir, '..'), lockPath: 'm/pfexpose.lock.json' });
    const cacheHere = new ManifestCache([dir], { cwd: dir, lockPath: 'pfexpose.lock.json' });
    expect((await cache.read()).diagnostics.map((d) => d.code)).toEqual(['path-not-found']);

    const first = await cacheHere.read();
    expect(first.reread).toEqual([join(dir, 'a.yaml'), join(dir, 'b.yaml')]);
    expect(first.stable).toBe(true);
    expect(first.lockText).toBeNull();

    expect((await cacheHere.read()).reread).toEqual([]);

    await writeFile(join(dir, 'a.yaml'), 'version: 1 # same size?\n');
    await writeFile(join(dir, 'pfexpose.lock.json'), '{}\n');
    const second = await cacheHere.read();
    expect(second.reread).toEqual([join(dir, 'a.yaml')]);
    expect(second.sources.find((s) => s.file.endsWith('a.yaml'))?.text).toBe('version: 1 # same size?\n');
    expect(second.lockText).toBe('{}\n');
    // Parsed once when read: the unchanged file's documents are the very same objects.
    const parsedB = (snapshot: typeof first) => snapshot.parsed.find((f) => f.file.endsWith('b.yaml'));
    expect(parsedB(second)).toBe(parsedB(first));
    expect(second.parsed.find((f) => f.file.endsWith('a.yaml'))).not.toBe(
      first.parsed.find((f) => f.file.endsWith('a.yaml')),
    );
    expect(second.parsed.map((f) => f.file)).toEqual(second.sources.map((s) => s.file));

    await rename(join(dir, 'b.yaml'), join(dir, 'c.yaml'));
    const third = await cacheHere.read();
    expect(third.reread).toEqual([join(dir, 'c.yaml')]);
    expect(third.removed).toEqual([join(dir, 'b.yaml')]);
    expect(third.sources.map((s) => s.file)).toEqual([join(dir, 'a.yaml'), join(dir, 'c.yaml')]);

    await unlink(join(dir, 'a.yaml'));
    await unlink(join(dir, 'c.yaml'));
    expect((await cacheHere.read()).diagnostics.map((d) => d.code)).toEqual(['no-manifests']);
  });

  it('prefetches changed files without reporting them, so read reuses them and still lists them as reread', async () => {
    await writeFile(join(dir, 'a.yaml'), 'version: 1\n');
    await writeFile(join(dir, 'b.yaml'), 'version: 1\n');
    const cache = new ManifestCache([dir], { cwd: dir, lockPath: 'pfexpose.lock.json' });
    const first = await cache.read();
    await writeFile(join(dir, 'a.yaml'), 'version: 1 # changed\n');
    await writeFile(join(dir, 'pfexpose.lock.json'), '{}\n');
    const fetched = await cache.prefetch();
    expect(fetched.parsed.map((f) => f.file)).toEqual([join(dir, 'a.yaml'), join(dir, 'b.yaml')]);
    expect(fetched.lockText).toBe('{}\n');
    const second = await cache.read();
    expect(second.reread).toEqual([join(dir, 'a.yaml')]);
    expect(second.parsed).toEqual(fetched.parsed);
    expect(second.parsed[0]).toBe(fetched.parsed[0]);
    expect(second.parsed[1]).toBe(first.parsed[1]);
    expect((await cache.read()).reread).toEqual([]);
  });

  it('notices a rewrite of the same size (nanosecond times and inode)', async () => {
    await writeFile(join(dir, 'a.yaml'), 'version: 1\n');
    const cache = new ManifestCache([dir], { cwd: dir, lockPath: 'pfexpose.lock.json' });
    await cache.read();
    await writeFile(join(dir, 'a.tmp'), 'version: 2\n');
    await rename(join(dir, 'a.tmp'), join(dir, 'a.yaml'));
    const again = await cache.read();
    expect(again.sources[0]?.text).toBe('version: 2\n');
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 'ms', 500],
    ['500', 'ms', 500],
    ['60', 's', 60_000],
    ['1.5s', 's', 1500],
    ['5m', 's', 300_000],
    ['1h', 's', 3_600_000],
  ] as const)('%s (bare unit %s) is %d ms', (text, unit, ms) => {
    expect(parseDuration('--x', text, unit, { minMs: 0, maxMs: 86_400_000 })).toEqual({ ok: true, ms });
  });

  it.each(['', 'soon', '-1s', '10 s', '1d', '2h'])('refuses %j', (text) => {
    const result = parseDuration('--interval', text, 's', { minMs: 0, maxMs: 3_600_000 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/^--interval /);
  });
});

describe('metrics address', () => {
  it.each([
    ['127.0.0.1:9813', { host: '127.0.0.1', port: 9813 }, true],
    ['[::1]:0', { host: '::1', port: 0 }, true],
    ['localhost:80', { host: 'localhost', port: 80 }, true],
    ['0.0.0.0:9813', { host: '0.0.0.0', port: 9813 }, false],
    ['[2001:db8::1]:9813', { host: '2001:db8::1', port: 9813 }, false],
  ] as const)('%s', (text, address, loopback) => {
    const parsed = parseListenAddress(text);
    expect(parsed).toEqual({ ok: true, address });
    expect(isLoopback(address.host)).toBe(loopback);
  });

  it.each(['9813', '127.0.0.1', '127.0.0.1:99999', '[127.0.0.1]:1', '::1:9813', 'a b:1'])('refuses %j', (text) => {
    expect(parseListenAddress(text).ok).toBe(false);
  });

  it('serves /metrics in Prometheus text format and /healthz', async () => {
    const metrics = new AgentMetrics();
    metrics.recordApply('applied', 0.25, new Date(1_700_000_000_000));
    metrics.exposures = 12;
    metrics.driftRepairs = 2;
    const served = await serveMetrics({ host: '127.0.0.1', port: 0 }, metrics);
    if (!served.ok) throw new Error(served.message);
    const base = `http://127.0.0.1:${served.server.address.port}`;
    try {
      const response = await fetch(`${base}/metrics`);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      for (const line of [
        'pfexpose_last_apply_timestamp_seconds 1700000000',
        'pfexpose_last_apply_success 1',
        'pfexpose_last_apply_duration_seconds 0.25',
        'pfexpose_applies_total{result="applied"} 1',
        'pfexpose_exposures 12',
        'pfexpose_drift_repairs_total 2',
        'pfexpose_reloads_total 0',
        '# TYPE pfexpose_apply_duration_seconds histogram',
        'pfexpose_apply_duration_seconds_bucket{le="0.1"} 0',
        'pfexpose_apply_duration_seconds_bucket{le="0.25"} 1',
        'pfexpose_apply_duration_seconds_bucket{le="+Inf"} 1',
        'pfexpose_apply_duration_seconds_sum 0.25',
        'pfexpose_apply_duration_seconds_count 1',
      ]) {
        expect(text.split('\n')).toContain(line);
      }
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      metrics.healthFacts.anchor = { status: 'apply-failed', reason: 'pfctl timed out' };
      const sick = await fetch(`${base}/healthz`);
      expect(sick.status).toBe(503);
      expect(await sick.json()).toEqual({ healthy: false, status: 'apply-failed', reason: 'pfctl timed out' });
      expect((await fetch(`${base}/other`)).status).toBe(404);
    } finally {
      await served.server.close();
    }
  });

  it('says why it cannot listen', async () => {
    const first = await serveMetrics({ host: '127.0.0.1', port: 0 }, new AgentMetrics());
    if (!first.ok) throw new Error(first.message);
    const second = await serveMetrics({ host: '127.0.0.1', port: first.server.address.port }, new AgentMetrics());
    await first.server.close();
    expect(second).toEqual({ ok: false, message: expect.stringContaining('the port is in use') });
  });
});

describe('log records', () => {
  const record = {
    time: '2025-01-01T00:00:00.000Z',
    level: 'error' as const,
    event: 'manifests-invalid',
    message: 'the manifests have 1 error(s)',
    fields: {
      errors: 1,
      file: 'a b.yaml',
      skipped: undefined,
      none: null,
      diagnostics: ['a.yaml:1:1: error schema bad\u001b[31m'],
    },
  };

  it('writes one JSON object a line', () => {
    const line = formatJsonRecord(record);
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      time: '2025-01-01T00:00:00.000Z',
      level: 'error',
      event: 'manifests-invalid',
      message: 'the manifests have 1 error(s)',
      errors: 1,
      file: 'a b.yaml',
      none: null,
      diagnostics: ['a.yaml:1:1: error schema bad\u001b[31m'],
    });
  });

  it('writes a message of several lines as indented continuation lines in text, and keeps it whole in JSON', () => {
    const refusal = {
      ...record,
      event: 'preflight-failed',
      message:
        'nothing will be loaded until this is fixed: the main pf ruleset does not call anchor "pfexpose";\nadd these lines to /etc/pf.conf\n  rdr-anchor "pfexpose"\n  anchor "pfexpose"\n',
      fields: { anchor: 'pfexpose', diagnostics: ['a.yaml:1:1: error pfctl-rejected first\nsecond'] },
    };
    const text = formatTextRecord(refusal);
    expect(text).not.toContain('\\x0a');
    expect(text.split('\n')).toEqual([
      '2025-01-01T00:00:00.000Z error nothing will be loaded until this is fixed: the main pf ruleset does not call anchor "pfexpose"; (anchor=pfexpose)',
      '    add these lines to /etc/pf.conf',
      '      rdr-anchor "pfexpose"',
      '      anchor "pfexpose"',
      '    a.yaml:1:1: error pfctl-rejected first',
      '      second',
      '',
    ]);
    expect((JSON.parse(formatJsonRecord(refusal)) as { message: string }).message).toBe(refusal.message);
  });

  it('writes text with fields after the message and diagnostics below, escaping control characters', () => {
    expect(formatTextRecord(record)).toBe(
      '2025-01-01T00:00:00.000Z error the manifests have 1 error(s) (errors=1 file="a b.yaml")\n    a.yaml:1:1: error schema bad\\x1b[31m\n',
    );
  });
});
