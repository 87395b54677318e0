// Which pfctl runs each operation of the Pfctl interface takes, in what order, and what their
// answers mean together (and how long a busy pf is retried). The runs themselves are functions the
// adapter gives (src/host/pfctl.ts), so this stays free of I/O and the adapter only runs pfctl.
import { parseAnchorList, parseTableList, printedLabels, validateAnchorName } from './pfctl-output.js';
import {
  asPlainFailure,
  readStatus,
  type AnchorShowFailure,
  type AnchorShowResult,
  type LabelsOutsideResult,
  type LoadResult,
  type MainRulesetResult,
} from './pfctl-api.js';

/** One `pfctl -s ...` run: its stdout, or why it cannot be trusted (see readShowRun). */
export type ShowRun = (args: string[]) => Promise<{ kind: 'ok'; stdout: string } | AnchorShowFailure>;

/** More anchors than this and labelsOutside gives up (a failure): --kill-states then ends nothing. */
export const MAX_ANCHORS_SCANNED = 512;

export async function readPfStatus(show: ShowRun): Promise<{ kind: 'ok'; enabled: boolean } | AnchorShowFailure> {
  const answer = await show(['-s', 'info']);
  return answer.kind === 'ok' ? readStatus(answer.stdout) : answer;
}

/** The main ruleset: `-sn`, then `-sr`. */
export async function readMainRuleset(show: ShowRun): Promise<MainRulesetResult> {
  const nat = await show(['-sn']);
  if (nat.kind !== 'ok') return asPlainFailure(nat);
  const filter = await show(['-sr']);
  if (filter.kind !== 'ok') return asPlainFailure(filter);
  return { kind: 'ok', nat: nat.stdout, filter: filter.stdout };
}

/** An anchor as pf holds it: pf must be enabled, then its translation and filter rules and its tables. */
export async function readAnchorRules(show: ShowRun, anchor: string): Promise<AnchorShowResult> {
  const name = validateAnchorName(anchor);
  if (!name.ok) return { kind: 'invalid-name', message: name.message };
  const state = await readPfStatus(show);
  if (state.kind !== 'ok') return state;
  if (!state.enabled) {
    return {
      kind: 'pf-disabled',
      message: 'pf is disabled (pfctl -s info says "Status: Disabled"); enable it with pfctl -e',
    };
  }
  const nat = await show(['-a', anchor, '-P', '-sn']);
  if (nat.kind !== 'ok') return nat;
  const filter = await show(['-a', anchor, '-P', '-sr']);
  if (filter.kind !== 'ok') return filter;
  const tables = await show(['-a', anchor, '-s', 'Tables']);
  if (tables.kind !== 'ok') return tables;
  return { kind: 'ok', nat: nat.stdout, filter: filter.stdout, tables: parseTableList(tables.stdout) };
}

/** Every label used outside `anchor`: the main ruleset's, then every other anchor's (see Pfctl.labelsOutside). */
export async function readLabelsOutside(show: ShowRun, anchor: string): Promise<LabelsOutsideResult> {
  const labels = new Set<string>();
  const main = await readMainRuleset(show);
  if (main.kind !== 'ok') return main;
  for (const label of printedLabels(`${main.nat}\n${main.filter}`)) labels.add(label);
  const listed = await show(['-v', '-s', 'Anchors']);
  if (listed.kind !== 'ok') return asPlainFailure(listed);
  const others = parseAnchorList(listed.stdout).filter((path) => path !== anchor);
  if (others.length > MAX_ANCHORS_SCANNED) {
    return {
      kind: 'failed',
      message: `pf holds ${others.length} other anchors, more than the ${MAX_ANCHORS_SCANNED} pfexpose reads to check its labels are its own`,
      exitCode: 0,
      stderr: '',
    };
  }
  for (const path of others) {
    for (const which of ['-sn', '-sr']) {
      const shown = await show(['-a', path, which]);
      // An anchor removed since it was listed holds no label any more.
      if (shown.kind === 'anchor-missing') continue;
      if (shown.kind !== 'ok') return asPlainFailure(shown);
      for (const label of printedLabels(shown.stdout)) labels.add(label);
    }
  }
  return { kind: 'ok', labels: [...labels].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), anchors: others.length };
}

/**
 * A load (or dry run) retried while pf answers EBUSY: up to `attempts` runs, waiting `delayMs` before
 * the second and twice as long before each next one.
 */
export async function loadWhileBusy(
  loadOnce: () => Promise<LoadResult | 'busy'>,
  retry: { attempts: number; delayMs: number; sleep: (ms: number) => Promise<void> },
): Promise<LoadResult> {
  for (let attempt = 1; ; attempt += 1) {
    const outcome = await loadOnce();
    if (outcome !== 'busy') {
      return outcome.kind === 'ok' || outcome.kind === 'rejected' ? { ...outcome, attempts: attempt } : outcome;
    }
    if (attempt >= retry.attempts) {
      return {
        kind: 'busy',
        attempts: attempt,
        message: `pf stayed busy (EBUSY) through ${attempt} attempts; nothing was loaded, try again`,
      };
    }
    await retry.sleep(retry.delayMs * 2 ** (attempt - 1));
  }
}
