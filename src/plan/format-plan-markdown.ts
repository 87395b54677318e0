// The plan as one pull-request comment: a marker line to find the comment again, a summary line,
// a table of exposure changes with their flags, unmanaged rules and tables, and the ruleset diff
// folded away. The whole comment stays within GitHub's size limit: parts that do not fit are cut,
// saying how much was left out and where the whole plan is.
import { containerSideText, hostSideText, sourcesText } from './describe-exposure.js';
import { belongsToAny, riskyExposures, summaryText } from './format-plan-text.js';
import type { DeployedExposure, ExposureChange, Plan, PlanFlagCode, UnmanagedRule } from './plan.js';
import { REACH_SIGN, reachText } from './reach-changes.js';

/** The hidden first line of the comment; the CI workflow updates the comment that carries it. */
export const PLAN_COMMENT_MARKER = '<!-- pfexpose-plan -->';

/** GitHub refuses comments over 65,536 characters; this leaves room to spare. */
export const DEFAULT_MAX_LENGTH = 60_000;

export interface PlanMarkdownOptions {
  against: string;
  /** The longest comment to write, in UTF-16 code units (never fewer than GitHub's characters). */
  maxLength?: number;
  /** Where the whole plan can be read when the comment is cut (e.g. the workflow run's log). */
  fullPlanUrl?: string;
}

export const flagText: Record<PlanFlagCode, string> = {
  'open-to-all': 'open to any source',
  'sources-widened': 'sources widened',
  'ipv6-exposed': 'IPv6 newly exposed',
  'privileged-port': 'privileged port',
  'dynamic-port-moved': 'dynamic port moved',
  'container-changed': 'container changed',
  'protocol-changed': 'protocol changed',
};

/** Reach changes listed in a comment; the rest are counted (a link change is rarely more than a few). */
const MAX_REACH_LINES = 50;

const TABLE_HEADER = [
  '| Change | Container | Host side | Container side | Protocol | Sources | Flags | Manifest |',
  '|---|---|---|---|---|---|---|---|',
];

/** Shares of what is left after the summary, when not everything fits; unused room is passed on. */
const SHARES = { table: 0.55, unmanaged: 0.15, diff: 0.3 } as const;

export function formatPlanMarkdown(plan: Plan, options: PlanMarkdownOptions): string {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  const pointer = fullPlanPointer(options.fullPlanUrl);
  const head: string[] = [PLAN_COMMENT_MARKER, '### pfexpose plan', ''];
  const flagged = plan.exposures.filter((c) => c.flags.length > 0).length;
  head.push(
    plan.summary.changes
      ? `${flagged > 0 ? ':warning: ' : ''}**${summaryText(plan)}** (against ${escapeCell(options.against)})`
      : `**No changes**: the deployed state (${escapeCell(options.against)}) matches the manifests.`,
  );

  if (plan.reaches.length > 0) {
    head.push('', '#### Links and network reaches', '');
    for (const change of plan.reaches.slice(0, MAX_REACH_LINES)) {
      const flags = change.flags.map((f) => ` :warning: ${escapeCell(f.message)}`).join('');
      head.push(`- \`${REACH_SIGN[change.kind]}\` ${escapeCell(reachText(change))}${flags}`);
    }
    if (plan.reaches.length > MAX_REACH_LINES)
      head.push(`- … and ${plan.reaches.length - MAX_REACH_LINES} more (see the full plan)`);
  }
  const rows = plan.exposures.map(tableRow);
  const sections = {
    table: (budget: number): string[] => tableSection(plan.exposures, rows, budget, pointer),
    unmanaged: (budget: number): string[] => unmanagedSection(plan.unmanaged, budget, pointer),
    diff: (budget: number): string[] => diffSection(plan, budget, pointer),
  };
  const budgets = allocate(Math.max(0, maxLength - size(head)), sections);
  const lines = [
    ...head,
    ...sections.table(budgets.table),
    ...sections.unmanaged(budgets.unmanaged),
    ...sections.diff(budgets.diff),
  ];
  return lines.map((line) => `${line}\n`).join('');
}

type Part = keyof typeof SHARES;
const PARTS: readonly Part[] = ['table', 'unmanaged', 'diff'];

/**
 * Shares the room among the sections: all they want when it fits; otherwise first what each needs
 * to say what it left out (in order of importance), then the rest by SHARES, unused room passed on.
 */
