// `pfexpose env CONTAINER`: what the container's links give it, as Docker's daemon computes it for
// `--link SERVER:ALIAS` (the variables, or the /etc/hosts lines). Read from the compiled links, so
// what env prints is what the rules open: the server's address per family both containers have,
// and every exposed port.
import type { Command } from 'commander';
import { compileEveryHost } from '../compile/compile-hosts.js';
import type { ClientLinkInput } from '../model/client-links.js';
import { describeClientLinks, duplicateLinkVariables } from '../model/client-links.js';
import type { LinkedPort } from '../model/link-env.js';
import { clientLinksJson, formatClientLinks, LINK_ENV_FORMATS, namesShellCannotSet } from '../model/link-env-format.js';
import type { LinkEnvFormat } from '../model/link-env-format.js';
import type { Reach } from '../model/reach.js';
import type { Family } from '../ports/port-spec.js';
import { compareStrings } from '../text/compare-strings.js';
import { didYouMean } from '../text/did-you-mean.js';
import { quoteText } from '../text/quote-text.js';
import { addListingOptions, compileOptionsFrom } from './compile-options.js';
import type { CompileFlags } from './compile-options.js';
import type { CliContext } from './context.js';
import { collectPath } from './port.js';
import { reportDiagnostics, reportProblem, reportUsage, reportWarning } from './report-diagnostics.js';
import { setJsonPayload, withJsonReport } from './json-envelope.js';

interface EnvFlags extends CompileFlags {
  manifests?: string[];
  format: string;
}

export function registerEnv(program: Command, ctx: CliContext): void {
  addListingOptions(
    program
      .command('env')
      .description(
        'print the environment variables Docker would give a container for its links (`--link SERVER:ALIAS`), or the /etc/hosts lines',
      )
      .argument('<container>', 'the client container'),
  )
    .option('-m, --manifests <path>', 'manifest file or directory; repeat -m for more (default: .)', collectPath)
    .option(
      '--format <format>',
      `output format: ${LINK_ENV_FORMATS.join(', ')} (json: one object, the envelope {formatVersion, command, diagnostics} then container, links)`,
      'env',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 printed (nothing when the container has no links), 1 unknown container or invalid manifests, 2 usage.\n',
    )
    .action(async (container: string, flags: EnvFlags) => {
      await withJsonReport(ctx, 'env', flags.format === 'json', () => runEnv(container, flags, ctx));
    });
}

async function runEnv(container: string, flags: EnvFlags, ctx: CliContext): Promise<void> {
  const format = LINK_ENV_FORMATS.find((f) => f === flags.format);
  if (format === undefined)
    return reportUsage(ctx, `--format ${quoteText(flags.format)}: use one of ${LINK_ENV_FORMATS.join(', ')}`);
  const parsed = compileOptionsFrom(flags, ctx.cwd);
  if (!parsed.ok) return reportUsage(ctx, parsed.message);
  const outcome = await compileEveryHost(flags.manifests ?? [], parsed.options);
  reportDiagnostics(ctx, outcome.diagnostics, outcome.texts);
  if (!outcome.ok) {
    ctx.exitCode = 1;
    return;
  }
  const known = outcome.hosts.flatMap((h) => h.containers);
  if (!known.includes(container)) {
    const suggestion = didYouMean(container, known);
    reportProblem(
      ctx,
      'unknown-container',
      `no container ${quoteText(container)} in the manifests${suggestion === null ? '' : `; ${suggestion}`}`,
    );
    ctx.exitCode = 1;
    return;
  }
  const reaches = outcome.hosts.flatMap((h) => h.reaches.filter((r) => r.kind === 'link' && r.client === container));
  ctx.exitCode = 0;
  if (reaches.length === 0) {
    // In json the empty list of links says it.
    if (ctx.json !== undefined) setJsonPayload(ctx, { ...clientLinksJson({ container, links: [] }) });
    else ctx.stderr.write(`pfexpose: container ${quoteText(container)} has no links that open anything\n`);
    return;
  }
  const links = describeClientLinks({
    container,
    families: [...new Set(reaches.map((r) => r.family))],
    links: linkInputs(reaches),
  });
  for (const name of duplicateLinkVariables(links))
    reportWarning(ctx, `two links of ${container} set ${name}; the later alias wins in Docker`);
  if (format === 'sh') {
    for (const name of namesShellCannotSet(links))
      ctx.stderr.write(`pfexpose: warning: ${name} is not a name a shell can set; left out of --format sh\n`);
  }
  if (ctx.json !== undefined) setJsonPayload(ctx, { ...clientLinksJson(links) });
  else ctx.stdout.write(formatClientLinks(links, format satisfies LinkEnvFormat));
}

/** Per alias: the server, its address per family, and every exposed port of every run. */
function linkInputs(reaches: readonly Reach[]): ClientLinkInput[] {
  const byAlias = new Map<string, Reach[]>();
  for (const reach of reaches) {
    const alias = reach.alias ?? reach.container;
    byAlias.set(alias, [...(byAlias.get(alias) ?? []), reach]);
  }
  return [...byAlias]
    .sort((a, b) => compareStrings(a[0], b[0]))
    .map(([alias, list]) => {
      const address = (family: Family): string | null =>
        list.find((r) => r.family === family)?.containerAddress ?? null;
      const ports = new Map<string, LinkedPort>();
      for (const r of list) {
        for (let port = r.port.start; port <= r.port.end; port += 1)
          ports.set(`${r.protocol}/${port}`, { port, protocol: r.protocol });
      }
      return {
        alias,
        server: list[0]?.container ?? alias,
        hostname: null,
        serverAddresses: { inet: address('inet'), inet6: address('inet6') },
        ports: [...ports.values()],
      };
    });
}
