// `pfexpose status [PATH...]`: every exposure of the manifests (and any pf holds that they do not),
// with what pf counted for its label (`pfctl -a ANCHOR -s labels`), its drift from the live anchor
// and its container's state. Reads only: pf is never loaded, no state directory is touched.
import { Option } from 'commander';
import type { Command } from 'commander';
import { readDeployed } from '../apply/read-deployed.js';
import { exposureStatuses, type ExposureStatus } from '../apply/exposure-status.js';
import { dialectRefusal } from '../apply/preflight.js';
import { compileWithGateway, describeDetectedGateway } from '../compile/compile-with-gateway.js';
import { createPfctl, resolvePfctlProgram } from '../host/pfctl.js';
import { deployedFromText, desiredState, planChanges } from '../plan/plan-changes.js';
import { DURATION_LIMITS, parseDuration } from '../text/duration.js';
import { addCompileOptions, compileOptionsFrom, type CompileFlags } from './compile-options.js';
import type { CliContext } from './context.js';
import { reportDiagnostics, reportFailure, reportSummary, reportUsage, reportWarning } from './report-diagnostics.js';
import { setJsonPayload, withJsonReport } from './json-envelope.js';
import { checkHostContainers, type ContainerCheckFlags } from './container-check.js';
import { containerState, containersOf, type ContainerState } from '../apply/check-containers.js';

interface StatusFlags extends CompileFlags, ContainerCheckFlags {
  pfctl?: string;
  pfctlTimeout: string;
  route?: string;
  format: 'text' | 'json';
}

export function registerStatus(program: Command, ctx: CliContext): void {
  addCompileOptions(
    program
      .command('status')
      .description(
        "every exposure with pf's counters for it (packets, bytes, states), its drift from the live anchor and its container's state",
      )
      .argument('[paths...]', 'manifest files or directories (default: .)'),
  )
    .option('--pfctl <path>', 'pfctl program (default: $PFEXPOSE_PFCTL, else pfctl)')
    .option('--pfctl-timeout <duration>', 'give up on one run of pfctl after this long (up to 1h)', '30s')
    .option('--route <path>', 'route program for gateway detection (default: $PFEXPOSE_ROUTE, else route)')
    .option(
      '--jls <path>',
      'jls program that lists the running jails (default: $PFEXPOSE_JLS, else jls on FreeBSD; none: do not check)',
    )
    .addOption(
      new Option(
        '--format <format>',
        'text: a table; json: one object, the envelope {formatVersion, command, diagnostics} then anchor, inSync, countersRead, exposures',
      )
        .choices(['text', 'json'])
        .default('text'),
    )
    .addHelpText(
      'after',
      [
        '',
        'Exit codes:',
        '  0  shown (drift is shown, not an error: pfexpose plan --live tells what would change)',
        '  1  invalid manifests, or pf cannot be read (pfctl missing or failing, pf disabled)',
        '  2  usage or internal error',
        '',
      ].join('\n'),
    )
    .action(async (paths: string[], flags: StatusFlags) => {
      await withJsonReport(ctx, 'status', flags.format === 'json', () => runStatus(paths, flags, ctx));
    });
}

