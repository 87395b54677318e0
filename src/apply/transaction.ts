// The transaction itself: load, verify by reading the anchor back, restore what pf held on any
// doubt (or empty the anchor when that cannot be loaded either), and record the result.
import type { LoadResult, Pfctl } from '../pf/pfctl-api.js';
import { type DeployedAnchor, readDeployed } from './read-deployed.js';
import { linesDigest, normalizedLines, sameLines } from '../pf/rule-lines.js';
import { checkOwnRuleset, describeForeign } from '../pf/check-own-ruleset.js';
import type { HistoryKind, StateDir, UndoneRuleset } from './state-dir.js';
import type { ApplyOutcome, Attempt } from './apply-types.js';
import { errorMessage } from './apply-helpers.js';

type Loaded =
  | { kind: 'loaded'; attempts: number }
  | { kind: 'failed'; reason: string; restored: boolean }
  /** pfctl refused the text (syntax): its transaction was rolled back, nothing was loaded. */
  | { kind: 'rejected'; errors: { line: number; message: string }[]; message: string }
  /** Only without a previous read: the load may or may not have changed the anchor. */
  | { kind: 'unsettled'; reason: string };

/**
 * One load, then the anchor read back. A load pfctl rejected changed nothing (pf rolls the whole
 * transaction back), so nothing more is loaded. Anything else short of "loaded and reads back as
 * wanted" puts back what was read from the anchor before the load: a load that timed out or died
 * may or may not have committed. previous null: nothing was read before the load (the fast path),
 * so nothing is ever put back; the caller learns whether the load may have changed the anchor.
 */
export async function loadAndVerify(
  pfctl: Pfctl,
  anchor: string,
  text: string,
  wantLines: readonly string[],
  previous: { lines: readonly string[]; text: string } | null,
): Promise<Loaded> {
  const load = await pfctl.load(anchor, text);
  if (load.kind === 'rejected') return { kind: 'rejected', errors: load.errors, message: load.message };
  if (load.kind === 'ok') {
    const back = await readDeployed(pfctl, anchor);
    if (back.kind === 'ok' && sameLines(back.lines, wantLines)) return { kind: 'loaded', attempts: load.attempts };
    const why =
      back.kind === 'ok'
        ? `the anchor read back after the load differs from the ruleset (${describeDifference(back.lines, wantLines)})`
        : `the anchor could not be read back after the load: ${back.message}`;
    if (previous === null) {
      return {
        kind: 'failed',
        reason: `${why}; nothing was put back, as the anchor was not read before this load: check pfctl -a ${anchor} -sr`,
        restored: false,
      };
    }
    return restore(pfctl, anchor, previous, why);
  }
  if (previous === null) {
    // EBUSY on every attempt, or no pfctl to run: nothing was loaded, pf holds what it held.
    if (
      load.kind === 'busy' ||
      load.kind === 'not-found' ||
      load.kind === 'invalid-name' ||
      load.kind === 'not-started'
    ) {
      return { kind: 'failed', reason: `${describeLoadFailure(load)}; nothing was loaded`, restored: true };
    }
    return { kind: 'unsettled', reason: describeLoadFailure(load) };
  }
  return restore(pfctl, anchor, previous, describeLoadFailure(load));
}

/** applyDesired's result where it cannot be unsettled (not the fast path). */
export function settled(attempt: Attempt): ApplyOutcome {
  return attempt.kind === 'unsettled' ? { kind: 'failed', reason: attempt.reason, restored: false } : attempt;
}

