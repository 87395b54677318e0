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
      options: {
        dialect: 'freebsd',
        host: null,
        gateway: 'em0',
        pool: { start: 49000, end: 49900 },
        frozen: true,
        lock: 'pfexpose.lock.json',
        paths: ['.'],
      },
      inputs: {
        manifests: [{ file: 'web.yaml', sha256: 'a'.repeat(64) }],
        lock: { path: 'pfexpose.lock.json', sha256: null },
        pfexpose: '0.1.0',
      },
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
    ['a newer version', { edit: (f) => ({ ...f, version: 3 }), want: /version 3, this pfexpose reads version 2/ }],
    [
      'version 1 (no inputs recorded)',
      {
        edit: (f) => ({ ...f, version: 1 }),
        want: /version 1, which does not record what its ruleset was compiled from.*run pfexpose plan -o FILE again/,
      },
    ],
    ['no inputs', { edit: (f) => ({ ...f, inputs: undefined }), want: /"inputs"/ }],
    [
      'a manifest digest that is not sha256',
      {
        edit: (f) => ({ ...f, inputs: { ...(f['inputs'] as object), manifests: [{ file: 'x', sha256: 'zz' }] } }),
        want: /"inputs.manifests"/,
      },
    ],
    [
      'a gateway that is a pf keyword',
      {
        edit: (f) => ({ ...f, options: { ...(f['options'] as object), gateway: 'self' } }),
        want: /"options.gateway": "self" is a word of pf's rule grammar/,
      },
    ],
    ['an anchor with a slash', { edit: (f) => ({ ...f, anchor: 'a/b' }), want: /"anchor"/ }],
    [
      'no paths',
      { edit: (f) => ({ ...f, options: { ...(f['options'] as object), paths: [] } }), want: /"options.paths"/ },
    ],
    [
      'an edited ruleset',
      {
        edit: (f) => ({ ...f, desired: { ...(f['desired'] as object), ruleset: 'pass all\n' } }),
        want: /does not match its own fingerprint: it was edited after pfexpose plan wrote it/,
      },
    ],
    ['no fingerprint', { edit: (f) => ({ ...f, deployed: { source: 'live' } }), want: /fingerprint/ }],
    [
      'a bad dialect',
      { edit: (f) => ({ ...f, options: { ...(f['options'] as object), dialect: 'linux' } }), want: /dialect/ },
    ],
  ];
  it.each(broken)('refuses %s', (_name, { edit, want }) => {
    const edited = edit(JSON.parse(saved()) as Record<string, unknown>);
    const got = readPlanFile(typeof edited === 'string' ? edited : JSON.stringify(edited));
    expect(got.ok).toBe(false);
    if (!got.ok) expect(got.message).toMatch(want);
  });

  it('fingerprints the normalized state: comments, -v counters, rule numbers and service names do not count', () => {
    const plain = 'rdr on em0 inet proto tcp from any to (em0) port = 8080 tag pfexpose -> 10.13.37.2 port 80\n';
    const verbose =
      '# header\n@0 rdr on em0 inet proto tcp from any to (em0) port = http-alt tag pfexpose -> 10.13.37.2 port 80\n  [ Evaluations: 1 Packets: 0 Bytes: 0 States: 0 ]\n';
    expect(fingerprintDeployedText(verbose)).toBe(fingerprintDeployedText(plain));
    expect(fingerprintDeployedText(plain, ['t'])).not.toBe(fingerprintDeployedText(plain));
    expect(fingerprintDeployedText(plain)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
