// `pfexpose ls`: every exposure of one host as a readable table (listen side -> container side,
// protocol, sources, manifest location), in the compiler's order.
import type { Command } from 'commander';
import { formatListen } from '../model/format-listen.js';
import type { Exposure } from '../model/exposure.js';
import { formatPortRange } from '../ports/port-number.js';
import { addCompileOptions } from './compile-options.js';
import type { CompileFlags } from './compile-options.js';
import type { CliContext } from './context.js';
import { compileForCommand } from './report-diagnostics.js';

export function registerLs(program: Command, ctx: CliContext): void {
  addCompileOptions(
    program
      .command('ls')
      .description('list every exposure: listen side -> container side, protocol, sources, manifest location')
      .argument('[paths...]', 'manifest files or directories (default: .)'),
  ).action(async (paths: string[], flags: CompileFlags) => {
    const outcome = await compileForCommand(paths, flags, ctx);
    if (outcome === null) return;
    ctx.stdout.write(formatExposureTable(outcome.exposures));
    ctx.exitCode = 0;
  });
}

function listenSide(e: Exposure): string {
  const listen = formatListen(e);
  const port = formatPortRange(e.hostPort);
  return `${listen}:${port}${e.dynamic ? '*' : ''}`;
}

function containerSide(e: Exposure): string {
  const address = e.family === 'inet6' ? `[${e.containerAddress}]` : e.containerAddress;
  return `${e.container} ${address}:${formatPortRange(e.containerPort)}`;
}

/** A plain, aligned table; `*` marks host ports chosen by the allocator (recorded in the lock file). */
export function formatExposureTable(exposures: readonly Exposure[]): string {
  const header = ['LISTEN', '', 'CONTAINER', 'PROTO', 'FROM', 'SOURCE'];
  const rows = exposures.map((e) => [
    listenSide(e),
    '->',
    containerSide(e),
    `${e.protocol}/${e.family === 'inet' ? '4' : '6'}`,
    e.from.length === 0 ? 'any' : e.from.join(','),
    `${e.source.file}:${e.source.line}:${e.source.column}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  const footer = exposures.some((e) => e.dynamic) ? ['', '* host port chosen by pfexpose (recorded in the lock file)'] : [];
  return `${[line(header), ...rows.map(line), ...footer].join('\n')}\n`;
}
