import { describe, expect, it } from 'vitest';
import type { Exposure } from '../../src/model/exposure.js';
import { renderRuleset } from '../../src/pf/render-ruleset.js';
import { formatPlanGithub, MAX_ANNOTATIONS_PER_SEVERITY } from '../../src/plan/format-plan-github.js';
import { formatPlanJson } from '../../src/plan/format-plan-json.js';
import { formatPlanMarkdown, PLAN_COMMENT_MARKER } from '../../src/plan/format-plan-markdown.js';
import { formatPlanText } from '../../src/plan/format-plan-text.js';
import { deployedFromText, desiredState, planChanges } from '../../src/plan/plan-changes.js';
import { fingerprintDeployed } from '../../src/plan/plan-file.js';
import type { Plan } from '../../src/plan/plan.js';
import { exposure } from './exposure-fixture.js';

const at = (line: number, file = 'hosts/web.yaml') => ({ file, line, column: 9 });

const deployedExposures: Exposure[] = [
  exposure({ from: ['192.0.2.0/24'] }),
  exposure({ container: 'api', interface: null, hostPort: { start: 49000, end: 49000 }, containerAddress: '10.13.37.3', containerPort: { start: 8080, end: 8080 } }),
  exposure({ container: 'old', protocol: 'udp', hostPort: { start: 6000, end: 6000 }, containerAddress: '10.13.37.8', containerPort: { start: 6000, end: 6000 } }),
  exposure({ container: 'db', interface: null, hostAddress: '127.0.0.1', hostPort: { start: 5432, end: 5432 }, containerAddress: '10.13.37.4', containerPort: { start: 5432, end: 5432 } }),
];

const desiredExposures: Exposure[] = [
  exposure({ from: ['192.0.2.0/24', '198.51.100.0/24'], source: at(8) }),
  exposure({ container: 'api', interface: null, dynamic: true, hostPort: { start: 49001, end: 49001 }, containerAddress: '10.13.37.3', containerPort: { start: 8080, end: 8080 }, source: at(4, 'hosts/api.yaml') }),
  exposure({ container: 'dns', protocol: 'udp', interface: null, hostPort: { start: 53, end: 53 }, containerAddress: '10.13.37.5', containerPort: { start: 53, end: 53 }, source: at(3, 'hosts/dns.yaml') }),
  exposure({ container: 'web', family: 'inet6', containerAddress: 'fd00::2', from: ['2001:db8::/32'], source: at(8) }),
  exposure({ container: 'db', interface: null, hostAddress: '127.0.0.1', hostPort: { start: 5432, end: 5432 }, containerAddress: '10.13.37.4', containerPort: { start: 5432, end: 5432 }, source: at(2, 'hosts/db.yaml') }),
];

function buildPlan(desired: Exposure[], deployed: Exposure[], extra = ''): { plan: Plan; fingerprint: string } {
  const state = deployedFromText(`${renderRuleset(deployed, { dialect: 'freebsd' })}${extra}`);
  const plan = planChanges(desiredState(desired, renderRuleset(desired, { dialect: 'freebsd' })), state);
  return { plan, fingerprint: fingerprintDeployed(state.lines) };
}

const changed = buildPlan(desiredExposures, deployedExposures, 'block drop in quick on em0 inet proto tcp from any to any port = 23\n');
const unchanged = buildPlan(desiredExposures, desiredExposures);
const against = 'live anchor "pfexpose"';

const formats: [string, { plan: Plan; fingerprint: string }, (p: Plan, fingerprint: string) => string, string][] = [
  ['text', changed, (p) => formatPlanText(p, { color: false, against }), 'changes.txt'],
  ['text in colour', changed, (p) => formatPlanText(p, { color: true, against }), 'changes.ansi.txt'],
  ['json', changed, (p, fingerprint) => formatPlanJson(p, { deployed: { kind: 'live', anchor: 'pfexpose' }, fingerprint }), 'changes.json'],
  ['markdown', changed, (p) => formatPlanMarkdown(p, { against }), 'changes.md'],
  ['github annotations', changed, (p) => formatPlanGithub(p, { against }).annotations, 'changes.github.txt'],
  ['text without changes', unchanged, (p) => formatPlanText(p, { color: false, against }), 'no-changes.txt'],
  ['json without changes', unchanged, (p, fingerprint) => formatPlanJson(p, { deployed: { kind: 'file', path: 'deployed.txt' }, fingerprint }), 'no-changes.json'],
  ['markdown without changes', unchanged, (p) => formatPlanMarkdown(p, { against }), 'no-changes.md'],
];

describe('plan formatters', () => {
  it.each(formats)('%s', async (_name, { plan, fingerprint }, format, golden) => {
    await expect(format(plan, fingerprint)).toMatchFileSnapshot(`__golden__/${golden}`);
  });

  it('plans the fixture with every kind of change and every flag', () => {
    expect(changed.plan.summary).toMatchObject({ added: 2, changed: 2, removed: 1, unchanged: 1, unmanaged: 1, changes: true });
    expect(changed.plan.summary.flags).toEqual({
      'open-to-all': 1,
      'sources-widened': 1,
      'ipv6-exposed': 1,
      'privileged-port': 1,
      'dynamic-port-moved': 1,
    });
  });

  it('starts the markdown with the marker the CI workflow looks for', () => {
    expect(formatPlanMarkdown(changed.plan, { against }).split('\n')[0]).toBe(PLAN_COMMENT_MARKER);
  });

  it('keeps the markdown under the size GitHub accepts by cutting the diff', () => {
    const many = Array.from({ length: 400 }, (_, i) =>
      exposure({ container: `c${i}`, hostPort: { start: 10000 + i, end: 10000 + i }, source: at(i + 1) }),
    );
    const { plan } = buildPlan(many, []);
    const text = formatPlanMarkdown(plan, { against, maxLength: 20_000 });
    expect(text.length).toBeLessThan(60_000);
    expect(text).toContain('diff cut short');
    expect(text.trimEnd().endsWith('</details>')).toBe(true);
  });

  it('writes at most 10 annotations per severity and counts the rest', () => {
    const many = Array.from({ length: 25 }, (_, i) =>
      exposure({ container: `c${i}`, hostPort: { start: 10000 + i, end: 10000 + i }, from: i % 2 === 0 ? [] : ['192.0.2.0/24'], source: at(i + 1) }),
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
