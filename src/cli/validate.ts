// `pfexpose validate [PATH...]`: reads every manifest under the paths, reports each problem at
// its line and column (text, json or github format) and exits 0 when valid, 1 when not.
import { Option } from 'commander';
import type { Command } from 'commander';
import { formatValidateGithub } from '../diagnostics/format-github.js';
import { formatJson } from '../diagnostics/format-json.js';
import { formatSummary, formatText } from '../diagnostics/format-text.js';
import { hasErrors } from '../diagnostics/diagnostic.js';
import { loadManifests } from '../manifest/load-manifests.js';
import type { CliContext } from './context.js';
import { useColor } from './context.js';

export const EXIT_VALID = 0;
export const EXIT_INVALID = 1;

type Format = 'text' | 'json' | 'github';

export function registerValidate(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description('check manifests: YAML, schema, port specs and the checks that need no host')
    .argument('[paths...]', 'manifest files or directories searched for *.yaml and *.yml (default: .)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'github']).default('text'))
    .addHelpText(
      'after',
      [
        '',
        'Exit codes:',
        '  0  every manifest is valid (warnings may be printed)',
        '  1  at least one manifest has an error',
        '  2  usage error or internal error',
        '',
        'Formats: text prints file:line:col: error CODE message (with a code frame on a terminal)',
        'and a summary on stderr; json prints {"diagnostics":[...]}; github prints workflow commands',
        'that GitHub Actions shows as annotations.',
        '',
      ].join('\n'),
    )
    .action(async (paths: string[], options: { format: Format }) => {
      await runValidate(paths.length > 0 ? paths : ['.'], options.format, ctx);
    });
}

export async function runValidate(paths: readonly string[], format: Format, ctx: CliContext): Promise<void> {
  const { manifests, diagnostics, texts } = await loadManifests(paths, { cwd: ctx.cwd });
  switch (format) {
    case 'json':
      ctx.stdout.write(formatJson(diagnostics));
      break;
    case 'github':
      ctx.stdout.write(formatValidateGithub(diagnostics));
      break;
    case 'text': {
      const tty = ctx.stdout.isTTY;
      ctx.stdout.write(formatText(diagnostics, { codeFrame: tty, color: useColor(ctx), sources: texts }));
      const containers = manifests.documents.reduce((n, d) => n + d.containers.length, 0);
      ctx.stderr.write(formatSummary(diagnostics, { files: manifests.files.length, containers }));
      break;
    }
  }
  ctx.exitCode = hasErrors(diagnostics) ? EXIT_INVALID : EXIT_VALID;
}
