// What a command may touch of the outside world. main() builds it from the process; tests build
// their own so commands run in-process with captured output.
import type { PfctlOptions } from '../host/pfctl.js';
import type { Pfctl } from '../pf/pfctl-api.js';

export interface Output {
  write(text: string): void;
  /** True when the stream is a terminal (code frames, colours). */
  readonly isTTY: boolean;
}

export interface CliContext {
  stdout: Output;
  stderr: Output;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Set by a command; main() returns it. */
  exitCode: number;
  /**
   * Exit code for usage and internal errors; default 2. `plan` sets 1, because its 2 means
   * "changes" (terraform's -detailed-exitcode convention).
   */
  usageExitCode?: number;
  /**
   * How apply, plan --live and watch reach pf; default createPfctl. Only tests set it (an in-memory
   * pf under the real adapter), so no flag or variable can point it elsewhere.
   */
  pfctl?: (options: PfctlOptions) => Pfctl;
}

/**
 * Colours only on a terminal that can show them: never when NO_COLOR is set to anything but the
 * empty string (https://no-color.org), nor on TERM=dumb (a terminal without escape sequences:
 * Emacs shells, some CI consoles). Every command asks here, for stdout and stderr alike.
 */
export function useColor(ctx: CliContext, out: Output = ctx.stdout): boolean {
  const noColor = ctx.env['NO_COLOR'];
  if (noColor !== undefined && noColor !== '') return false;
  if (ctx.env['TERM'] === 'dumb') return false;
  return out.isTTY;
}
