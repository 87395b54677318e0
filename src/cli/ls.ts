// `pfexpose ls`: every exposure as a readable table (listen side -> container side, protocol,
// sources, manifest location), in the compiler's order; in a multi-host repository one table per
// host, each under its name (--host: that host alone).
import { Option } from 'commander';
import type { Command } from 'commander';
import { formatListen, formatSources } from '../model/format-listen.js';
import type { Exposure } from '../model/exposure.js';
import type { Reach } from '../model/reach.js';
import { formatPortRange } from '../ports/port-number.js';
import { compileEveryHost } from '../compile/compile-hosts.js';
import type { HostExposures } from '../compile/compile-hosts.js';
import { addListingOptions, compileOptionsFrom } from './compile-options.js';
import type { CompileFlags } from './compile-options.js';
import type { CliContext } from './context.js';
import { reportDiagnostics, reportUsage } from './report-diagnostics.js';
import { exposureJson, reachJson } from '../model/exposure-json.js';
import { setJsonPayload, withJsonReport } from './json-envelope.js';

export function registerLs(program: Command, ctx: CliContext): void {
  addListingOptions(
    program
      .command('ls')
      .description(
        'list every exposure: listen side -> container side, protocol, sources, manifest location (every host of the repository unless --host)',
      )
      .argument('[paths...]', 'manifest files or directories (default: .)'),
  )
    .option('--links', 'list the links and network reaches (container to container rules) instead of the exposures')
    .addOption(
      new Option(
        '--format <format>',
        'text: tables; json: one object, the envelope {formatVersion, command, diagnostics} then hosts: [{host, exposures, reaches}] (with or without --links)',
      )
        .choices(['text', 'json'])
        .default('text'),
    )
    .addHelpText('after', '\nExit codes: 0 listed, 1 invalid manifests, 2 usage.\n')
    .action(async (paths: string[], flags: CompileFlags & { links?: boolean; format: 'text' | 'json' }) => {
      await withJsonReport(ctx, 'ls', flags.format === 'json', async () => {
        const parsed = compileOptionsFrom(flags, ctx.cwd);
        if (!parsed.ok) return reportUsage(ctx, parsed.message);
        const outcome = await compileEveryHost(paths, parsed.options);
        reportDiagnostics(ctx, outcome.diagnostics, outcome.texts);
        if (!outcome.ok) {
          ctx.exitCode = 1;
          return;
        }
        if (ctx.json !== undefined) setJsonPayload(ctx, lsPayload(outcome.hosts));
        else
          ctx.stdout.write(flags.links === true ? formatReachTables(outcome.hosts) : formatHostTables(outcome.hosts));
        ctx.exitCode = 0;
      });
    });
}

/**
 * ls's payload in the JSON envelope: every host (--host: that one) with its exposures and its links
 * and network reaches, each in the one serializer compile and plan use. --links changes only the
 * text tables: the document always carries both lists.
 */
export function lsPayload(hosts: readonly HostExposures[]): Record<string, unknown> {
  return {
    hosts: hosts.map((h) => ({
      host: h.host,
      exposures: h.exposures.map(exposureJson),
      reaches: h.reaches.map(reachJson),
    })),
  };
}

function listenSide(e: Exposure): string {
  return `${formatListen(e)}:${formatPortRange(e.hostPort)}${e.dynamic ? '*' : ''}`;
}

function containerSide(e: Exposure): string {
  const address = e.family === 'inet6' ? `[${e.containerAddress}]` : e.containerAddress;
  return `${e.container} ${address}:${formatPortRange(e.containerPort)}`;
}

const HEADER = ['LISTEN', '', 'CONTAINER', 'PROTO', 'FROM', 'SOURCE'];
const DYNAMIC_NOTE = '* host port chosen by pfexpose (recorded in the lock file)';

function rowsOf(exposures: readonly Exposure[]): string[][] {
  return exposures.map((e) => [
    listenSide(e),
    '->',
    containerSide(e),
    `${e.protocol}/${e.family === 'inet' ? '4' : '6'}`,
    formatSources(e.from, ','),
    `${e.source.file}:${e.source.line}:${e.source.column}`,
  ]);
}

function tableLines(rows: readonly (readonly string[])[], widths: readonly number[]): string[] {
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(HEADER), ...rows.map(line)];
}

function widthsOf(rows: readonly (readonly string[])[]): number[] {
  return HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
}

/** A plain, aligned table; `*` marks host ports chosen by the allocator (recorded in the lock file). */
export function formatExposureTable(exposures: readonly Exposure[]): string {
  const rows = rowsOf(exposures);
  const footer = exposures.some((e) => e.dynamic) ? ['', DYNAMIC_NOTE] : [];
  return `${[...tableLines(rows, widthsOf(rows)), ...footer].join('\n')}\n`;
}

/**
 * One table per host, each under `host NAME:`, with the columns aligned across hosts so the tables
 * read as one; a single host (the only one, or --host) is the plain table.
 */
export function formatHostTables(hosts: readonly HostExposures[]): string {
  if (hosts.length === 1) return formatExposureTable(hosts[0]?.exposures ?? []);
  const rows = hosts.map((h) => rowsOf(h.exposures));
  const widths = widthsOf(rows.flat());
  const out: string[] = [];
  hosts.forEach((h, i) => {
    if (i > 0) out.push('');
    out.push(`host ${h.host ?? '(unnamed)'}:`);
    if (h.exposures.length === 0) out.push('(no exposures)');
    else out.push(...tableLines(rows[i] ?? [], widths));
  });
  if (hosts.some((h) => h.exposures.some((e) => e.dynamic))) out.push('', DYNAMIC_NOTE);
  return `${out.join('\n')}\n`;
}

const REACH_HEADER = ['FROM', '', 'CONTAINER', 'PROTO', 'KIND', 'LABEL', 'SOURCE'];

function reachRows(reaches: readonly Reach[]): string[][] {
  return reaches.map((r) => [
    r.kind === 'link' ? `${r.client ?? ''} ${r.from}` : r.from,
    '->',
    `${r.container} ${r.family === 'inet6' ? `[${r.containerAddress}]` : r.containerAddress}:${formatPortRange(r.port)}`,
    `${r.protocol}/${r.family === 'inet' ? '4' : '6'}`,
    r.kind === 'link' ? `link${r.alias === r.container ? '' : ` as ${r.alias ?? ''}`}` : 'network',
    r.label,
    `${r.source.file}:${r.source.line}:${r.source.column}`,
  ]);
}

/**
 * `ls --links`: one aligned table of links and network reaches per host (a single host: the plain
 * table), the same layout as the exposure tables.
 */
export function formatReachTables(hosts: readonly HostExposures[]): string {
  const rows = hosts.map((h) => reachRows(h.reaches));
  const widths = REACH_HEADER.map((h, i) => Math.max(h.length, ...rows.flat().map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const out: string[] = [];
  hosts.forEach((h, i) => {
    if (hosts.length > 1) {
      if (i > 0) out.push('');
      out.push(`host ${h.host ?? '(unnamed)'}:`);
    }
    if (h.reaches.length === 0) out.push('(no links or network reaches)');
    else out.push(line(REACH_HEADER), ...(rows[i] ?? []).map(line));
  });
  return `${out.join('\n')}\n`;
}
