// The apply core against the in-memory pf under the real adapter: the ordinary paths, the refusals
// that leave pf untouched, saved plans and --kill-states.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyRuleset } from '../../src/apply/apply-ruleset.js';
import { readDeployed } from '../../src/apply/read-deployed.js';
import { normalizedLines } from '../../src/pf/rule-lines.js';
import { StateDirMutex } from '../../src/host/state-dir-mutex.js';
import {
  ANCHOR,
  anchorLines,
  createBench,
  DB,
  expectKind,
  linesOf,
  request,
  ruleset,
  WEB,
  WEB_TLS,
  type Bench,
} from './apply-fixtures.js';

let bench: Bench;
beforeEach(async () => {
  bench = await createBench();
});
afterEach(async () => {
  await bench.cleanup();
});

describe('apply', () => {
  it('loads an empty anchor, reads it back and records the state; the second time loads nothing', async () => {
    const applied = expectKind(await applyRuleset(bench.deps, request([WEB, DB])), 'applied');
    expect(applied).toMatchObject({ attempts: 1, previous: '', removed: [], killedLabels: [] });
    expect(applied.added).toEqual(linesOf([WEB, DB]));
    expect(await bench.sim.readAnchor(ANCHOR)).toBe(ruleset([WEB, DB]));
    const deployed = await readDeployed(bench.deps.pfctl, ANCHOR);
    expect(deployed.kind === 'ok' && deployed.lines).toEqual(linesOf([WEB, DB]));
    const current = await bench.deps.state.readCurrent();
    expect(current.kind === 'ok' && current.value).toMatchObject({
      anchor: ANCHOR,
      ruleset: ruleset([WEB, DB]),
      manifestDigest: 'digest-2',
    });
    expect(bench.deps.mutex.holder).toBeNull();

    const loads = (await bench.sim.loadCalls()).length;
    expect(loads).toBe(1);
    expectKind(await applyRuleset(bench.deps, request([WEB, DB])), 'unchanged');
    expect(await bench.sim.loadCalls()).toHaveLength(loads);
    // The apply, and before it what the anchor held (nothing), for rollback.
    expect((await bench.deps.state.readHistory()).entries.map((entry) => [entry.kind, entry.ruleset])).toEqual([
      ['apply', ruleset([WEB, DB])],
      ['initial', ''],
    ]);
  });

  it('records the state of an anchor that already holds the ruleset, loading nothing', async () => {
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'unchanged');
    expect(await bench.sim.loadCalls()).toHaveLength(0);
    const current = await bench.deps.state.readCurrent();
    expect(current.kind === 'ok' && current.value.ruleset).toBe(ruleset([WEB]));
  });

  it.each([
    ['no hook at all', 'pass all flags S/SA keep state\n', ['rdr-anchor "pfexpose"', 'anchor "pfexpose"']],
    ['the filter hook missing', 'rdr-anchor "pfexpose" all\n', ['anchor "pfexpose"']],
    [
      'another anchor hooked',
      'rdr-anchor "other" all\nanchor "other" all\n',
      ['rdr-anchor "pfexpose"', 'anchor "pfexpose"'],
    ],
  ])('refuses when /etc/pf.conf does not call the anchor (%s), naming the lines to add', async (_name, main, want) => {
    await bench.sim.writeMain(main);
    const refused = expectKind(await applyRuleset(bench.deps, request([WEB])), 'refused');
    expect(refused.linesToAdd).toEqual(want);
    expect(refused.reason).toContain('/etc/pf.conf');
    expect(refused.reason).toContain(want.map((line) => `  ${line}`).join('\n'));
    expect(await bench.sim.loadCalls()).toHaveLength(0);
  });

  it('refuses when pf is disabled', async () => {
    await bench.sim.setEnabled(false);
    const refused = expectKind(await applyRuleset(bench.deps, request([WEB])), 'refused');
    expect(refused.reason).toContain('pf is disabled');
    expect(await bench.sim.loadCalls()).toHaveLength(0);
  });

  it('maps a line pfctl rejects in the dry run to the manifest entry that made it', async () => {
    // A translation rule after the filter rules: pfctl answers "stdin:N: Rules must be in order".
    const lines = ruleset([WEB, DB])
      .split('\n')
      .filter((l) => l !== '');
    const at = lines.findIndex((l) => l.startsWith('rdr') && l.includes('5432'));
    const crafted = [...lines.slice(0, at), ...lines.slice(at + 1), lines[at], ''].join('\n');
    const refused = expectKind(
      await applyRuleset(bench.deps, request([WEB, DB], { ruleset: crafted, dialect: 'freebsd' })),
      'refused',
    );
    expect(refused.diagnostics.map((d) => [d.code, d.file, d.line, d.column])).toEqual([
      ['pfctl-rejected', 'manifests/db.yaml', 4, 9],
    ]);
    expect(refused.diagnostics[0]?.message).toContain('Rules must be in order');
    expect(refused.diagnostics[0]?.hint).toContain(`ruleset line ${lines.length}`);
    expect(await bench.sim.loadCalls()).toHaveLength(0);
    expect(await bench.sim.readAnchor(ANCHOR)).toBeUndefined();
  });

  it('refuses while another process holds the lock, naming its pid', async () => {
    const other = new StateDirMutex(bench.deps.state.mutexPath, { command: 'watch', isAlive: () => true });
    await bench.deps.state.ensure();
    expect((await other.acquire()).kind).toBe('acquired');
    const refused = expectKind(await applyRuleset(bench.deps, request([WEB])), 'refused');
    expect(refused.reason).toContain(`pid ${process.pid} (watch`);
    expect(await bench.sim.calls()).toHaveLength(0);
    await other.release();
  });

  it('keeps a lock its caller already held (the agent holds it for its life)', async () => {
    await bench.deps.state.ensure();
    expect((await bench.deps.mutex.acquire()).kind).toBe('acquired');
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    expect(bench.deps.mutex.holder).not.toBeNull();
    await bench.deps.mutex.release();
  });

  it('refuses a saved plan whose deployed state changed since, and applies it once it matches again', async () => {
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    const planned = await readDeployed(bench.deps.pfctl, ANCHOR);
    if (planned.kind !== 'ok') throw new Error(`read failed: ${planned.message}`);
    const fingerprint = bench.deps.fingerprint?.(planned) ?? '';
    expect(fingerprint).toMatch(/^sha256:/);
    await bench.sim.writeAnchor(ANCHOR, ruleset([DB]));
    const refused = expectKind(
      await applyRuleset(bench.deps, request([WEB, DB], { expectedFingerprint: fingerprint })),
      'refused',
    );
    expect(refused.reason).toContain('changed since the plan was made');
    // Both fingerprints with 12 hex digits, enough to tell them apart.
    expect(refused.reason).toMatch(/\(fingerprint sha256:[0-9a-f]{12}, now sha256:[0-9a-f]{12}\)/);
    expect(refused.reason).toContain(fingerprint.slice(0, 'sha256:'.length + 12));
    expect(await bench.sim.loadCalls()).toHaveLength(0);
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB]));
    expectKind(await applyRuleset(bench.deps, request([WEB, DB], { expectedFingerprint: fingerprint })), 'applied');
  });

  it('ends the connections of exactly the removed labels, and of none without killStates', async () => {
    expectKind(await applyRuleset(bench.deps, request([WEB, WEB_TLS, DB])), 'applied');
    expectKind(await applyRuleset(bench.deps, request([WEB, WEB_TLS])), 'applied');
    expect((await bench.sim.calls()).filter((c) => c.argv[0] === '-k')).toHaveLength(0);
    // (Labels pfexpose wrote itself: see apply-kill-states.test.ts for those it did not.)
    expectKind(await applyRuleset(bench.deps, request([WEB, WEB_TLS, DB])), 'applied');
    const applied = expectKind(await applyRuleset(bench.deps, request([WEB], { killStates: true })), 'applied');
    expect(applied.killedLabels).toEqual([DB.label, WEB_TLS.label]);
    const kills = (await bench.sim.calls()).filter((c) => c.argv[0] === '-k').map((c) => c.argv.join(' '));
    expect(kills).toEqual([`-k label -k ${DB.label}`, `-k label -k ${WEB_TLS.label}`]);
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
  });
});

