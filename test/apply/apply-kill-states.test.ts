// --kill-states ends only labels pfexpose itself wrote into its anchor (issue 9, M8): labels from
// the ruleset the state directory records pfexpose loading there, never a label the main ruleset or
// another anchor uses too (pfctl -k label is not anchor-scoped). Besides the labels a load removed,
// it ends those whose sources were narrowed (issue 10). Against the in-memory pf.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyRuleset, rollbackRuleset } from '../../src/apply/apply-ruleset.js';
import type { Pfctl } from '../../src/pf/pfctl-api.js';
import { parseAnchorList, printedLabels } from '../../src/pf/pfctl-output.js';
import type { Exposure } from '../../src/model/exposure.js';
import {
  ANCHOR,
  anchorLines,
  createBench,
  DB,
  exposure,
  expectKind,
  linesOf,
  request,
  ruleset,
  WEB,
  WEB_TLS,
  type Bench,
} from './apply-fixtures.js';

// Generous limits from the spawned-simulator days; the in-memory pf needs far less.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

let bench: Bench;
beforeEach(async () => {
  bench = await createBench();
});
afterEach(async () => {
  await bench.cleanup();
});

const HOOKS = 'rdr-anchor "pfexpose" all\nanchor "pfexpose" all\n';

async function kills(): Promise<string[]> {
  return (await bench.sim.calls()).filter((call) => call.argv[0] === '-k').map((call) => call.argv[3] ?? '');
}

