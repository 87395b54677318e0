// How commands report problems, alike everywhere: diagnostics on stderr as text (code frames on a
// terminal), usage errors and failures as one `pfexpose: ...` line, warnings as
// `pfexpose: warning: ...`. Under --format json (ctx.json, see json-envelope.ts) each of them is
// collected for the envelope's diagnostics instead, so stdout carries one object and stderr
// repeats nothing of it.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { atCommandLine } from '../diagnostics/diagnostic.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';
import { formatText } from '../diagnostics/format-text.js';
import { compileOptionsFrom } from './compile-options.js';
import type { CompileFlags } from './compile-options.js';
import type { CliContext } from './context.js';
import { compilePaths } from '../compile/compile.js';
import type { CompileOutcome } from '../compile/options.js';
import { useColor } from './context.js';

export function reportDiagnostics(
  ctx: CliContext,
  diagnostics: readonly Diagnostic[],
  texts?: ReadonlyMap<string, string>,
): void {
  if (diagnostics.length === 0) return;
  if (ctx.json !== undefined) {
    ctx.json.add(diagnostics);
    return;
  }
  ctx.stderr.write(
    formatText(diagnostics, {
      codeFrame: ctx.stderr.isTTY,
      color: useColor(ctx, ctx.stderr),
      ...(texts ? { sources: texts } : {}),
    }),
  );
}

/** A wrong flag value: one line naming the flag and the fix (json: a `usage` diagnostic), then the usage exit code. */
export function reportUsage(ctx: CliContext, message: string, exitCode = 2): void {
  reportProblem(ctx, 'usage', message, 'pfexpose');
  ctx.exitCode = exitCode;
}

/**
 * The command could not do its work for a reason outside the manifests (a file it cannot read or
 * write, pf, git): one line (json: a `command-failed` diagnostic), then exit 1 unless told otherwise.
 */
export function reportFailure(ctx: CliContext, message: string, exitCode = 1, prefix = 'pfexpose'): void {
  reportProblem(ctx, 'command-failed', message, prefix);
  ctx.exitCode = exitCode;
}

/** A problem with no place in a file: `PREFIX: message` on stderr, or an error diagnostic in the envelope. */
export function reportProblem(ctx: CliContext, code: DiagnosticCode, message: string, prefix = 'pfexpose'): void {
  if (ctx.json !== undefined) ctx.json.add([atCommandLine(code, message)]);
  else ctx.stderr.write(`${prefix}: ${message}\n`);
}

/** A warning about the run (pf, jls, the state directory): `PREFIX: warning: message`, or a `run-warning` diagnostic. */
export function reportWarning(ctx: CliContext, message: string, prefix = 'pfexpose'): void {
  if (ctx.json !== undefined) ctx.json.add([{ ...atCommandLine('run-warning', message), severity: 'warning' }]);
  else ctx.stderr.write(`${prefix}: warning: ${message}\n`);
}

/**
 * A line that only repeats what the diagnostics already say (`the manifests have errors; nothing
 * was applied`): written for people, left out of --format json.
 */
export function reportSummary(ctx: CliContext, line: string): void {
  if (ctx.json === undefined) ctx.stderr.write(`${line}\n`);
}

/**
 * The start every compiling command shares: check the flags (usage error: exit 2), compile, print
 * the diagnostics; on invalid manifests set exit 1 and return null.
 */
export async function compileForCommand(
  paths: readonly string[],
  flags: CompileFlags,
  ctx: CliContext,
): Promise<CompileOutcome | null> {
  const parsed = compileOptionsFrom(flags, ctx.cwd);
  if (!parsed.ok) {
    reportUsage(ctx, parsed.message);
    return null;
  }
  const outcome = await compilePaths(paths, parsed.options);
  reportDiagnostics(ctx, outcome.diagnostics, outcome.texts);
  if (!outcome.ok) {
    ctx.exitCode = 1;
    return null;
  }
  return outcome;
}
