// /metrics as Prometheus reads it: in every state the agent can be in, the exposition keeps the
// format's rules (exposition-rules.ts, itself tested on broken expositions below) and passes the
// real `promtool check metrics` (Debian's prometheus package). A fresh agent says nothing that
// reads as a failure; histograms replace summaries; build info and the process start time are there.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AgentMetrics, processIdentity, type AgentIdentity } from '../../src/agent/agent-metrics.js';
import { DurationHistogram } from '../../src/agent/duration-histogram.js';
import { expositionProblems } from './exposition-rules.js';

const identity: AgentIdentity = {
  version: '1.2.3',
  node: 'v22.1.0',
  platform: 'freebsd',
  startTimeSeconds: 1_700_000_000,
};
const at = new Date(1_700_000_100_000);

/** Each state the agent can be in, as the metrics it leaves. */
const states: [string, (m: AgentMetrics) => void][] = [
  ['fresh', () => undefined],
  ['applied', (m) => m.recordApply('applied', 0.2, at)],
  ['in sync after a restart', (m) => m.recordInSync(at)],
  [
    'refused after an apply',
    (m) => {
      m.recordApply('applied', 0.04, at);
      m.recordApply('refused', 0.5, at);
    },
  ],
  ['failed, slower than every bucket', (m) => m.recordApply('failed', 600, at)],
  [
    'everything at once',
    (m) => {
      for (const kind of ['applied', 'unchanged', 'refused', 'failed'] as const) m.recordApply(kind, 1, at);
      m.recordInSync(at);
      m.pullFailure = 'fatal';
      m.held = 1;
      m.preflightOk = 0;
      m.manifestsValid = 0;
      m.healthFacts.anchor = { status: 'anchor-unreadable', reason: 'x' };
    },
  ],
];

function render(state: (m: AgentMetrics) => void, who: AgentIdentity = identity): string {
  const metrics = new AgentMetrics(who);
  state(metrics);
  return metrics.render();
}