describe('--kill-states', () => {
  it('ends the labels pfexpose loaded and the apply removed, after checking no one else uses them', async () => {
    expectKind(await applyRuleset(bench.deps, request([WEB, WEB_TLS, DB])), 'applied');
    const applied = expectKind(await applyRuleset(bench.deps, request([WEB], { killStates: true })), 'applied');
    expect(applied.killedLabels).toEqual([DB.label, WEB_TLS.label]);
    expect(await kills()).toEqual([DB.label, WEB_TLS.label]);
    // It looked at the main ruleset and the other anchors first.
    expect((await bench.sim.calls()).some((call) => call.argv.join(' ') === '-v -s Anchors')).toBe(true);
    expect(applied.warnings.filter((w) => w.includes('kill-states'))).toEqual([]);
  });

  it('never ends a label the main ruleset also uses, and says so', async () => {
    await bench.sim.writeMain(
      `${HOOKS}pass in quick on em0 inet proto tcp from any to any port = 5432 flags S/SA keep state label "${DB.label}"\n`,
    );
    expectKind(await applyRuleset(bench.deps, request([WEB, WEB_TLS, DB])), 'applied');
    const applied = expectKind(await applyRuleset(bench.deps, request([WEB], { killStates: true })), 'applied');
    expect(applied.killedLabels).toEqual([WEB_TLS.label]);
    expect(await kills()).toEqual([WEB_TLS.label]);
    expect(applied.warnings).toContainEqual(
      expect.stringContaining(
        `left the connections of label ${DB.label} open: the main ruleset or another anchor uses that label too`,
      ),
    );
    expect(await anchorLines(bench.sim)).toEqual(linesOf([WEB]));
  });

  it('never ends a label another anchor also uses', async () => {
    await bench.sim.writeMain(`${HOOKS}anchor "other" all\n`);
    await bench.sim.writeAnchor(
      'other',
      `pass in quick on em1 inet proto tcp from any to any port = 8443 flags S/SA keep state label "${WEB_TLS.label}"\n`,
    );
    expectKind(await applyRuleset(bench.deps, request([WEB, WEB_TLS, DB])), 'applied');
    const applied = expectKind(await applyRuleset(bench.deps, request([WEB], { killStates: true })), 'applied');
    expect(applied.killedLabels).toEqual([DB.label]);
    expect(await kills()).toEqual([DB.label]);
    expect(applied.warnings).toContainEqual(expect.stringContaining(`label ${WEB_TLS.label} open`));
  });

  it('never ends a label pfexpose did not write: a rule added to its anchor by hand', async () => {
    expectKind(await applyRuleset(bench.deps, request([WEB, WEB_TLS])), 'applied');
    // Someone adds a rule of pfexpose's own shape by hand, with a label of theirs.
    const SSH = exposure('ssh', 22, 22, 1);
    const handAdded = ruleset([SSH])
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    await bench.sim.writeAnchor(ANCHOR, `${(await bench.sim.readAnchor(ANCHOR)) ?? ''}${handAdded.join('\n')}\n`);
    const applied = expectKind(await applyRuleset(bench.deps, request([WEB], { killStates: true })), 'applied');
    expect(applied.killedLabels).toEqual([]);
    expect(await kills()).toEqual([]);
    expect(applied.warnings).toContainEqual(
      expect.stringContaining(
        '--kill-states ended no connections: what anchor "pfexpose" held is not a ruleset the state directory records pfexpose loading there',
      ),
    );
  });

  it('never ends the labels of what the anchor held before pfexpose first loaded it', async () => {
    await bench.sim.writeAnchor(ANCHOR, ruleset([WEB, DB]));
    const applied = expectKind(await applyRuleset(bench.deps, request([WEB], { killStates: true })), 'applied');
    expect(applied.killedLabels).toEqual([]);
    expect(await kills()).toEqual([]);
  });

  it('ends nothing when the labels outside the anchor cannot be read, or the adapter cannot list them', async () => {
    expectKind(await applyRuleset(bench.deps, request([WEB, DB])), 'applied');
    const failing: Pfctl = {
      ...bench.deps.pfctl,
      labelsOutside: () =>
        Promise.resolve({
          kind: 'failed',
          message: 'pfctl -v -s Anchors exited with status 1',
          exitCode: 1,
          stderr: '',
        }),
    };
    const applied = expectKind(
      await applyRuleset({ ...bench.deps, pfctl: failing }, request([WEB], { killStates: true })),
      'applied',
    );
    expect(applied.killedLabels).toEqual([]);
    expect(applied.warnings).toContainEqual(
      expect.stringContaining(`could not be read (pfctl -v -s Anchors exited with status 1)`),
    );
    expectKind(await applyRuleset(bench.deps, request([WEB, DB])), 'applied');
    // A Pfctl without labelsOutside (the method is optional: a test fake may lack it).
    const withoutLister: Pfctl = { ...bench.deps.pfctl };
    delete withoutLister.labelsOutside;
    const bare = expectKind(
      await applyRuleset({ ...bench.deps, pfctl: withoutLister }, request([WEB], { killStates: true })),
      'applied',
    );
    expect(bare.killedLabels).toEqual([]);
    expect(await kills()).toEqual([]);
  });

  // Narrowing `from` is the usual emergency change: pf keeps the states the wider rule made, so the
  // label's connections are ended (all of them: the clients still admitted reconnect).
  const narrowedTo = (base: Exposure, from: string[]): Exposure => ({ ...base, from });

  it('ends the labels whose sources were narrowed: any to a network, a list losing a network', async () => {
    const dbTwo = narrowedTo(DB, ['198.51.100.0/24', '203.0.113.0/24']);
    expectKind(await applyRuleset(bench.deps, request([WEB, WEB_TLS, dbTwo])), 'applied');
    const applied = expectKind(
      await applyRuleset(
        bench.deps,
        request([narrowedTo(WEB, ['203.0.113.0/24']), WEB_TLS, narrowedTo(DB, ['203.0.113.0/24'])], {
          killStates: true,
        }),
      ),
      'applied',
    );
    expect(applied.killedLabels).toEqual([DB.label, WEB.label]);
    expect(await kills()).toEqual([DB.label, WEB.label]);
    // The narrowed rules are loaded, with their labels kept.
    expect(await anchorLines(bench.sim)).toEqual(
      linesOf([narrowedTo(WEB, ['203.0.113.0/24']), WEB_TLS, narrowedTo(DB, ['203.0.113.0/24'])]),
    );
  });

  it('ends nothing when sources were widened or left as they were', async () => {
    expectKind(
      await applyRuleset(
        bench.deps,
        request([narrowedTo(WEB, ['203.0.113.0/25']), narrowedTo(DB, ['203.0.113.0/24']), WEB_TLS]),
      ),
      'applied',
    );
    // /25 -> /24 and a network -> any widen; WEB_TLS is unchanged.
    const applied = expectKind(
      await applyRuleset(bench.deps, request([narrowedTo(WEB, ['203.0.113.0/24']), DB, WEB_TLS], { killStates: true })),
      'applied',
    );
    expect(applied.killedLabels).toEqual([]);
    expect(await kills()).toEqual([]);
    // A list that gains a network widens too.
    const more = expectKind(
      await applyRuleset(
        bench.deps,
        request([narrowedTo(WEB, ['198.51.100.0/24', '203.0.113.0/24']), DB, WEB_TLS], { killStates: true }),
      ),
      'applied',
    );
    expect(more.killedLabels).toEqual([]);
    expect(await kills()).toEqual([]);
  });

  it('ends removed and narrowed labels in one apply, and never a narrowed label something else uses', async () => {
    await bench.sim.writeMain(
      `${HOOKS}pass in quick on em0 inet proto tcp from any to any port = 8443 flags S/SA keep state label "${WEB_TLS.label}"\n`,
    );
    expectKind(await applyRuleset(bench.deps, request([WEB, WEB_TLS, DB])), 'applied');
    const applied = expectKind(
      await applyRuleset(
        bench.deps,
        request([narrowedTo(WEB, ['192.0.2.0/24']), narrowedTo(WEB_TLS, ['192.0.2.0/24'])], { killStates: true }),
      ),
      'applied',
    );
    // DB removed, WEB narrowed; WEB_TLS narrowed but shared with the main ruleset: left open.
    expect(applied.killedLabels).toEqual([DB.label, WEB.label]);
    expect(await kills()).toEqual([DB.label, WEB.label]);
    expect(applied.warnings).toContainEqual(
      expect.stringContaining(
        `left the connections of label ${WEB_TLS.label} open: the main ruleset or another anchor uses that label too`,
      ),
    );
  });

  it('a narrowing without --kill-states ends nothing', async () => {
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    const applied = expectKind(await applyRuleset(bench.deps, request([narrowedTo(WEB, ['192.0.2.0/24'])])), 'applied');
    expect(applied.killedLabels).toEqual([]);
    expect(await kills()).toEqual([]);
  });

  it('rollback ends the labels of the ruleset it takes out, which pfexpose loaded', async () => {
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    expectKind(await applyRuleset(bench.deps, request([WEB, DB])), 'applied');
    const back = expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR, killStates: true }), 'applied');
    expect(back.killedLabels).toEqual([DB.label]);
    expect(await kills()).toEqual([DB.label]);
  });

  it('rollback ends the labels whose sources it narrows back', async () => {
    expectKind(await applyRuleset(bench.deps, request([narrowedTo(WEB, ['192.0.2.0/24'])])), 'applied');
    expectKind(await applyRuleset(bench.deps, request([WEB])), 'applied');
    const back = expectKind(await rollbackRuleset(bench.deps, { anchor: ANCHOR, killStates: true }), 'applied');
    expect(back.killedLabels).toEqual([WEB.label]);
    expect(await kills()).toEqual([WEB.label]);
  });
});

