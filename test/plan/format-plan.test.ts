import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import type { Exposure } from '../../src/model/exposure.js';
import { renderRuleset } from '../../src/pf/render-ruleset.js';
import { formatPlanGithub, MAX_ANNOTATIONS_PER_SEVERITY } from '../../src/plan/format-plan-github.js';
import { formatPlanJson } from '../../src/plan/format-plan-json.js';
import { DEFAULT_MAX_LENGTH, formatPlanMarkdown, PLAN_COMMENT_MARKER } from '../../src/plan/format-plan-markdown.js';
import { formatPlanText } from '../../src/plan/format-plan-text.js';
import { deployedFromText, desiredState, planChanges } from '../../src/plan/plan-changes.js';
import { fingerprintDeployed } from '../../src/plan/plan-file.js';
import type { Plan } from '../../src/plan/plan.js';
import { exposure } from './exposure-fixture.js';

const at = (line: number, file = 'hosts/web.yaml') => ({ file, line, column: 9 });

const deployedExposures: Exposure[] = [
  exposure({ from: ['192.0.2.0/24'] }),
  exposure({
    container: 'api',
    interface: null,
    hostPort: { start: 49000, end: 49000 },
    containerAddress: '10.13.37.3',
    containerPort: { start: 8080, end: 8080 },
  }),
  exposure({
    container: 'old',
    protocol: 'udp',
    hostPort: { start: 6000, end: 6000 },
    containerAddress: '10.13.37.8',
    containerPort: { start: 6000, end: 6000 },
  }),
  exposure({
    container: 'db',
    interface: null,
    hostAddress: '127.0.0.1',
    hostPort: { start: 5432, end: 5432 },
    containerAddress: '10.13.37.4',
    containerPort: { start: 5432, end: 5432 },
  }),
  exposure({
    container: 'cache',
    interface: null,
    hostAddress: '127.0.0.1',
    hostPort: { start: 6379, end: 6379 },
    containerAddress: '10.13.37.6',
    containerPort: { start: 6379, end: 6379 },
  }),
  exposure({
    container: 'log',
    protocol: 'udp',
    hostPort: { start: 5140, end: 5140 },
    containerAddress: '10.13.37.7',
    containerPort: { start: 5140, end: 5140 },
  }),
  exposure({
    container: 'blue',
    hostPort: { start: 8443, end: 8443 },
    containerAddress: '10.13.37.20',
    containerPort: { start: 443, end: 443 },
  }),
];

const desiredExposures: Exposure[] = [
  exposure({ from: ['192.0.2.0/24', '198.51.100.0/24'], source: at(8) }),
  exposure({
    container: 'api',
    interface: null,
    dynamic: true,
    hostPort: { start: 49001, end: 49001 },
    containerAddress: '10.13.37.3',
    containerPort: { start: 8080, end: 8080 },
    source: at(4, 'hosts/api.yaml'),
  }),
  exposure({
    container: 'dns',
    protocol: 'udp',
    interface: null,
    hostPort: { start: 53, end: 53 },
    containerAddress: '10.13.37.5',
    containerPort: { start: 53, end: 53 },
    source: at(3, 'hosts/dns.yaml'),
  }),
  exposure({ container: 'web', family: 'inet6', containerAddress: 'fd00::2', from: ['2001:db8::/32'], source: at(8) }),
  exposure({
    container: 'db',
    interface: null,
    hostAddress: '127.0.0.1',
    hostPort: { start: 5432, end: 5432 },
    containerAddress: '10.13.37.4',
    containerPort: { start: 5432, end: 5432 },
    source: at(2, 'hosts/db.yaml'),
  }),
  // host_ip 127.0.0.1 removed: newly reachable from the network
  exposure({
    container: 'cache',
    hostPort: { start: 6379, end: 6379 },
    containerAddress: '10.13.37.6',
    containerPort: { start: 6379, end: 6379 },
    source: at(5, 'hosts/cache.yaml'),
  }),
  exposure({
    container: 'log',
    protocol: 'tcp',
    hostPort: { start: 5140, end: 5140 },
    containerAddress: '10.13.37.7',
    containerPort: { start: 5140, end: 5140 },
    source: at(6, 'hosts/log.yaml'),
  }),
  exposure({
    container: 'green',
    hostPort: { start: 8443, end: 8443 },
    containerAddress: '10.13.37.21',
    containerPort: { start: 443, end: 443 },
    source: at(2, 'hosts/green.yaml'),
  }),
  // 127.0.0.1:8081:80 added: reachable from the host only
  exposure({
    container: 'admin',
    interface: null,
    hostAddress: '127.0.0.1',
    hostPort: { start: 8081, end: 8081 },
    containerAddress: '10.13.37.30',
    containerPort: { start: 80, end: 80 },
    source: at(4, 'hosts/admin.yaml'),
  }),
];

function buildPlan(
  desired: Exposure[],
  deployed: Exposure[],
  extra = '',
  tables: string[] = [],
): { plan: Plan; fingerprint: string } {
  const state = deployedFromText(`${renderRuleset(deployed, { dialect: 'freebsd' })}${extra}`, tables);
  const plan = planChanges(desiredState(desired, renderRuleset(desired, { dialect: 'freebsd' })), state);
  return { plan, fingerprint: fingerprintDeployed(state.lines, tables) };
}