async function runStatus(paths: string[], flags: StatusFlags, ctx: CliContext): Promise<void> {
  const dialect = dialectRefusal('status', flags.dialect ?? 'freebsd');
  if (dialect !== null) return reportUsage(ctx, dialect);
  const timeout = parseDuration('--pfctl-timeout', flags.pfctlTimeout, 's', DURATION_LIMITS.pfctlTimeout);
  if (!timeout.ok) return reportUsage(ctx, timeout.message);
  const parsed = compileOptionsFrom(flags, ctx.cwd);
  if (!parsed.ok) return reportUsage(ctx, parsed.message);
  const anchor = parsed.options.anchor;
  const given = paths.length > 0 ? paths : ['.'];
  const compiled = await compileWithGateway(given, parsed.options, { flag: flags.route, env: ctx.env });
  if (compiled.kind === 'no-gateway') {
    reportDiagnostics(ctx, compiled.outcome.diagnostics, compiled.outcome.texts);
    return fail(ctx, compiled.message);
  }
  const outcome = compiled.outcome;
  reportDiagnostics(ctx, outcome.diagnostics, outcome.texts);
  if (!outcome.ok) {
    reportSummary(ctx, 'pfexpose: the manifests have errors; no status shown');
    ctx.exitCode = 1;
    return;
  }
  if (compiled.detected !== null) ctx.stderr.write(`${describeDetectedGateway(compiled.detected)}\n`);

  const pfctl = (ctx.pfctl ?? createPfctl)({
    program: resolvePfctlProgram(flags.pfctl, ctx.env),
    env: ctx.env,
    timeoutMs: timeout.ms,
  });
  const deployed = await readDeployed(pfctl, anchor);
  if (deployed.kind !== 'ok') return fail(ctx, `cannot read anchor "${anchor}": ${deployed.message}`);
  const plan = planChanges(
    desiredState(outcome.exposures, outcome.ruleset),
    deployedFromText(deployed.text, deployed.tables),
  );
  let counters = null;
  if (pfctl.labelCounters === undefined) {
    reportWarning(ctx, 'this pfctl adapter cannot read label counters');
  } else {
    const read = await pfctl.labelCounters(anchor);
    if (read.kind === 'ok') {
      counters = read.counters;
      if (read.unreadable.length > 0)
        reportWarning(
          ctx,
          `${read.unreadable.length} line(s) of pfctl -s labels are not a label and eight counts, e.g. ${JSON.stringify(read.unreadable[0])}`,
        );
    } else if (read.kind !== 'anchor-missing') {
      reportWarning(ctx, `the counters of anchor "${anchor}" could not be read: ${read.message}`);
    } else counters = [];
  }
  const host = await checkHostContainers(outcome, flags, ctx);
  if (host.kind === 'failed') reportWarning(ctx, `the containers could not be checked: ${host.message}`);
  const stateOf = (container: string): ContainerState | 'unknown' =>
    host.kind === 'checked' && checkedNames.has(container) ? containerState(host.check, container) : 'unknown';
  const checkedNames = new Set(containersOf(outcome).map((c) => c.container));
  const rows = exposureStatuses(outcome.exposures, plan, counters, stateOf);
  const inSync = !plan.summary.changes;
  if (ctx.json !== undefined) {
    setJsonPayload(ctx, { anchor, inSync, countersRead: counters !== null, exposures: rows });
  } else {
    ctx.stdout.write(formatStatusText(anchor, inSync, rows));
  }
  ctx.exitCode = 0;
}

function fail(ctx: CliContext, message: string): void {
  reportFailure(ctx, `${message}; no status shown`);
}

const HEADER = ['EXPOSURE', 'LISTEN', 'CONTAINER', 'JAIL', 'DRIFT', 'EVALS', 'PACKETS', 'BYTES', 'IN', 'OUT', 'STATES'];

/** A table, one row per exposure; `-` where pf holds no counters for it. */
export function formatStatusText(anchor: string, inSync: boolean, rows: readonly ExposureStatus[]): string {
  const title = inSync
    ? `anchor "${anchor}" holds what the manifests say`
    : `anchor "${anchor}" differs from the manifests (pfexpose plan --live shows how)`;
  if (rows.length === 0) return `${title}\nno exposures\n`;
  const table = [
    HEADER,
    ...rows.map((row) => {
      const address = row.family === 'inet6' ? `[${row.containerAddress}]` : row.containerAddress;
      const c = row.counters;
      return [
        row.label,
        `${row.listen}:${row.port}/${row.protocol}`,
        `${row.container} ${address}:${row.containerPort}`,
        row.containerState,
        row.drift,
        c === null ? '-' : String(c.evaluations),
        c === null ? '-' : String(c.packets),
        c === null ? '-' : String(c.bytes),
        c === null ? '-' : `${c.inPackets}/${c.inBytes}`,
        c === null ? '-' : `${c.outPackets}/${c.outBytes}`,
        c === null ? '-' : String(c.states),
      ];
    }),
  ];
  const widths = HEADER.map((_, column) => Math.max(...table.map((cells) => (cells[column] ?? '').length)));
  const lines = table.map((cells) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  return `${title}\n${lines.join('\n')}\nJAIL: running, stopped, stale, unchecked (VNET) or unknown (no jls); IN and OUT: packets/bytes; STATES: states created\n`;
}
