// The command-line entry: builds the commander program, owns exit codes for usage and internal
// errors, and never lets a stack trace reach the user (set PFEXPOSE_DEBUG=1 to see one).
import { Command, CommanderError } from 'commander';
import type { CliContext } from './context.js';
import { registerValidate } from './validate.js';

export const EXIT_USAGE = 2;

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('pfexpose')
    .description('Compile container port manifests into a deterministic pf ruleset, plan it and apply it.')
    .version(PACKAGE_VERSION, '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    });
  registerValidate(program, ctx);
  return program;
}

export const PACKAGE_VERSION = '0.1.0';

export async function main(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
        return 0;
      }
      // commander has already printed its message; a usage error has its own exit code.
      return usageExitCode(ctx);
    }
    const message = error instanceof Error ? error.message : String(error);
    ctx.stderr.write(`pfexpose: internal error: ${message}\n`);
    if (ctx.env['PFEXPOSE_DEBUG'] && error instanceof Error && error.stack) ctx.stderr.write(`${error.stack}\n`);
    else ctx.stderr.write('pfexpose: this is a bug; set PFEXPOSE_DEBUG=1 for details and report it\n');
    return usageExitCode(ctx);
  }
}

/** Commands whose exit 2 means something else (plan: "changes") set their own usage code. */
function usageExitCode(ctx: CliContext): number {
  return ctx.exitCode > 0 && ctx.exitCode !== EXIT_USAGE ? ctx.exitCode : EXIT_USAGE;
}

export function processContext(): CliContext {
  return {
    stdout: { write: (s) => void process.stdout.write(s), isTTY: process.stdout.isTTY === true },
    stderr: { write: (s) => void process.stderr.write(s), isTTY: process.stderr.isTTY === true },
    env: process.env,
    cwd: process.cwd(),
    exitCode: 0,
  };
}