function promtool(text: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the exposition rules', () => {
  const good = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 2\n';
  const cases: [string, string, RegExp][] = [
    ['HELP twice', `# HELP a_total A.\n${good}`, /second # HELP/],
    ['no TYPE', '# HELP a_total A.\na_total 1\n', /has no # TYPE/],
    ['TYPE after the samples', '# HELP g G.\ng 1\n# TYPE g gauge\n', /comes after its samples/],
    ['a counter without _total', '# HELP a A.\n# TYPE a counter\na 1\n', /does not end in _total/],
    ['an abbreviated unit', '# HELP a_ms A.\n# TYPE a_ms gauge\na_ms 1\n', /"ms" is not a base unit/],
    ['a duplicate series', `${good}a_total{x="1"} 3\n`, /duplicate series/],
    [
      'a family split in two',
      `${good}# HELP g G.\n# TYPE g gauge\ng 1\na_total{x="2"} 1\n`,
      /continues after another family/,
    ],
    [
      'buckets that are not cumulative',
      '# HELP h_seconds H.\n# TYPE h_seconds histogram\nh_seconds_bucket{le="1"} 3\nh_seconds_bucket{le="+Inf"} 2\nh_seconds_sum 1\nh_seconds_count 2\n',
      /holds fewer than/,
    ],
    [
      'no +Inf bucket',
      '# HELP h_seconds H.\n# TYPE h_seconds histogram\nh_seconds_bucket{le="1"} 2\nh_seconds_sum 1\nh_seconds_count 2\n',
      /no le="\+Inf" bucket/,
    ],
    [
      '+Inf other than _count',
      '# HELP h_seconds H.\n# TYPE h_seconds histogram\nh_seconds_bucket{le="+Inf"} 2\nh_seconds_sum 1\nh_seconds_count 3\n',
      /is not _count/,
    ],
    [
      'a timestamp in other units',
      '# HELP t_timestamp T.\n# TYPE t_timestamp gauge\nt_timestamp 1\n',
      /_timestamp_seconds/,
    ],
    ['a bad label escape', '# HELP g G.\n# TYPE g gauge\ng{a="\\x"} 1\n', /unknown escape/],
  ];

  it('accept a well-formed exposition', () => {
    expect(expositionProblems(good)).toEqual([]);
  });

  it.each(cases)('catch %s', (_name, text, problem) => {
    expect(expositionProblems(text)).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
  });
});

describe('/metrics', () => {
  it.each(states)('%s: keeps the exposition rules and passes promtool check metrics', (_name, state) => {
    const text = render(state);
    expect(expositionProblems(text)).toEqual([]);
    expect(promtool(text)).toEqual({ status: 0, output: '' });
  });

  it('promtool refuses what the rules refuse (the check can fail)', () => {
    const bad = '# HELP a_ms A.\n# TYPE a_ms counter\na_ms 1\n';
    const got = promtool(bad);
    expect(got.status).not.toBe(0);
    expect(got.output).toMatch(/_total/);
  });

  it('a fresh agent has no sample that reads as a failure, and no last-apply sample at all', () => {
    const lines = render(() => undefined).split('\n');
    for (const name of [
      'pfexpose_last_apply_success',
      'pfexpose_last_apply_result',
      'pfexpose_last_apply_timestamp_seconds',
      'pfexpose_last_apply_duration_seconds',
      'pfexpose_last_success_timestamp_seconds',
      'pfexpose_last_successful_reconcile_timestamp_seconds',
    ]) {
      expect(lines).toContain(`# TYPE ${name} gauge`);
      expect(lines.filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))).toEqual([]);
    }
    for (const healthy of [
      'pfexpose_up 1',
      'pfexpose_manifests_valid 1',
      'pfexpose_preflight_ok 1',
      'pfexpose_pull_failing 0',
      'pfexpose_held 0',
    ]) {
      expect(lines).toContain(healthy);
    }
  });

  it('says when pf was last found in sync, and the last apply once there was one', () => {
    const lines = render((m) => {
      m.recordInSync(new Date(1_700_000_200_500));
      m.recordApply('refused', 0.3, at);
    }).split('\n');
    expect(lines).toContain('pfexpose_last_successful_reconcile_timestamp_seconds 1700000200.5');
    expect(lines).toContain('pfexpose_last_apply_success 0');
    expect(lines).toContain('pfexpose_last_apply_result{result="refused"} 1');
    expect(lines).toContain('pfexpose_last_apply_timestamp_seconds 1700000100');
    // A refused apply loaded nothing.
    expect(lines.some((l) => l.startsWith('pfexpose_last_success_timestamp_seconds '))).toBe(false);
  });

  it('carries build info and the process start time, label values escaped', () => {
    const lines = render(() => undefined, { ...identity, version: '1.0.0-"x"\\y' }).split('\n');
    expect(lines).toContain('pfexpose_build_info{version="1.0.0-\\"x\\"\\\\y",node="v22.1.0",platform="freebsd"} 1');
    expect(lines).toContain('process_start_time_seconds 1700000000');
    expect(expositionProblems(lines.join('\n'))).toEqual([]);
  });

  it("processIdentity is this process's: Node's version, and a start time in the past", () => {
    const now = Date.now() / 1000;
    const got = processIdentity('9.9.9');
    expect(got).toMatchObject({ version: '9.9.9', node: process.version, platform: process.platform });
    expect(got.startTimeSeconds).toBeLessThanOrEqual(Math.round(now));
    expect(got.startTimeSeconds).toBeGreaterThan(now - 3600);
  });

  it('apply durations are a histogram with cumulative buckets, not a summary', () => {
    const text = render((m) => {
      for (const seconds of [0.005, 0.2, 0.2, 3, 120]) m.recordApply('applied', seconds, at);
    });
    const lines = text.split('\n');
    expect(lines).toContain('# TYPE pfexpose_apply_duration_seconds histogram');
    expect(text).not.toMatch(/summary/);
    expect(lines).toEqual(
      expect.arrayContaining([
        'pfexpose_apply_duration_seconds_bucket{le="0.01"} 1',
        'pfexpose_apply_duration_seconds_bucket{le="0.1"} 1',
        'pfexpose_apply_duration_seconds_bucket{le="0.25"} 3',
        'pfexpose_apply_duration_seconds_bucket{le="2.5"} 3',
        'pfexpose_apply_duration_seconds_bucket{le="5"} 4',
        'pfexpose_apply_duration_seconds_bucket{le="60"} 4',
        'pfexpose_apply_duration_seconds_bucket{le="+Inf"} 5',
        'pfexpose_apply_duration_seconds_sum 123.405',
        'pfexpose_apply_duration_seconds_count 5',
      ]),
    );
  });

  it('a histogram takes only increasing bounds', () => {
    expect(() => new DurationHistogram([1, 1])).toThrow(RangeError);
    const h = new DurationHistogram([1, 2]);
    h.observe(2);
    expect(h.buckets()).toEqual([
      ['1', 0],
      ['2', 1],
      ['+Inf', 1],
    ]);
  });
});

describe('the metrics table (docs/reference/metrics.md)', () => {
  it('lists every family /metrics has, with its type, and nothing else', () => {
    const readme = readFileSync('docs/reference/metrics.md', 'utf8');
    const table = readme.slice(readme.indexOf('<!-- metrics-table -->'), readme.indexOf('<!-- /metrics-table -->'));
    const listed = [...table.matchAll(/^\| `([a-z_]+)` \| ([a-z]+) \| /gm)].map((m) => `${m[1]} ${m[2]}`);
    const rendered = [...render(() => undefined).matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(listed.length).toBeGreaterThan(0);
    expect([...listed].sort()).toEqual([...rendered].sort());
  });
});
