// The plan for a terminal or a log: a summary line, the exposure changes with their flags and
// manifest locations, unmanaged rules, then the ruleset diff. Colours only when asked to.
import { showPrintable } from '../diagnostics/format-text.js';
import { exposureText } from './describe-exposure.js';
import type { ExposureChange, Plan } from './plan.js';
import { reachChangeLines } from './reach-changes.js';

export interface PlanTextOptions {
  color: boolean;
  /** What the plan was computed against, e.g. `live anchor "pfexpose"`. */
  against: string;
}

const codes = { red: '31', green: '32', yellow: '33', cyan: '36', bold: '1', dim: '2', alarm: '1;31' } as const;

/**
 * The riskiest change a plan can show: a privileged host port (below 1024) newly reachable from
 * every source. Never painted green, neither its change line nor its rules in the diff: bold red.
 */
export function isPrivilegedOpenToAll(change: ExposureChange): boolean {
  return (
    change.desired !== null &&
    change.desired.hostPort.start < 1024 &&
    change.flags.some((f) => f.code === 'open-to-all')
  );
}

/** The desired side of every privileged-open-to-all change (see isPrivilegedOpenToAll). */
export function riskyExposures(plan: Plan): NonNullable<ExposureChange['desired']>[] {
  return plan.exposures.filter(isPrivilegedOpenToAll).flatMap((c) => (c.desired === null ? [] : [c.desired]));
}

/** Whether an added rule line of the diff belongs to one of these exposures (its label, or its rdr rule). */
export function belongsToAny(line: string, risky: readonly NonNullable<ExposureChange['desired']>[]): boolean {
  return risky.some((e) => {
    if (line.includes(`label "${e.label}"`)) return true;
    const ports = (r: { start: number; end: number }): string =>
      r.start === r.end ? `= ${r.start}` : `${r.start}:${r.end}`;
    const target = (r: { start: number; end: number }): string =>
      r.start === r.end ? `${r.start}` : `${r.start}:${r.end}`;
    return (
      /^\+\s*rdr\b/.test(line) &&
      line.includes(` port ${ports(e.hostPort)} `) &&
      line.includes(`-> ${e.containerAddress} port ${target(e.containerPort)}`)
    );
  });
}

export function formatPlanText(plan: Plan, options: PlanTextOptions): string {
  const paint = (style: keyof typeof codes, text: string): string =>
    options.color ? `\u001b[${codes[style]}m${text}\u001b[0m` : text;
  const out: string[] = [];
  out.push(`${paint('bold', 'pfexpose plan')} against ${options.against}: ${summaryText(plan)}`);
  if (!plan.summary.changes) {
    out.push('No changes: the deployed state matches the manifests.');
  }
  if (plan.exposures.length > 0) {
    out.push('', 'Exposure changes:');
    for (const change of plan.exposures) out.push(...changeLines(change, paint));
  }
  if (plan.reaches.length > 0) {
    out.push('', 'Link and network reach changes:');
    for (const line of reachChangeLines(plan.reaches)) {
      const trimmed = line.trimStart();
      const style = trimmed.startsWith('!')
        ? 'yellow'
        : trimmed.startsWith('+')
          ? 'green'
          : trimmed.startsWith('-')
            ? 'red'
            : trimmed.startsWith('~')
              ? 'yellow'
              : null;
      out.push(style === null ? showPrintable(line) : paint(style, showPrintable(line)));
    }
  }
  const rules = plan.unmanaged.filter((item) => item.kind === 'rule');
  if (rules.length > 0) {
    out.push(
      '',
      paint('yellow', 'Unmanaged rules in the anchor (pfexpose did not write them; loading this plan removes them):'),
    );
    for (const rule of rules) {
      out.push(
        `  ${rule.line > 0 ? `line ${rule.line}: ` : ''}${showPrintable(rule.text)}`,
        `      ${paint('dim', showPrintable(rule.reason))}`,
      );
    }
  }
  const tables = plan.unmanaged.filter((item) => item.kind === 'table');
  if (tables.length > 0) {
    out.push(
      '',
      paint('yellow', 'Unmanaged tables in the anchor (pfexpose never writes tables; no plan manages them):'),
    );
    for (const table of tables) out.push(`  ${showPrintable(table.text)}`);
  }
  const risky = riskyExposures(plan);
  if (plan.rules.unified !== '') {
    out.push('', 'Ruleset diff:');
    for (const line of plan.rules.unified.replace(/\n$/, '').split('\n').map(showPrintable)) {
      if (line.startsWith('+++') || line.startsWith('---')) out.push(paint('bold', line));
      else if (line.startsWith('@@')) out.push(paint('cyan', line));
      else if (line.startsWith('+'))
        out.push(paint(risky.length > 0 && belongsToAny(line, risky) ? 'alarm' : 'green', line));
      else if (line.startsWith('-')) out.push(paint('red', line));
      else out.push(line);
    }
  }
  return out.map((line) => `${line}\n`).join('');
}

/** `1 to add, 2 to change, 0 to remove, 3 unchanged; ruleset +4 -2 lines; 2 flagged` */
export function summaryText(plan: Plan): string {
  const s = plan.summary;
  const flagged = plan.exposures.filter((c) => c.flags.length > 0).length;
  const parts = [
    `${s.added} to add, ${s.changed} to change, ${s.removed} to remove, ${s.unchanged} unchanged`,
    `ruleset +${s.rulesAdded} -${s.rulesRemoved} lines`,
  ];
  if (plan.reaches.length > 0) parts.push(`${plan.reaches.length} link/network change(s)`);
  if (flagged > 0) parts.push(`${flagged} flagged`);
  if (s.unmanaged > 0) parts.push(`${s.unmanaged} unmanaged`);
  return parts.join('; ');
}

function changeLines(change: ExposureChange, paint: (style: keyof typeof codes, text: string) => string): string[] {
  const lines: string[] = [];
  switch (change.kind) {
    case 'added':
      lines.push(`  ${paint(isPrivilegedOpenToAll(change) ? 'alarm' : 'green', `+ ${exposureText(change.desired)}`)}`);
      break;
    case 'removed':
      lines.push(`  ${paint('red', `- ${exposureText(change.deployed)}`)}`);
      break;
    case 'changed':
      lines.push(`  ${paint(isPrivilegedOpenToAll(change) ? 'alarm' : 'yellow', `~ ${exposureText(change.desired)}`)}`);
      break;
  }
  const source = change.desired?.source ?? null;
  if (source !== null) lines.push(`      at ${showPrintable(source.file)}:${source.line}:${source.column}`);
  else if (change.deployed?.source != null) {
    const was = change.deployed.source;
    lines.push(`      was at ${was.file}:${was.line}:${was.column}`);
  }
  for (const field of change.fields) lines.push(`      ${fieldName[field.field]}: ${field.before} -> ${field.after}`);
  for (const flag of change.flags) lines.push(`      ${paint('yellow', `! ${flag.message}`)}`);
  return lines;
}

export const fieldName: Record<ExposureChange['fields'][number]['field'], string> = {
  container: 'container',
  listen: 'listen side',
  family: 'family',
  protocol: 'protocol',
  hostPort: 'host port',
  containerAddress: 'container address',
  containerPort: 'container port',
  from: 'sources',
  outbound: 'outbound pass rule',
};
