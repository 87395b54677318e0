// checkPlanInputs: a saved plan is loaded only when its recorded manifests, compiled again, give
// exactly its ruleset; a refusal tells a stale plan (its inputs moved) from a tampered one.
import { describe, expect, it } from 'vitest';
import { renderRuleset } from '../../src/pf/render-ruleset.js';
import { deployedFromText, desiredState, planChanges } from '../../src/plan/plan-changes.js';
import {
  checkPlanInputs,
  createPlanFile,
  digestManifestTexts,
  fingerprintDeployedText,
  readPlanFile,
  serializePlanFile,
  sha256Hex,
  type PlanFile,
  type PlanInputs,
} from '../../src/plan/plan-file.js';
import { exposure } from './exposure-fixture.js';

const ruleset = renderRuleset([exposure()], { dialect: 'freebsd', anchor: 'pfexpose' });
const WEB = 'version: 1\ncontainers: {}\n';
const INPUTS: PlanInputs = {
  manifests: digestManifestTexts(
    new Map([
      ['web.yaml', WEB],
      ['db.yaml', 'version: 1\n'],
    ]),
  ),
  lock: { path: 'pfexpose.lock.json', sha256: sha256Hex('{}\n') },
  pfexpose: '0.1.0',
};

function planFile(): PlanFile {
  const plan = planChanges(desiredState([exposure()], ruleset), deployedFromText(''));
  const text = serializePlanFile(
    createPlanFile({
      plan,
      anchor: 'pfexpose',
      options: {
        dialect: 'freebsd',
        host: null,
        gateway: 'em0',
        pool: null,
        frozen: false,
        lock: 'pfexpose.lock.json',
        paths: ['.'],
      },
      inputs: INPUTS,
      manifestDigest: 'abc',
      deployed: { kind: 'live', anchor: 'pfexpose' },
      deployedFingerprint: fingerprintDeployedText(''),
      ruleset,
    }),
  );
  const read = readPlanFile(text);
  if (!read.ok) throw new Error(read.message);
  return read.plan;
}

/** The plan's rules replaced, and its fingerprint recomputed to match, as an attacker would. */
function tampered(newRuleset: string): PlanFile {
  const plan = planFile();
  const edited = { ...plan, desired: { ruleset: newRuleset, fingerprint: fingerprintDeployedText(newRuleset) } };
  const read = readPlanFile(JSON.stringify(edited));
  if (!read.ok) throw new Error(`the edited plan should read: ${read.message}`);
  return read.plan;
}

describe('digestManifestTexts', () => {
  it('lists every file in code-unit order with the sha256 of its text', () => {
    expect(
      digestManifestTexts(
        new Map([
          ['b.yaml', 'x'],
          ['a.yaml', ''],
        ]),
      ),
    ).toEqual([
      { file: 'a.yaml', sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
      { file: 'b.yaml', sha256: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881' },
    ]);
  });
});

describe('checkPlanInputs', () => {
  it('accepts a plan whose unchanged inputs compile to its ruleset', () => {
    expect(checkPlanInputs(planFile(), { ok: true, ruleset, inputs: INPUTS })).toEqual({ kind: 'ok', note: null });
  });

  it('accepts, with a note, inputs that changed but still give the same ruleset', () => {
    const inputs = {
      ...INPUTS,
      manifests: digestManifestTexts(
        new Map([
          ['web.yaml', `${WEB}# a comment\n`],
          ['db.yaml', 'version: 1\n'],
        ]),
      ),
    };
    const got = checkPlanInputs(planFile(), { ok: true, ruleset, inputs });
    expect(got).toMatchObject({
      kind: 'ok',
      note: expect.stringMatching(/changed: "web.yaml".*still compile to its ruleset/) as unknown,
    });
  });

  it('refuses as tampered a plan whose rules were edited to pass in quick all and re-fingerprinted', () => {
    const got = checkPlanInputs(tampered('pass in quick all\n'), { ok: true, ruleset, inputs: INPUTS });
    expect(got.kind).toBe('tampered');
    if (got.kind !== 'tampered') return;
    expect(got.message).toContain('the plan does not match its own inputs');
    expect(got.message).toContain('line 1: the plan has "pass in quick all" where the manifests give');
    expect(got.message).toContain('make a new plan with pfexpose plan -o FILE');
  });

  it('refuses as tampered a plan whose recorded options no longer compile its unchanged manifests', () => {
    const got = checkPlanInputs(planFile(), { ok: false, ruleset: '', inputs: INPUTS });
    expect(got).toMatchObject({
      kind: 'tampered',
      message: expect.stringMatching(/do not compile with the options the plan records/) as unknown,
    });
  });

  it.each<[string, PlanInputs, RegExp]>([
    [
      'a changed manifest',
      {
        ...INPUTS,
        manifests: digestManifestTexts(
          new Map([
            ['web.yaml', 'other'],
            ['db.yaml', 'version: 1\n'],
          ]),
        ),
      },
      /changed: "web.yaml"/,
    ],
    [
      'a new manifest',
      { ...INPUTS, manifests: [...INPUTS.manifests, { file: 'new.yaml', sha256: sha256Hex('') }] },
      /new: "new.yaml"/,
    ],
    [
      'a removed manifest',
      { ...INPUTS, manifests: INPUTS.manifests.filter((m) => m.file !== 'db.yaml') },
      /gone or unreadable: "db.yaml"/,
    ],
    [
      'a changed lock file',
      { ...INPUTS, lock: { path: 'pfexpose.lock.json', sha256: sha256Hex('{"x":1}') } },
      /the lock file "pfexpose.lock.json" changed/,
    ],
    [
      'a removed lock file',
      { ...INPUTS, lock: { path: 'pfexpose.lock.json', sha256: null } },
      /the lock file "pfexpose.lock.json" is gone/,
    ],
    ['another pfexpose', { ...INPUTS, pfexpose: '0.2.0' }, /made by pfexpose "0.1.0", this is "0.2.0"/],
  ])('refuses as stale a plan whose inputs moved: %s', (_name, inputs, why) => {
    const other = renderRuleset([exposure({ hostPort: { start: 9999, end: 9999 } })], {
      dialect: 'freebsd',
      anchor: 'pfexpose',
    });
    const got = checkPlanInputs(planFile(), { ok: true, ruleset: other, inputs });
    expect(got.kind).toBe('stale');
    if (got.kind !== 'stale') return;
    expect(got.message).toMatch(why);
    expect(got.message).toMatch(
      /no longer compile to the plan's ruleset; nothing was applied: run pfexpose plan -o FILE again/,
    );
  });

  it('a stale plan is stale even when its rules were also edited: its inputs moved first', () => {
    const inputs = { ...INPUTS, lock: { path: 'pfexpose.lock.json', sha256: null } };
    expect(checkPlanInputs(tampered('pass in quick all\n'), { ok: true, ruleset, inputs }).kind).toBe('stale');
  });

  it('stale manifests that no longer compile say so', () => {
    const inputs = { ...INPUTS, manifests: [] };
    expect(checkPlanInputs(planFile(), { ok: false, ruleset: '', inputs })).toMatchObject({
      kind: 'stale',
      message: expect.stringMatching(/no longer compile \(pfexpose plan shows why\)/) as unknown,
    });
  });
});
