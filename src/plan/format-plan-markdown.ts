// The plan as one pull-request comment: a marker line to find the comment again, a summary line,
// a table of exposure changes with their flags, unmanaged rules, and the ruleset diff folded away.
import { containerSideText, hostSideText, sourcesText } from './describe-exposure.js';
import { summaryText } from './format-plan-text.js';
import type { DeployedExposure, ExposureChange, Plan, PlanFlagCode } from './plan.js';

/** The hidden first line of the comment; the CI workflow updates the comment that carries it. */
export const PLAN_COMMENT_MARKER = '<!-- pfexpose-plan -->';

/** GitHub refuses comments over 65,536 characters; the diff is cut to stay below. */
const DEFAULT_MAX_LENGTH = 60_000;

export interface PlanMarkdownOptions {
  against: string;
  maxLength?: number;
}

const flagText: Record<PlanFlagCode, string> = {
  'open-to-all': 'open to all',
  'sources-widened': 'sources widened',
  'ipv6-exposed': 'IPv6 newly exposed',
  'privileged-port': 'privileged port',
  'dynamic-port-moved': 'dynamic port moved',
};

export function formatPlanMarkdown(plan: Plan, options: PlanMarkdownOptions): string {
  const head: string[] = [PLAN_COMMENT_MARKER, '### pfexpose plan', ''];
  const flagged = plan.exposures.filter((c) => c.flags.length > 0).length;
  head.push(
    plan.summary.changes
      ? `${flagged > 0 ? ':warning: ' : ''}**${summaryText(plan)}** (against ${escapeCell(options.against)})`
      : `**No changes**: the deployed state (${escapeCell(options.against)}) matches the manifests.`,
  );
  if (plan.exposures.length > 0) {
    head.push(
      '',
      '| Change | Container | Host side | Container side | Protocol | Sources | Flags | Manifest |',
      '|---|---|---|---|---|---|---|---|',
      ...plan.exposures.map(tableRow),
    );
  }
  if (plan.unmanaged.length > 0) {
    head.push(
      '',
      `:warning: **${plan.unmanaged.length} unmanaged rule${plan.unmanaged.length === 1 ? '' : 's'}** in the anchor: pfexpose did not write ${plan.unmanaged.length === 1 ? 'it' : 'them'}, and loading this plan removes ${plan.unmanaged.length === 1 ? 'it' : 'them'}.`,
      '',
      ...fenced('', plan.unmanaged.map((rule) => `${rule.text}    # ${rule.reason}`).join('\n')),
    );
  }
  const tail: string[] = [];
  if (plan.rules.unified !== '') {
    const summary = `Ruleset diff (+${plan.summary.rulesAdded} -${plan.summary.rulesRemoved} lines)`;
    const budget = (options.maxLength ?? DEFAULT_MAX_LENGTH) - head.join('\n').length - 200;
    let diff = plan.rules.unified.replace(/\n$/, '');
    if (diff.length > budget) {
      diff = `${diff.slice(0, Math.max(0, budget)).replace(/\n[^\n]*$/, '')}\n... (diff cut short; run pfexpose plan for all of it)`;
    }
    tail.push('', '<details>', `<summary>${summary}</summary>`, '', ...fenced('diff', diff), '', '</details>');
  }
  return [...head, ...tail].map((line) => `${line}\n`).join('');
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

function fenced(language: string, body: string): string[] {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${language}`, body, fence];
}
