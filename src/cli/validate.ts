// `pfexpose validate [PATH...]`: every check compile makes that needs no host, for every host the
// manifests name (pipeline.ts checkPaths, compile's own path), each problem at its line and column
// (text, json or github format); exits 0 when valid, 1 when not. Writes nothing.
import { Option } from 'commander';
import type { Command } from 'commander';
import { formatValidateGithub } from '../diagnostics/format-github.js';
import { formatEnvelope } from '../diagnostics/format-json.js';
import { formatSummary, formatText } from '../diagnostics/format-text.js';
import type { CliContext } from './context.js';
import { useColor } from './context.js';
import { checkPaths } from '../compile/check.js';
import { diagnosticCases, junitXml } from '../diagnostics/format-junit.js';
import { formatSarif } from '../diagnostics/format-sarif.js';
import { PACKAGE_VERSION } from './main.js';
import { fromRepositoryRoot, repositoryPath } from './repository-paths.js';

export const EXIT_VALID = 0;
export const EXIT_INVALID = 1;

type Format = 'text' | 'json' | 'github' | 'sarif' | 'junit';

export function registerValidate(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description(
      'check manifests as compile does, for every host, without the host: YAML, schema, port specs, conflicts, interfaces, hosts, the lock file',
    )
    .argument('[paths...]', 'manifest files or directories searched for *.yaml and *.yml (default: .)')
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['text', 'json', 'github', 'sarif', 'junit'])
        .default('text'),
    )
    .option(
      '--lock <file>',
      'lock file of dynamic host ports to check against, read only (default: the one compile uses)',
    )
    .addHelpText(
      'after',
      [
        '',
        'Checks what compile checks, for each host the manifests name (as compile --host NAME would):',
        "port conflicts within and across files, interfaces against a host's `interfaces:`, `host:`",
        'values against `hosts:`, duplicate containers, pools, and the lock file (readable, valid,',
        'its allocations held; a missing allocation is fine, compile chooses it). Left to plan and',
        'apply: pf and pfctl, and a gateway that only route(8) knows (entries on an undeclared',
        'gateway are checked against each other only). Writes nothing, the lock file included.',
        '',
        'Exit codes:',
        '  0  every manifest is valid (warnings may be printed)',
        '  1  at least one manifest has an error',
        '  2  usage error or internal error',
        '',
        'Formats: text prints file:line:col: error CODE message (with a code frame on a terminal)',
        'and a summary on stderr; json prints one object, the envelope every command prints:',
        '{"formatVersion":1,"command":"validate","diagnostics":[...]} (docs/reference/cli.md, "JSON',
        'output"); github prints workflow commands that GitHub Actions shows as annotations; sarif',
        'prints SARIF 2.1.0 (code scanning), one rule per diagnostic code; junit prints JUnit XML, one',
        'test case per file, failing on its errors. github, sarif and junit name files from the',
        'repository root ($GITHUB_WORKSPACE, else the nearest directory holding .git), so they',
        'attach wherever pfexpose ran.',
        '',
      ].join('\n'),
    )
    .action(async (paths: string[], options: { format: Format; lock?: string }) => {
      await runValidate(paths.length > 0 ? paths : ['.'], options.format, ctx, options.lock);
    });
}

export async function runValidate(
  paths: readonly string[],
  format: Format,
  ctx: CliContext,
  lockPath?: string,
): Promise<void> {
  const outcome = await checkPaths(paths, { cwd: ctx.cwd, lockPath });
  const { diagnostics, texts } = outcome;
  switch (format) {
    case 'json':
      ctx.stdout.write(formatEnvelope('validate', diagnostics));
      break;
    case 'github':
      ctx.stdout.write(formatValidateGithub(fromRepositoryRoot(diagnostics, repositoryPath(ctx.cwd, ctx.env))));
      break;
    case 'sarif':
      ctx.stdout.write(formatSarif(diagnostics, { version: PACKAGE_VERSION, uri: repositoryPath(ctx.cwd, ctx.env) }));
      break;
    case 'junit': {
      const path = repositoryPath(ctx.cwd, ctx.env);
      ctx.stdout.write(junitXml('pfexpose validate', diagnosticCases(outcome.files, diagnostics, path)));
      break;
    }
    case 'text': {
      const tty = ctx.stdout.isTTY;
      ctx.stdout.write(formatText(diagnostics, { codeFrame: tty, color: useColor(ctx), sources: texts }));
      ctx.stderr.write(
        formatSummary(diagnostics, {
          files: outcome.files.length,
          containers: outcome.containers,
          hosts: outcome.hosts.length,
        }),
      );
      break;
    }
  }
  ctx.exitCode = outcome.ok ? EXIT_VALID : EXIT_INVALID;
}