function allocate(room: number, sections: Record<Part, (budget: number) => string[]>): Record<Part, number> {
  const wants = { table: 0, unmanaged: 0, diff: 0 };
  for (const part of PARTS) wants[part] = size(sections[part](Infinity));
  if (wants.table + wants.unmanaged + wants.diff <= room) return wants;
  const budgets = { table: 0, unmanaged: 0, diff: 0 };
  let spare = room;
  for (const part of PARTS) {
    // The smallest budget at which the section still says something (at least its notice).
    const least = Math.min(wants[part], smallestUseful(sections[part], wants[part]));
    if (least > spare) continue;
    budgets[part] = least;
    spare -= least;
  }
  const shared = spare;
  for (const part of PARTS) {
    const more = Math.min(wants[part] - budgets[part], Math.floor(shared * SHARES[part]), spare);
    budgets[part] += more;
    spare -= more;
  }
  for (const part of PARTS) {
    const more = Math.min(wants[part] - budgets[part], spare);
    budgets[part] += more;
    spare -= more;
  }
  return budgets;
}

/** The least budget at which a section writes anything, found by bisection (sections grow with it). */
function smallestUseful(section: (budget: number) => string[], want: number): number {
  let low = 0;
  let high = want;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (section(middle).length > 0) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Length of lines as written: each ends with a newline. */
function size(lines: readonly string[]): number {
  let total = 0;
  for (const line of lines) total += line.length + 1;
  return total;
}

function fullPlanPointer(url: string | undefined): string {
  return url === undefined
    ? 'run `pfexpose plan` for the whole plan'
    : `the whole plan is in [the log of this workflow run](${url}), or run \`pfexpose plan\``;
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * The table of exposure changes, within budget. When not every row fits, flagged rows are kept
 * first (a reviewer must not miss them), the rows kept stay in the plan's order, and a line says
 * how many were left out.
 */
function tableSection(
  changes: readonly ExposureChange[],
  rows: readonly string[],
  budget: number,
  pointer: string,
): string[] {
  if (changes.length === 0) return [];
  const full = ['', ...TABLE_HEADER, ...rows];
  if (size(full) <= budget) return full;

  const leftOut = (omitted: number, omittedFlagged: number): string[] => [
    '',
    `:warning: **${omitted} of ${plural(changes.length, 'exposure change', 'exposure changes')} not shown${omittedFlagged > 0 ? ` (${omittedFlagged} of them flagged)` : ''}**: the comment would exceed GitHub's size limit; ${pointer}.`,
  ];
  // The notice at its longest (every change left out, every one flagged) bounds the room it needs.
  const noticeRoom = size(leftOut(changes.length, changes.length));
  let used = size(['', ...TABLE_HEADER]) + noticeRoom;
  const keep = new Set<number>();
  const order = [...changes.keys()].sort((a, b) => flaggedFirst(changes[a]) - flaggedFirst(changes[b]) || a - b);
  for (const index of order) {
    const row = rows[index] ?? '';
    if (used + row.length + 1 > budget) break;
    used += row.length + 1;
    keep.add(index);
  }
  const omitted = changes.filter((_, i) => !keep.has(i));
  const notice = leftOut(omitted.length, omitted.filter((c) => c.flags.length > 0).length);
  if (keep.size === 0) return size(notice) <= budget ? notice : [];
  return ['', ...TABLE_HEADER, ...rows.filter((_, i) => keep.has(i)), ...notice];
}

function flaggedFirst(change: ExposureChange | undefined): number {
  return change !== undefined && change.flags.length > 0 ? 0 : 1;
}

/** Unmanaged rules, then unmanaged tables: a notice each, the items in a code block. */
function unmanagedSection(items: readonly UnmanagedRule[], budget: number, pointer: string): string[] {
  const rules = items.filter((item) => item.kind === 'rule');
  const tables = items.filter((item) => item.kind === 'table');
  const one = tables.length === 1;
  const tablesNotice = `:warning: **${plural(tables.length, 'unmanaged table', 'unmanaged tables')}** in the anchor: pfexpose never writes tables, so ${one ? 'it was' : 'they were'} made by hand or by another tool, and no plan manages ${one ? 'it' : 'them'}.`;
  const them = rules.length === 1 ? 'it' : 'them';
  const rulesNotice = `:warning: **${plural(rules.length, 'unmanaged rule', 'unmanaged rules')}** in the anchor: pfexpose did not write ${them}, and loading this plan removes ${them}.`;
  // Both notices or nothing; however many rules there are, the tables' notice keeps its room.
  const tablesRoom = tables.length > 0 ? size(['', tablesNotice]) : 0;
  if (tablesRoom + (rules.length > 0 ? size(['', rulesNotice]) : 0) > budget) return [];
  const out: string[] = [];
  if (rules.length > 0) {
    out.push(
      ...listBlock(
        rulesNotice,
        rules.map((rule) => `${rule.text}    # ${rule.reason}`),
        budget - tablesRoom,
        pointer,
      ),
    );
  }
  if (tables.length > 0) {
    out.push(
      ...listBlock(
        tablesNotice,
        tables.map((table) => table.text),
        budget - size(out),
        pointer,
      ),
    );
  }
  return out;
}

/** A notice and a fenced list of lines, cut within budget with a count of what was left out. */
function listBlock(notice: string, lines: readonly string[], budget: number, pointer: string): string[] {
  const fence = fenceFor(lines.join('\n'));
  const full = ['', notice, '', fence, ...lines, fence];
  if (size(full) <= budget) return full;
  const cut = (omitted: number): string =>
    `... ${omitted} more not shown (the comment would exceed GitHub's size limit; ${pointer})`;
  let used = size(['', notice, '', fence, fence]) + cut(lines.length).length + 1;
  const kept: string[] = [];
  for (const line of lines) {
    if (used + line.length + 1 > budget) break;
    used += line.length + 1;
    kept.push(line);
  }
  if (used > budget) return size(['', notice]) <= budget ? ['', notice] : [];
  return ['', notice, '', fence, ...kept, cut(lines.length - kept.length), fence];
}

/** The ruleset diff folded in a details block; cut short, or only named, when it does not fit. */
function diffSection(plan: Plan, budget: number, pointer: string): string[] {
  if (plan.rules.unified === '') return [];
  // GitHub paints a diff block's `+` lines green: the rules of a privileged port newly open to any
  // source are marked `!` instead, so the riskiest change is never shown as a green one.
  const risky = riskyExposures(plan);
  const marked = risky.length > 0;
  const summary = `Ruleset diff (+${plan.summary.rulesAdded} -${plan.summary.rulesRemoved} lines${marked ? '; ! marks a privileged port newly open to any source' : ''})`;
  const body = plan.rules.unified
    .replace(/\n$/, '')
    .split('\n')
    .map((line) =>
      marked && line.startsWith('+') && !line.startsWith('+++') && belongsToAny(line, risky)
        ? `!${line.slice(1)}`
        : line,
    )
    .join('\n');
  const fence = fenceFor(body);
  const wrap = (text: string): string[] => [
    '',
    '<details>',
    `<summary>${summary}</summary>`,
    '',
    `${fence}diff`,
    text,
    fence,
    '',
    '</details>',
  ];
  const full = wrap(body);
  if (size(full) <= budget) return full;
  const cutNote = `... (diff cut short: the comment would exceed GitHub's size limit; ${pointer})`;
  const room = budget - size(wrap('')) - cutNote.length - 1;
  // A few lines of diff are worth showing; less than that, only say it was left out.
  if (room >= 200) {
    const kept = body.slice(0, room + 1);
    const cut = kept.slice(0, Math.max(0, kept.lastIndexOf('\n')));
    return wrap(cut === '' ? cutNote : `${cut}\n${cutNote}`);
  }
  const named = ['', `_${summary} left out: the comment would exceed GitHub's size limit; ${pointer}._`];
  return size(named) <= budget ? named : [];
}

function tableRow(change: ExposureChange): string {
  const desired = change.desired;
  const deployed = change.deployed;
  const cell = (text: (e: DeployedExposure) => string): string => {
    if (desired !== null && deployed !== null) {
      const before = text(deployed);
      const after = text(desired);
      return before === after ? code(after) : `${code(before)} → ${code(after)}`;
    }
    return code(text((desired ?? deployed) as DeployedExposure));
  };
  const source = desired?.source ?? deployed?.source ?? null;
  const flags = change.flags.map((f) => `:warning: ${flagText[f.code]}`).join('<br>');
  return `| ${change.kind} | ${cell((e) => e.container)} | ${cell(hostSideText)} | ${cell(containerSideText)} | ${cell((e) => `${e.protocol}/${e.family}`)} | ${cell((e) => sourcesText(e.from))} | ${flags} | ${source === null ? '' : code(`${source.file}:${source.line}`)} |`;
}

function code(text: string): string {
  // Backticks cannot occur in these texts (names, addresses, ports); pipes would end the cell.
  return `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

function escapeCell(text: string): string {
  return text.replace(/[|<>*_~`[\]]/g, (c) => `\\${c}`);
}

/** A code fence longer than any run of backticks in the body. */
function fenceFor(body: string): string {
  let longest = 2;
  for (const run of body.matchAll(/`+/g)) longest = Math.max(longest, run[0].length);
  return '`'.repeat(longest + 1);
}