const changed = buildPlan(
  desiredExposures,
  deployedExposures,
  'block drop in quick on em0 inet proto tcp from any to any port = 23\n',
  ['blocklist'],
);
const unchanged = buildPlan(desiredExposures, desiredExposures);
const against = 'live anchor "pfexpose"';

const formats: [string, { plan: Plan; fingerprint: string }, (p: Plan, fingerprint: string) => string, string][] = [
  ['text', changed, (p) => formatPlanText(p, { color: false, against }), 'changes.txt'],
  ['text in colour', changed, (p) => formatPlanText(p, { color: true, against }), 'changes.ansi.txt'],
  [
    'json',
    changed,
    (p, fingerprint) => formatPlanJson(p, { deployed: { kind: 'live', anchor: 'pfexpose' }, fingerprint }),
    'changes.json',
  ],
  ['markdown', changed, (p) => formatPlanMarkdown(p, { against }), 'changes.md'],
  ['github annotations', changed, (p) => formatPlanGithub(p, { against }).annotations, 'changes.github.txt'],
  ['text without changes', unchanged, (p) => formatPlanText(p, { color: false, against }), 'no-changes.txt'],
  [
    'json without changes',
    unchanged,
    (p, fingerprint) => formatPlanJson(p, { deployed: { kind: 'file', path: 'deployed.txt' }, fingerprint }),
    'no-changes.json',
  ],
  ['markdown without changes', unchanged, (p) => formatPlanMarkdown(p, { against }), 'no-changes.md'],
];

