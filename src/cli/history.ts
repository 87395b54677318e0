// `pfexpose history`: the state directory's records, newest first: the id `rollback --to` takes,
// when, which action (apply, rollback, confirm-revert, initial), the manifest digest and the
// exposures each entry added and removed. Reads only: no lock, no directory created.
import { resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { resolveStateDir, StateDir } from '../apply/state-dir.js';
import { summarizeHistory, type HistoryItem } from '../apply/history-summary.js';
import { validateAnchorName } from '../pf/pfctl-output.js';
import { errorMessage, short } from '../apply/apply-helpers.js';
import type { CliContext } from './context.js';
import { reportFailure, reportUsage, reportWarning } from './report-diagnostics.js';
import { setJsonPayload, withJsonReport } from './json-envelope.js';

interface HistoryFlags {
  stateDir?: string;
  anchor?: string;
  format: 'text' | 'json';
}

export function registerHistory(program: Command, ctx: CliContext): void {
  program
    .command('history')
    .description('list the rulesets the state directory records (ids for rollback --to), newest first')
    .option(
      '--state-dir <dir>',
      'where the applied rulesets are kept (default: $PFEXPOSE_STATE_DIR, else /var/db/pfexpose)',
    )
    .option('--anchor <name>', "only this anchor's entries (default: every anchor's)")
    .addOption(
      new Option(
        '--format <format>',
        'text: a block per entry; json: one object, the envelope {formatVersion, command, diagnostics} then entries',
      )
        .choices(['text', 'json'])
        .default('text'),
    )
    .addHelpText(
      'after',
      [
        '',
        'Exit codes:',
        '  0  listed (an empty or absent history lists nothing)',
        '  1  the state directory cannot be trusted or read (said why); damaged entries are listed on stderr',
        '  2  usage error',
        '',
      ].join('\n'),
    )
    .action(async (flags: HistoryFlags) => {
      await withJsonReport(ctx, 'history', flags.format === 'json', () => runHistory(flags, ctx));
    });
}

async function runHistory(flags: HistoryFlags, ctx: CliContext): Promise<void> {
  if (flags.anchor !== undefined) {
    const name = validateAnchorName(flags.anchor);
    if (!name.ok) return reportUsage(ctx, `--anchor: ${name.message}`);
  }
  const state = new StateDir(resolve(ctx.cwd, resolveStateDir(flags.stateDir, ctx.env)));
  let read;
  try {
    read = await state.readHistory();
  } catch (error) {
    return reportFailure(ctx, `cannot read the history: ${errorMessage(error)}`);
  }
  for (const damaged of read.corrupt) reportWarning(ctx, damaged.message);
  const items = summarizeHistory(read.entries).filter(
    (item) => flags.anchor === undefined || item.anchor === flags.anchor,
  );
  if (ctx.json !== undefined) {
    setJsonPayload(ctx, { entries: items });
  } else {
    ctx.stdout.write(formatHistoryText(items));
  }
  ctx.exitCode = 0;
}

/** One block per entry: a heading line, then the exposures it added (+) and removed (-). */
export function formatHistoryText(items: readonly HistoryItem[]): string {
  if (items.length === 0) return 'no history: nothing was applied with this state directory\n';
  const lines: string[] = [];
  for (const item of items) {
    const count = item.exposures === 1 ? '1 exposure' : `${item.exposures} exposures`;
    const digest = item.manifestDigest === '' ? 'manifests unknown' : `manifests ${short(item.manifestDigest)}`;
    lines.push(`${item.id}  ${item.time}  ${item.action}  anchor "${item.anchor}"  ${count}  ${digest}`);
    if (item.changes === null) lines.push('    (changes unknown: the entry before it is no longer in the history)');
    else {
      for (const label of item.changes.added) lines.push(`    + ${label}`);
      for (const label of item.changes.removed) lines.push(`    - ${label}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
