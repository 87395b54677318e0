// The per-exposure counters the agent exports: matched by label, in the compiler's order, bounded.
import { describe, expect, it } from 'vitest';
import { exposureSamples } from '../../src/apply/exposure-status.js';
import { AgentMetrics } from '../../src/agent/agent-metrics.js';
import { exposureOf } from '../helpers/builders.js';

const zero = { evaluations: 0, packets: 0, bytes: 0, inPackets: 0, inBytes: 0, outPackets: 0, outBytes: 0, states: 0 };

describe('exposureSamples', () => {
  it('keeps the exposures pf counts, in order, at most limit of them', () => {
    const exposures = [8080, 8081, 8082].map((port) =>
      exposureOf({ label: `web:tcp:em0:${port}`, hostPort: { start: port, end: port } }),
    );
    const counters = [
      { label: 'web:tcp:em0:8082', ...zero, packets: 2 },
      { label: 'web:tcp:em0:8080', ...zero, packets: 1 },
      { label: 'someone:else', ...zero },
    ];
    const all = exposureSamples(exposures, counters, 10);
    expect(all.samples.map((s) => [s.port, s.counters.packets])).toEqual([
      ['8080', 1],
      ['8082', 2],
    ]);
    expect(all.dropped).toBe(0);
    const bounded = exposureSamples(exposures, counters, 1);
    expect(bounded.samples.map((s) => s.port)).toEqual(['8080']);
    expect(bounded.dropped).toBe(1);
  });

  it('renders one series per exposure and direction, label values escaped', () => {
    const metrics = new AgentMetrics();
    metrics.exposureSamples = [
      { container: 'we"b', protocol: 'udp', listen: '[::1]', port: '53', counters: { ...zero, inPackets: 3 } },
    ];
    const text = metrics.render();
    expect(text).toContain(
      'pfexpose_exposure_packets_total{container="we\\"b",protocol="udp",listen="[::1]",port="53",direction="in"} 3',
    );
    expect(text).toContain('# TYPE pfexpose_exposure_packets_total counter');
  });
});