describe('plan formatters', () => {
  it.each(formats)('%s', async (_name, { plan, fingerprint }, format, golden) => {
    await expect(format(plan, fingerprint)).toMatchFileSnapshot(`__golden__/${golden}`);
  });

  it('plans the fixture with every kind of change and every flag', () => {
    expect(changed.plan.summary).toMatchObject({
      added: 3,
      changed: 5,
      removed: 1,
      unchanged: 1,
      unmanaged: 2,
      changes: true,
    });
    expect(changed.plan.summary.flags).toEqual({
      'open-to-all': 2,
      'sources-widened': 1,
      'ipv6-exposed': 1,
      'privileged-port': 1,
      'dynamic-port-moved': 1,
      'container-changed': 1,
      'protocol-changed': 1,
    });
    const admin = changed.plan.exposures.find((c) => c.desired?.container === 'admin');
    expect(admin).toMatchObject({ kind: 'added', flags: [] });
  });

  it('starts the markdown with the marker the CI workflow looks for', () => {
    expect(formatPlanMarkdown(changed.plan, { against }).split('\n')[0]).toBe(PLAN_COMMENT_MARKER);
  });

  it('keeps the markdown within maxLength by cutting the table and the diff', () => {
    const many = Array.from({ length: 400 }, (_, i) =>
      exposure({ container: `c${i}`, hostPort: { start: 10000 + i, end: 10000 + i }, source: at(i + 1) }),
    );
    const { plan } = buildPlan(many, []);
    const text = formatPlanMarkdown(plan, { against, maxLength: 20_000 });
    expect(text.length).toBeLessThanOrEqual(20_000);
    expect(text).toContain('diff cut short');
    expect(text).toContain('of 400 exposure changes not shown');
    expect(text.trimEnd().endsWith('</details>')).toBe(true);
  });

  describe('a plan of 800 changes in one pull-request comment', () => {
    // Every tenth change is flagged (open to all); the rest admit one network only.
    const many = Array.from({ length: 800 }, (_, i) =>
      exposure({
        container: `container-${String(i).padStart(3, '0')}`,
        hostPort: { start: 10000 + i, end: 10000 + i },
        containerAddress: `10.13.${Math.floor(i / 250)}.${(i % 250) + 1}`,
        from: i % 10 === 0 ? [] : ['192.0.2.0/24'],
        source: at(i + 1, `hosts/many-${Math.floor(i / 100)}.yaml`),
      }),
    );
    const { plan } = buildPlan(many, [], 'block drop in quick on em0 all\n'.repeat(300), ['blocklist']);
    const text = formatPlanMarkdown(plan, { against, fullPlanUrl: 'https://github.com/o/r/actions/runs/7' });
    const rows = text.split('\n').filter((line) => /^\| (added|changed|removed) \|/.test(line));
    const notice = /:warning: \*\*(\d+) of 800 exposure changes not shown( \((\d+) of them flagged\))?\*\*/.exec(text);

    it("stays under GitHub's 65,536-character limit, with the marker and the summary line", () => {
      expect(plan.exposures).toHaveLength(800);
      expect(text.length).toBeLessThanOrEqual(DEFAULT_MAX_LENGTH);
      expect(text.length).toBeLessThan(65_536);
      expect(text.split('\n')[0]).toBe(PLAN_COMMENT_MARKER);
      expect(text).toContain('**800 to add, 0 to change, 0 to remove, 0 unchanged;');
    });

    it('says how many rows were left out, and where the whole plan is', () => {
      expect(notice).not.toBeNull();
      expect(rows.length).toBeGreaterThan(50);
      expect(rows.length + Number(notice?.[1])).toBe(800);
      // Every flagged change fits, so the notice counts none.
      expect(notice?.[2]).toBeUndefined();
      expect(text).toContain('[the log of this workflow run](https://github.com/o/r/actions/runs/7)');
    });

    it("keeps every flagged row, in the plan's order", () => {
      const flagged = plan.exposures.filter((c) => c.flags.length > 0).map((c) => `\`${c.desired?.container ?? ''}\``);
      expect(flagged).toHaveLength(80);
      for (const name of flagged) expect(rows.some((row) => row.includes(name))).toBe(true);
      const names = rows.map((row) => /`(container-\d+)`/.exec(row)?.[1] ?? '');
      expect(names).toEqual([...names].sort());
    });

    it('cuts the unmanaged rules and the diff too, saying so', () => {
      expect(text).toContain('**300 unmanaged rules** in the anchor');
      expect(text).toContain('**1 unmanaged table** in the anchor');
      expect(text).toMatch(/\.\.\. \d+ more not shown/);
      expect(text).toContain('diff cut short');
      expect(text.trimEnd().endsWith('</details>')).toBe(true);
    });
  });

  it('stays within any maxLength, even one too small for all but the summary', () => {
    const many = Array.from({ length: 50 }, (_, i) =>
      exposure({ container: `c${i}`, hostPort: { start: 10000 + i, end: 10000 + i }, source: at(i + 1) }),
    );
    const { plan } = buildPlan(many, [], 'block drop in quick on em0 all\n', ['blocklist']);
    for (const maxLength of [400, 1_000, 2_500, 5_000, 10_000]) {
      const text = formatPlanMarkdown(plan, { against, maxLength });
      expect(text.length).toBeLessThanOrEqual(maxLength);
      expect(text.startsWith(`${PLAN_COMMENT_MARKER}\n`)).toBe(true);
      expect(text).toContain('50 to add');
      // All 50 are open to all: the rows left out are flagged ones, and the notice says so.
      if (maxLength <= 5_000)
        expect(text).toMatch(/\*\*\d+ of 50 exposure changes not shown \(\d+ of them flagged\)\*\*/);
    }
  });

  it("counts the compile's warnings against the same limit as the plan's warnings", () => {
    const flaggedChanges = Array.from({ length: 8 }, (_, i) =>
      exposure({ container: `c${i}`, hostPort: { start: 10000 + i, end: 10000 + i }, source: at(i + 1) }),
    );
    const diagnostics: Diagnostic[] = Array.from({ length: 5 }, (_, i) => ({
      code: 'family-mismatch',
      severity: 'warning',
      message: `host address ::1 is IPv6 but container legacy${i} has no ip6`,
      file: 'hosts/legacy.yaml',
      line: 10 + i,
      column: 9,
      endLine: 10 + i,
      endColumn: 20,
    }));
    const out = formatPlanGithub(buildPlan(flaggedChanges, []).plan, { against, diagnostics });
    const lines = out.annotations.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('::warning ')).length).toBe(MAX_ANNOTATIONS_PER_SEVERITY);
    // The plan's flagged changes come first: a reviewer must not miss them.
    expect(lines.filter((l) => l.includes('title=pfexpose%3A exposure added')).length).toBe(8);
    expect(lines.filter((l) => l.includes('title=family-mismatch')).length).toBe(2);
    expect(out.omitted).toBe(3);
    expect(out.omittedDiagnostics.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^hosts\/legacy\.yaml:12:9: warning family-mismatch /),
      expect.stringMatching(/^hosts\/legacy\.yaml:13:9: warning family-mismatch /),
      expect.stringMatching(/^hosts\/legacy\.yaml:14:9: warning family-mismatch /),
    ]);
  });

  it('writes at most 10 annotations per severity and counts the rest', () => {
    const many = Array.from({ length: 25 }, (_, i) =>
      exposure({
        container: `c${i}`,
        hostPort: { start: 10000 + i, end: 10000 + i },
        from: i % 2 === 0 ? [] : ['192.0.2.0/24'],
        source: at(i + 1),
      }),
    );
    const out = formatPlanGithub(buildPlan(many, []).plan, { against });
    const lines = out.annotations.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('::warning ')).length).toBe(MAX_ANNOTATIONS_PER_SEVERITY);
    expect(lines.filter((l) => l.startsWith('::notice ')).length).toBe(MAX_ANNOTATIONS_PER_SEVERITY);
    expect(out.omitted).toBe(5);
    expect(out.summary.startsWith(PLAN_COMMENT_MARKER)).toBe(true);
  });

  it('annotates only additions and widenings, on the manifest line', () => {
    const out = formatPlanGithub(changed.plan, { against }).annotations;
    expect(out).toContain('::warning file=hosts/dns.yaml,line=3,col=9,title=pfexpose%3A exposure added::');
    expect(out).toContain('file=hosts/web.yaml,line=8');
    expect(out).not.toContain('old udp');
  });
});
