// `pfexpose port CONTAINER [PORT[/PROTO]]`: where a container port is published, printed the way
// `docker port` prints it (`80/tcp -> 0.0.0.0:49153`), one line per port of a range; in json, the
// same bindings as data.
import { Option } from 'commander';
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
import { reportDiagnostics, reportProblem, reportUsage } from './report-diagnostics.js';
import { setJsonPayload, withJsonReport } from './json-envelope.js';
import { quoteText } from '../text/quote-text.js';

interface PortFlags extends CompileFlags {
  manifests?: string[];
  format: 'text' | 'json';
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
    .addOption(
      new Option(
        '--format <format>',
        'text: `docker port` lines; json: one object, the envelope {formatVersion, command, diagnostics} then container, bindings: [{host, containerPort, protocol, listen, hostPort}]',
      )
        .choices(['text', 'json'])
        .default('text'),
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 published, 1 unknown container, port not published or invalid manifests, 2 usage.\n',
    )
    .action(async (container: string, port: string | undefined, flags: PortFlags) => {
      await withJsonReport(ctx, 'port', flags.format === 'json', () => runPort(container, port, flags, ctx));
    });
}

async function runPort(container: string, port: string | undefined, flags: PortFlags, ctx: CliContext): Promise<void> {
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
    reportProblem(ctx, 'unknown-container', `no container ${quoteText(container)} publishes ports${where}`);
    ctx.exitCode = 1;
    return;
  }
  const bindings = having.flatMap((h) =>
    publishedBindings(h.exposures, wanted).map((binding) => ({ host: h.host, ...binding })),
  );
  if (bindings.length === 0 && wanted !== null) {
    reportProblem(
      ctx,
      'port-not-published',
      `no public port '${wanted.port}/${wanted.protocol}' published for ${container}`,
    );
    ctx.exitCode = 1;
    return;
  }
  ctx.exitCode = 0;
  if (ctx.json !== undefined) {
    setJsonPayload(ctx, { container, bindings });
    return;
  }
  // Labelled only when the answer spans several hosts: the only host's answer reads like `docker port`.
  const labelled = having.length > 1;
  const lines = bindings.map((b) => {
    const line = formatBinding(b, wanted === null);
    return labelled ? `${b.host ?? ''}: ${line}` : line;
  });
  ctx.stdout.write(lines.map((l) => `${l}\n`).join(''));
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

/** One published port: the container port and protocol, and where it listens on the host. */
export interface PublishedBinding {
  containerPort: number;
  protocol: Protocol;
  /** `any`, a host address or an interface name, as formatListen writes it. */
  listen: string;
  hostPort: number;
}

/** `80/tcp -> any:49000`, or only `any:49000` when the port was asked for, as `docker port` prints them. */
export function formatBinding(b: PublishedBinding, withPort: boolean): string {
  const where = `${b.listen}:${b.hostPort}`;
  return withPort ? `${b.containerPort}/${b.protocol} -> ${where}` : where;
}

/**
 * One binding per published port, ordered like `docker port`: by port, protocol, then IPv4 before
 * IPv6; a binding both families share (`any`, an interface) is given once.
 */
export function publishedBindings(
  exposures: readonly Exposure[],
  wanted: { port: number; protocol: Protocol } | null,
): PublishedBinding[] {
  const found: (PublishedBinding & { family: 0 | 1; key: string })[] = [];
  for (const e of exposures) {
    for (let offset = 0; offset <= e.containerPort.end - e.containerPort.start; offset += 1) {
      const port = e.containerPort.start + offset;
      if (wanted !== null && (wanted.port !== port || wanted.protocol !== e.protocol)) continue;
      const binding = {
        containerPort: port,
        protocol: e.protocol,
        listen: formatListen(e),
        hostPort: e.hostPort.start + offset,
      };
      found.push({ ...binding, family: e.family === 'inet' ? 0 : 1, key: formatBinding(binding, true) });
    }
  }
  found.sort(
    (a, b) =>
      a.containerPort - b.containerPort ||
      (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0) ||
      a.family - b.family ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  const seen = new Set<string>();
  const bindings: PublishedBinding[] = [];
  for (const { containerPort, protocol, listen, hostPort, key } of found) {
    if (seen.has(key)) continue;
    seen.add(key);
    bindings.push({ containerPort, protocol, listen, hostPort });
  }
  return bindings;
}