describe('labelsOutside (pfctl adapter)', () => {
  it('reads the main ruleset and every other anchor, not the one asked about', async () => {
    await bench.sim.writeMain(
      `${HOOKS}anchor "other" all\npass in quick proto tcp from any to any port = 22 flags S/SA keep state label "main-ssh"\n`,
    );
    await bench.sim.writeAnchor(
      'other',
      'pass in quick proto tcp from any to any port = 25 flags S/SA keep state label "other-smtp"\n',
    );
    await bench.sim.writeAnchor(
      'third',
      'pass in quick proto tcp from any to any port = 53 flags S/SA keep state label "third-dns"\n',
    );
    await bench.sim.writeAnchor(
      ANCHOR,
      'pass in quick proto tcp from any to any port = 80 flags S/SA keep state label "mine"\n',
    );
    const pfctl = bench.sim.pfctl();
    expect(await pfctl.labelsOutside?.(ANCHOR)).toEqual({
      kind: 'ok',
      labels: ['main-ssh', 'other-smtp', 'third-dns'],
      anchors: 2,
    });
  });

  it('parses printed labels and anchor lists', () => {
    expect(
      printedLabels('pass in all label "a b" tagged x\nblock label "q\\"uote"\n# label "c"\npass label"x"\n'),
    ).toEqual(['a b', 'q"uote', 'c']);
    expect(parseAnchorList('  pfexpose\n  other\n  other/sub\n\n')).toEqual(['pfexpose', 'other', 'other/sub']);
  });
});
