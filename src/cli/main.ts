// The command-line entry: builds the commander program, owns exit codes for usage and internal
// errors, and never lets a stack trace reach the user (set PFEXPOSE_DEBUG=1 to see one).
// Only the module of the command being run is imported, so that a quick `validate` does not pay
// for the watcher, the differ or the host adapter at start-up.
import { Command, CommanderError } from 'commander';
import type { CliContext } from './context.js';
import { atCommandLine } from '../diagnostics/diagnostic.js';
import { formatEnvelope, isJsonCommand, type JsonCommand } from '../diagnostics/format-json.js';

export const EXIT_USAGE = 2;
export const PACKAGE_VERSION = '0.1.0';

type Register = (program: Command, ctx: CliContext) => void;

/** Each command and how to load its module; the order is the order of `--help`. */
const commands: readonly (readonly [string, () => Promise<Register>])[] = [
  ['init', async () => (await import('./init.js')).registerInit],
  ['import', async () => (await import('./import.js')).registerImport],
  ['validate', async () => (await import('./validate.js')).registerValidate],
  ['compile', async () => (await import('./compile.js')).registerCompile],
  ['ls', async () => (await import('./ls.js')).registerLs],
  ['port', async () => (await import('./port.js')).registerPort],
  ['env', async () => (await import('./env.js')).registerEnv],
  ['plan', async () => (await import('./plan.js')).registerPlan],
  ['apply', async () => (await import('./apply.js')).registerApply],
  ['rollback', async () => (await import('./apply.js')).registerApply],
  ['confirm', async () => (await import('./apply.js')).registerApply],
  ['status', async () => (await import('./status.js')).registerStatus],
  ['history', async () => (await import('./history.js')).registerHistory],
  ['watch', async () => (await import('./watch.js')).registerWatch],
  ['schema', async () => (await import('./schema.js')).registerSchema],
];

export async function buildProgram(ctx: CliContext, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('pfexpose')
    .description('Compile container port manifests into a deterministic pf ruleset, plan it and apply it.')
    .version(PACKAGE_VERSION, '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    });
  const first = argv.find((a) => !a.startsWith('-'));
  const chosen = commands.filter(([name]) => name === first);
  for (const [, load] of chosen.length > 0 ? chosen : commands) (await load())(program, ctx);
  // commander applies exitOverride and output settings only to commands that inherit them.
  const json = jsonRequested(argv);
  for (const command of program.commands) {
    command.exitOverride().configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      // Under --format json, main() prints commander's error as the envelope instead.
      outputError: (s, write) => (json === command.name() ? undefined : write(s)),
    });
    if (json === command.name()) command.showHelpAfterError(false);
  }
  return program;
}

export async function main(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  try {
    const program = await buildProgram(ctx, argv);
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      // `pfexpose` with no command prints the help as an error: that is a usage error, not success.
      if (error.code === 'commander.help')
        return argv.some((a) => a === '--help' || a === '-h' || a === 'help') ? 0 : (ctx.usageExitCode ?? EXIT_USAGE);
      const json = jsonRequested(argv);
      if (json !== null) {
        // An unknown option or a missing argument of a command run with --format json: the envelope,
        // with the error as a usage diagnostic (commander printed nothing).
        const message = error.message.replace(/^error: /, '');
        ctx.stdout.write(formatEnvelope(json, [atCommandLine('usage', message)]));
      }
      // Otherwise commander has printed its message already.
      return ctx.usageExitCode ?? EXIT_USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    ctx.stderr.write(`pfexpose: internal error: ${message}\n`);
    if (ctx.env['PFEXPOSE_DEBUG'] && error instanceof Error && error.stack) ctx.stderr.write(`${error.stack}\n`);
    else ctx.stderr.write('pfexpose: this is a bug; set PFEXPOSE_DEBUG=1 for details and report it\n');
    return ctx.usageExitCode ?? EXIT_USAGE;
  }
}

/**
 * The command, when the command line asks for its JSON: the command is one whose `--format json`
 * prints the envelope and the last --format given (`--format json` or `--format=json`) is json.
 * Read from argv before commander parses it, so that its own errors can be JSON too.
 */
export function jsonRequested(argv: readonly string[]): JsonCommand | null {
  const name = argv.find((a) => !a.startsWith('-'));
  if (name === undefined || !isJsonCommand(name)) return null;
  let format: string | undefined;
  for (let i = 0; i < argv.length && argv[i] !== '--'; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--format') format = argv[i + 1];
    else if (arg.startsWith('--format=')) format = arg.slice('--format='.length);
  }
  return format === 'json' ? name : null;
}

/**
 * A reader that stops reading (`pfexpose validate | head -1`) closes the pipe: further writes fail
 * with EPIPE, which Node reports as an unhandled error event with a stack trace. The output has
 * nowhere to go, so such errors are dropped and the command ends with its own exit code.
 */
function ignoreClosedPipe(stream: NodeJS.WriteStream): void {
  if (stream.listenerCount('error') > 0) return;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') return;
    process.exitCode = EXIT_USAGE;
  });
}

export function processContext(): CliContext {
  ignoreClosedPipe(process.stdout);
  ignoreClosedPipe(process.stderr);
  return {
    stdout: { write: (s) => void process.stdout.write(s), isTTY: process.stdout.isTTY === true },
    stderr: { write: (s) => void process.stderr.write(s), isTTY: process.stderr.isTTY === true },
    env: process.env,
    cwd: process.cwd(),
    exitCode: 0,
  };
}