async function restore(
  pfctl: Pfctl,
  anchor: string,
  previous: { lines: readonly string[]; text: string },
  why: string,
): Promise<Loaded> {
  const back = await readDeployed(pfctl, anchor);
  if (back.kind === 'ok' && sameLines(back.lines, previous.lines)) {
    return { kind: 'failed', reason: `${why}; pf still holds the previous ruleset`, restored: true };
  }
  // What is put back is what pf printed before the load: loaded again only when it is pfexpose's
  // own rules. Anything else (a hand edit, a truncated earlier load, a pfctl printing garbage) is
  // never loaded by pfexpose: the anchor is emptied instead, which passes nothing (fails closed).
  const own = checkOwnRuleset(previous.text, anchor);
  if (!own.ok) return emptyAnchor(pfctl, anchor, why, describeForeign(own.foreign));
  const again = await pfctl.load(anchor, previous.text);
  const after = await readDeployed(pfctl, anchor);
  if (after.kind === 'ok' && sameLines(after.lines, previous.lines)) {
    return { kind: 'failed', reason: `${why}; the previous ruleset was loaded again`, restored: true };
  }
  const how = again.kind === 'ok' ? 'it reads back differently' : again.message;
  return {
    kind: 'failed',
    reason: `${why}; putting the previous ruleset back failed too (${how}): check pfctl -a ${anchor} -sr and apply again`,
    restored: false,
  };
}

/** restore()'s answer when what the anchor held before is not pfexpose's own: the empty ruleset. */
async function emptyAnchor(pfctl: Pfctl, anchor: string, why: string, foreign: string): Promise<Loaded> {
  const notPutBack = `the anchor held rules pfexpose did not write before this load (${foreign}), which it does not load back`;
  const emptied = await pfctl.load(anchor, '');
  const after = await readDeployed(pfctl, anchor);
  if (after.kind === 'ok' && after.lines.length === 0) {
    return {
      kind: 'failed',
      reason: `${why}; ${notPutBack}: the anchor was emptied instead and passes nothing; apply again`,
      restored: false,
    };
  }
  const how = emptied.kind === 'ok' ? 'it does not read back empty' : emptied.message;
  return {
    kind: 'failed',
    reason: `${why}; ${notPutBack}, and emptying the anchor failed too (${how}): check pfctl -a ${anchor} -sr and empty it by hand (pfctl -a ${anchor} -F all)`,
    restored: false,
  };
}

function describeLoadFailure(load: Exclude<LoadResult, { kind: 'ok' }>): string {
  switch (load.kind) {
    case 'rejected':
      return `pfctl refused the load: ${load.message}`;
    case 'busy':
      return load.message;
    case 'timed-out':
      return `the load did not finish: ${load.message}`;
    default:
      return `the load failed: ${load.message}`;
  }
}

function describeDifference(actual: readonly string[], wanted: readonly string[]): string {
  const { added, removed } = lineChanges(actual, wanted);
  const first = removed[0] ?? added[0];
  return `${added.length} line(s) missing, ${removed.length} unexpected${first === undefined ? '' : `, e.g. ${JSON.stringify(first)}`}`;
}

/** Lines only the desired side has (added) and only the deployed side has (removed), in order. */
export function lineChanges(
  deployed: readonly string[],
  desired: readonly string[],
): { added: string[]; removed: string[] } {
  const have = new Set(deployed);
  const want = new Set(desired);
  return { added: desired.filter((line) => !have.has(line)), removed: deployed.filter((line) => !want.has(line)) };
}

/** What loading over `deployed` takes out of the anchor, as the history should remember it. */
export async function undoneBy(state: StateDir, anchor: string, deployed: DeployedAnchor): Promise<UndoneRuleset> {
  const current = await state.readCurrent();
  const known =
    current.kind === 'ok' &&
    current.value.anchor === anchor &&
    sameLines(normalizedLines(current.value.ruleset), deployed.lines);
  return { manifestDigest: known ? current.value.manifestDigest : '', linesDigest: linesDigest(deployed.lines) };
}

/** Records a load: null when recorded, else what went wrong (for the caller's message). */
export async function record(
  state: StateDir,
  input: { anchor: string; ruleset: string; manifestDigest: string; kind?: HistoryKind; undone?: UndoneRuleset },
): Promise<string | null> {
  try {
    await state.recordApplied(input);
    return null;
  } catch (error) {
    return `recording it in ${state.path} failed: ${errorMessage(error)}`;
  }
}
