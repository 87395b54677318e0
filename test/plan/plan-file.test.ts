import { describe, expect, it } from 'vitest';
import { renderRuleset } from '../../src/pf/render-ruleset.js';
import { deployedFromText, desiredState, planChanges } from '../../src/plan/plan-changes.js';
import {
  createPlanFile,
  fingerprintDeployed,
  fingerprintDeployedText,
  readPlanFile,
  serializePlanFile,
} from '../../src/plan/plan-file.js';
import { exposure } from './exposure-fixture.js';

const ruleset = renderRuleset([exposure()], { dialect: 'freebsd', anchor: 'pfexpose' });
const deployedText = 'rdr on em0 inet proto tcp from any to (em0) port = 8081 tag pfexpose -> 10.13.37.2 port 80\n';

function saved(): string {
  const deployed = deployedFromText(deployedText);
  const plan = planChanges(desiredState([exposure()], ruleset), deployed);
  return serializePlanFile(
    createPlanFile({
      plan,
      anchor: 'pfexpose',
      options: { dialect: 'freebsd', host: null, gateway: 'em0', pool: { start: 49000, end: 49900 }, frozen: true, lock: 'pfexpose.lock.json', paths: ['.'] },
      manifestDigest: 'abc',
      deployed: { kind: 'live', anchor: 'pfexpose' },
      deployedFingerprint: fingerprintDeployed(deployed.lines),
      ruleset,
    }),
  );
}

describe('plan file', () => {
  it('reads back what plan -o writes', () => {
    const got = readPlanFile(saved());
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(got.plan.desired.ruleset).toBe(ruleset);
    expect(got.plan.deployed.fingerprint).toBe(fingerprintDeployedText(deployedText));
    expect(got.plan.options.gateway).toBe('em0');
    expect(got.plan.changes).toBe(true);
  });

  const broken: [string, { edit: (file: Record<string, unknown>) => unknown; want: RegExp }][] = [
    ['not JSON', { edit: () => '{', want: /not JSON/ }],
    ['another format', { edit: (f) => ({ ...f, format: 'terraform' }), want: /"format"/ }],
    ['a newer version', { edit: (f) => ({ ...f, version: 2 }), want: /version 2/ }],
    ['an edited ruleset', { edit: (f) => ({ ...f, desired: { ...(f['desired'] as object), ruleset: 'pass all\n' } }), want: /edited after planning/ }],
    ['no fingerprint', { edit: (f) => ({ ...f, deployed: { source: 'live' } }), want: /fingerprint/ }],
    ['a bad dialect', { edit: (f) => ({ ...f, options: { ...(f['options'] as object), dialect: 'linux' } }), want: /dialect/ }],
  ];
  it.each(broken)('refuses %s', (_name, { edit, want }) => {
    const edited = edit(JSON.parse(saved()) as Record<string, unknown>);
    const got = readPlanFile(typeof edited === 'string' ? edited : JSON.stringify(edited));
    expect(got.ok).toBe(false);
    if (!got.ok) expect(got.message).toMatch(want);
  });

  it('fingerprints the normalized state: comments, -v counters, rule numbers and service names do not count', () => {
    const plain = 'rdr on em0 inet proto tcp from any to (em0) port = 8080 tag pfexpose -> 10.13.37.2 port 80\n';
    const verbose = '# header\n@0 rdr on em0 inet proto tcp from any to (em0) port = http-alt tag pfexpose -> 10.13.37.2 port 80\n  [ Evaluations: 1 Packets: 0 Bytes: 0 States: 0 ]\n';
    expect(fingerprintDeployedText(verbose)).toBe(fingerprintDeployedText(plain));
    expect(fingerprintDeployedText(plain, ['t'])).not.toBe(fingerprintDeployedText(plain));
    expect(fingerprintDeployedText(plain)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
