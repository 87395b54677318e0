// `pfexpose port CONTAINER [PORT[/PROTO]]`: where a container port is published, printed the way
// `docker port` prints it (`80/tcp -> 0.0.0.0:49153`), one line per port of a range.
import type { Command } from 'commander';
import { formatListen } from '../model/format-listen.js';
import type { Exposure } from '../model/exposure.js';
import { parsePortNumber } from '../ports/port-number.js';
import { parseProtocol } from '../ports/parse-protocol.js';
import type { Protocol } from '../ports/port-spec.js';
import { compileEveryHost } from '../compile/compile-hosts.js';
import { addListingOptions, compileOptionsFrom } from './compile-options.js';
import type { CompileFlags } from './compile-options.js';
import type { CliContext } from './context.js';
import { reportDiagnostics, reportUsage } from './report-diagnostics.js';
import { quoteText } from '../text/quote-text.js';

interface PortFlags extends CompileFlags {
  manifests?: string[];
}

/** -m takes one path and may be repeated: a variadic -m would swallow the container named after it. */
export function collectPath(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerPort(program: Command, ctx: CliContext): void {
  addListingOptions(
    program
      .command('port')
      .description(
        "show where a container's ports are published, in `docker port` format (every host that has the container, each line labelled when there are several)",
      )
      .argument('<container>', 'container name')
      .argument('[port]', 'container port, optionally with /tcp, /udp or /sctp (default protocol: tcp)'),
  )
    .option('-m, --manifests <path>', 'manifest file or directory; repeat -m for more (default: .)', collectPath)
    .addHelpText(
      'after',
      '\nExit codes: 0 published, 1 unknown container, port not published or invalid manifests, 2 usage.\n',
    )
    .action(async (container: string, port: string | undefined, flags: PortFlags) => {
      const wanted = port === undefined ? null : parsePortArgument(port);
      if (wanted !== null && 'error' in wanted) return reportUsage(ctx, wanted.error);
      const parsed = compileOptionsFrom(flags, ctx.cwd);
      if (!parsed.ok) return reportUsage(ctx, parsed.message);
      const outcome = await compileEveryHost(flags.manifests ?? [], parsed.options);
      reportDiagnostics(ctx, outcome.diagnostics, outcome.texts);
      if (!outcome.ok) {
        ctx.exitCode = 1;
        return;
      }
      const having = outcome.hosts
        .map((h) => ({ host: h.host, exposures: h.exposures.filter((e) => e.container === container) }))
        .filter((h) => h.exposures.length > 0);
      const named = outcome.hosts.map((h) => h.host).filter((h): h is string => h !== null);
      if (having.length === 0) {
        const where =
          flags.host !== undefined
            ? ` on host ${flags.host}`
            : named.length > 1
              ? ` on any host (${named.join(', ')})`
              : ' on this host';
        ctx.stderr.write(`pfexpose: no container ${quoteText(container)} publishes ports${where}\n`);
        ctx.exitCode = 1;
        return;
      }
      // Labelled only when the answer spans several hosts: the only host's answer reads like `docker port`.
      const labelled = having.length > 1;
      const lines = having.flatMap((h) =>
        publishedPorts(h.exposures, wanted).map((l) => (labelled ? `${h.host ?? ''}: ${l}` : l)),
      );
      if (lines.length === 0 && wanted !== null) {
        ctx.stderr.write(`pfexpose: no public port '${wanted.port}/${wanted.protocol}' published for ${container}\n`);
        ctx.exitCode = 1;
        return;
      }
      ctx.stdout.write(lines.map((l) => `${l}\n`).join(''));
      ctx.exitCode = 0;
    });
}

function parsePortArgument(text: string): { port: number; protocol: Protocol } | { error: string } {
  const [portText = '', protocolText, extra] = text.split('/');
  if (extra !== undefined) return { error: `port ${quoteText(text)}: write PORT or PORT/PROTO, e.g. 80/tcp` };
  const port = parsePortNumber(portText);
  if (!port.ok) return { error: `port ${quoteText(text)}: ${port.errors[0]?.message ?? 'not a port'}` };
  if (protocolText === undefined) return { port: port.port, protocol: 'tcp' };
  const protocol = parseProtocol(protocolText, 0, { allowed: ['tcp', 'udp', 'sctp'], ignoreCase: true });
  if (!protocol.ok) return { error: `port ${quoteText(text)}: the protocol must be tcp, udp or sctp` };
  return { port: port.port, protocol: protocol.protocol };
}

interface Line {
  port: number;
  protocol: Protocol;
  family: 0 | 1;
  text: string;
}

/** One line per published port, ordered like `docker port`: by port, protocol, then IPv4 before IPv6. */
export function publishedPorts(
  exposures: readonly Exposure[],
  wanted: { port: number; protocol: Protocol } | null,
): string[] {
  const lines: Line[] = [];
  for (const e of exposures) {
    for (let offset = 0; offset <= e.containerPort.end - e.containerPort.start; offset += 1) {
      const port = e.containerPort.start + offset;
      if (wanted !== null && (wanted.port !== port || wanted.protocol !== e.protocol)) continue;
      const where = `${formatListen(e)}:${e.hostPort.start + offset}`;
      lines.push({
        port,
        protocol: e.protocol,
        family: e.family === 'inet' ? 0 : 1,
        text: wanted === null ? `${port}/${e.protocol} -> ${where}` : where,
      });
    }
  }
  lines.sort(
    (a, b) =>
      a.port - b.port ||
      (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0) ||
      a.family - b.family ||
      (a.text < b.text ? -1 : a.text > b.text ? 1 : 0),
  );
  return [...new Set(lines.map((l) => l.text))];
}