describe("apply's fast path for the agent (assumeDeployed)", () => {
  it('loads without reading the anchor, the hooks or a dry run first, and still reads back', async () => {
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    const before = (await bench.sim.calls()).length;
    const applied = expectKind(
      await applyRuleset(bench.deps, request([WEB, DB], { assumeDeployed: ruleset([WEB]) })),
      'applied',
    );
    expect(applied.added).toEqual(linesOf([DB]));
    const calls = (await bench.sim.calls()).slice(before).map((c) => c.argv.join(' '));
    // The load comes first; what follows is the read-back of the anchor.
    expect(calls[0]).toMatch(/^-o none -a pfexpose -f \S+\/ruleset\.conf$/);
    expect(calls.filter((c) => c.includes(' -n '))).toEqual([]);
    expect(calls.filter((c) => c === '-sn' || c === '-sr')).toEqual([]);
    expect(await bench.sim.readAnchor(ANCHOR)).toBe(ruleset([WEB, DB]));
  });

  it('maps a load pfctl rejects to the manifest entry, and pf keeps what it held', async () => {
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    const lines = ruleset([WEB, DB])
      .split('\n')
      .filter((l) => l !== '');
    const at = lines.findIndex((l) => l.startsWith('rdr') && l.includes('5432'));
    const crafted = [...lines.slice(0, at), ...lines.slice(at + 1), lines[at], ''].join('\n');
    const refused = expectKind(
      await applyRuleset(
        bench.deps,
        request([WEB, DB], { ruleset: crafted, dialect: 'freebsd', assumeDeployed: ruleset([WEB]) }),
      ),
      'refused',
    );
    expect(refused.diagnostics.map((d) => [d.code, d.file, d.line])).toEqual([
      ['pfctl-rejected', 'manifests/db.yaml', 4],
    ]);
    expect(await bench.sim.readAnchor(ANCHOR)).toBe(ruleset([WEB]));
  });

  it('reports the state mark under the lock, and takes the full path once another process recorded a load', async () => {
    const first = expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    expect(first.stateMark).toBe(await bench.deps.state.mark());
    // Another pfexpose process (an operator's apply by hand) loads DB and records it.
    expectKind(await applyRuleset(bench.depsWith({}), request([DB])), 'applied');
    const before = (await bench.sim.calls()).length;
    const applied = expectKind(
      await applyRuleset(
        bench.deps,
        request([WEB, DB], { assumeDeployed: ruleset([WEB]), assumeStateMark: first.stateMark ?? '' }),
      ),
      'applied',
    );
    const calls = (await bench.sim.calls()).slice(before).map((c) => c.argv.join(' '));
    // The full path: the anchor read and the dry run before the load, and what was read is "previous".
    expect(calls.findIndex((c) => c.includes(' -n -f'))).toBeGreaterThan(calls.findIndex((c) => c.includes('-P -sn')));
    expect(calls.findIndex((c) => c.includes('-P -sn'))).toBeGreaterThanOrEqual(0);
    expect(applied.previous).toContain('port = 5432');
    expect(applied.removed).toEqual([]);
    expect(applied.added).toEqual(linesOf([WEB, DB]).filter((line) => !linesOf([DB]).includes(line)));
    // With the mark as the last apply left it, the fast path is taken again.
    const again = (await bench.sim.calls()).length;
    expectKind(
      await applyRuleset(
        bench.deps,
        request([WEB], { assumeDeployed: ruleset([WEB, DB]), assumeStateMark: applied.stateMark ?? '' }),
      ),
      'applied',
    );
    expect((await bench.sim.calls()).slice(again).filter((c) => c.argv.includes('-n'))).toEqual([]);
  });

  it('never loads anything after a load pfctl rejected, even when pf held something else than assumed', async () => {
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    // Behind pfexpose's back (nothing recorded), the anchor now holds WEB_TLS.
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB_TLS]));
    const lines = ruleset([WEB, DB])
      .split('\n')
      .filter((l) => l !== '');
    const at = lines.findIndex((l) => l.startsWith('rdr') && l.includes('5432'));
    const crafted = [...lines.slice(0, at), ...lines.slice(at + 1), lines[at], ''].join('\n');
    const loads = (await bench.sim.loadCalls()).length;
    const refused = expectKind(
      await applyRuleset(
        bench.deps,
        request([WEB, DB], { ruleset: crafted, dialect: 'freebsd', assumeDeployed: ruleset([WEB]) }),
      ),
      'refused',
    );
    expect(refused.reason).toContain('nothing was loaded');
    expect(await bench.sim.loadCalls()).toHaveLength(loads + 1);
    expect(await bench.sim.readAnchor(ANCHOR)).toBe(ruleset([WEB_TLS]));
  });

  it.each([
    // The new rules landed before pfctl died: the anchor read afterwards already holds them.
    ['after-commit' as const, 'unchanged' as const, 1],
    // Nothing landed: read, dry run and one more load, through the full path.
    ['before-commit' as const, 'applied' as const, 2],
  ])(
    'never puts back an assumed ruleset when the load dies %s: it reads the anchor and goes on through the full path',
    async (dieWhen, kind, loads) => {
      expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
      await bench.sim.writeAnchor(ANCHOR, ruleset([WEB_TLS]));
      await bench.sim.setControl({ dieLoads: 1, dieWhen });
      const before = (await bench.sim.loadCalls()).length;
      const outcome = expectKind(
        await applyRuleset(bench.deps, request([WEB, DB], { assumeDeployed: ruleset([WEB]) })),
        kind,
      );
      expect(outcome.warnings.join('\n')).toContain('the first load did not complete');
      expect(await bench.sim.loadCalls()).toHaveLength(before + loads);
      expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB, DB]));
      if (outcome.kind === 'applied') expect(normalizedLines(outcome.previous)).toEqual(linesOf([WEB_TLS]));
      const current = await bench.deps.state.readCurrent();
      expect(current.kind === 'ok' && current.value.ruleset).toBe(ruleset([WEB, DB]));
    },
  );

  it('a wrong assumption leaves no stale rule: the load replaces the whole anchor', async () => {
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB_TLS]));
    // The caller believes WEB is loaded while WEB_TLS is; the load replaces the anchor as a whole.
    const applied = expectKind(
      await applyRuleset(bench.deps, request([WEB, DB], { assumeDeployed: ruleset([WEB]) })),
      'applied',
    );
    expect(await bench.sim.readAnchor(ANCHOR)).toBe(ruleset([WEB, DB]));
    expect(applied.attempts).toBe(1);
  });
});
