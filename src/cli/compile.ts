// `pfexpose compile`: manifests in, the pf ruleset out (stdout, or a file written atomically), plus
// the lock file of dynamic host ports brought up to date unless --frozen. `--check FILE` compares
// instead of writing, for repositories that commit the rendered ruleset.
import { resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { writeFileAtomic } from '../host/atomic-write.js';
import { writeFailureReason } from '../diagnostics/file-errors.js';
import { writeLockfile } from '../host/lock-file.js';
import { readRegularFile } from '../host/read-regular-file.js';
import { describeReadFailure } from '../diagnostics/file-errors.js';
import { exposureJson, reachJson } from '../model/exposure-json.js';
import { addCompileOptions } from './compile-options.js';
import type { CompileFlags } from './compile-options.js';
import type { CliContext } from './context.js';
import type { CompileOutcome } from '../compile/options.js';
import { compileForCommand, reportFailure } from './report-diagnostics.js';
import { formatEnvelope } from '../diagnostics/format-json.js';
import { withJsonReport } from './json-envelope.js';

interface CompileCommandFlags extends CompileFlags {
  output?: string;
  check?: string;
  format: 'text' | 'json';
}

export function registerCompile(program: Command, ctx: CliContext): void {
  addCompileOptions(
    program
      .command('compile')
      .description('compile manifests into the pf ruleset of one host (deterministic: same manifests, same bytes)')
      .argument('[paths...]', 'manifest files or directories (default: .)'),
  )
    .option('-o, --output <file>', 'write the ruleset to FILE atomically instead of stdout')
    .option('--check <file>', 'exit 1 when FILE differs from what compile would write; writes nothing')
    .addOption(
      new Option(
        '--format <format>',
        'text: the ruleset; json: one object, the envelope {formatVersion, command, diagnostics} then exposures, reaches, ruleset',
      )
        .choices(['text', 'json'])
        .default('text'),
    )
    .addHelpText(
      'after',
      [
        '',
        'The ruleset loads with: pfctl -o none -a pfexpose -f FILE',
        '',
        'Exit codes:',
        '  0  compiled (with --check: FILE is up to date)',
        '  1  invalid manifests, a conflict, a lock that --frozen forbids changing, or --check found a difference',
        '     (or FILE cannot be read: missing, or not a regular file such as a FIFO or device)',
        '  2  usage or internal error',
        '',
      ].join('\n'),
    )
    .action(async (paths: string[], flags: CompileCommandFlags) => {
      await withJsonReport(ctx, 'compile', flags.format === 'json', () => runCompile(paths, flags, ctx));
    });
}

async function runCompile(paths: string[], flags: CompileCommandFlags, ctx: CliContext): Promise<void> {
  const outcome = await compileForCommand(paths, flags, ctx);
  if (outcome === null) return;
  const text =
    ctx.json !== undefined ? formatEnvelope('compile', ctx.json.diagnostics, compilePayload(outcome)) : outcome.ruleset;
  if (flags.check !== undefined) {
    const fix = `to update it, run the same command with -o ${flags.check} in place of --check ${flags.check}`;
    // A file longer than what compile writes differs: it is never read past that length.
    const expected = Buffer.from(text, 'utf8');
    const current = await readRegularFile(resolve(ctx.cwd, flags.check), { maxBytes: expected.length });
    // --check compares the document with FILE: the verdict is the exit code and a line on stderr.
    if (ctx.json !== undefined) ctx.json.elsewhere = true;
    if (current.kind === 'ok' && Buffer.from(current.bytes).equals(expected)) {
      ctx.stderr.write(`${flags.check} is up to date\n`);
      ctx.exitCode = 0;
    } else if (current.kind === 'ok' || current.kind === 'too-large') {
      ctx.stderr.write(`${flags.check} differs from what compile would write; ${fix}\n`);
      ctx.exitCode = 1;
    } else {
      ctx.stderr.write(
        `pfexpose compile: cannot read --check ${flags.check}: ${describeReadFailure(current)}; ${fix}\n`,
      );
      ctx.exitCode = 1;
    }
    return;
  }
  if (outcome.lockChanged && flags.frozen !== true) {
    const written = await attempt(() => writeLockfile(resolve(ctx.cwd, outcome.lockPath), outcome.lock));
    if (written !== null) return reportFailure(ctx, `cannot write the lock file ${outcome.lockPath}: ${written}`);
    ctx.stderr.write(`updated ${outcome.lockPath}\n`);
  }
  if (flags.output !== undefined) {
    const written = await attempt(() => writeFileAtomic(resolve(ctx.cwd, flags.output as string), text));
    if (written !== null) return reportFailure(ctx, `cannot write ${flags.output}: ${written} (nothing was written)`);
    // The document is FILE: stdout stays empty, as in text format.
    if (ctx.json !== undefined) ctx.json.elsewhere = true;
  } else if (ctx.json !== undefined) {
    ctx.json.payload = compilePayload(outcome);
  } else {
    ctx.stdout.write(text);
  }
  ctx.exitCode = 0;
}

/** Runs an I/O step; returns null on success or the reason it failed. */
async function attempt(step: () => Promise<void>): Promise<string | null> {
  try {
    await step();
    return null;
  } catch (error) {
    return writeFailureReason(error);
  }
}

/**
 * compile's payload in the JSON envelope, the contract other tools build on (docs/reference/cli.md,
 * "JSON output"): exposures, reaches (only when the manifests have links or container networks),
 * ruleset.
 */
function compilePayload(outcome: CompileOutcome): Record<string, unknown> {
  const reaches = outcome.reaches.length === 0 ? {} : { reaches: outcome.reaches.map(reachJson) };
  return { exposures: outcome.exposures.map(exposureJson), ...reaches, ruleset: outcome.ruleset };
}
