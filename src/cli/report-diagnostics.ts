// Prints diagnostics of a compiling command on stderr as text (code frames on a terminal), and
// states the usage errors of flags the same way, so every command reports problems alike.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
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
  ctx.stderr.write(
    formatText(diagnostics, {
      codeFrame: ctx.stderr.isTTY,
      color: useColor(ctx, ctx.stderr),
      ...(texts ? { sources: texts } : {}),
    }),
  );
}

/** A wrong flag value: one line naming the flag and the fix, then the usage exit code. */
export function reportUsage(ctx: CliContext, message: string, exitCode = 2): void {
  ctx.stderr.write(`pfexpose: ${message}\n`);
  ctx.exitCode = exitCode;
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
