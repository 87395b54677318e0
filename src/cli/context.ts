// What a command may touch of the outside world. main() builds it from the process; tests build
// their own so commands run in-process with captured output.
import type { PfctlOptions } from '../host/pfctl.js';
import type { RouteOptions } from '../host/route.js';
import type { RouteTable } from '../model/default-route.js';
import type { Pfctl } from '../pf/pfctl-api.js';
import type { Jls } from '../apply/jls-api.js';
import type { JsonReport } from './json-envelope.js';

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
   * Set while a command runs with --format json (json-envelope.ts withJsonReport): diagnostics,
   * usage errors, failures and warnings are collected here for the one JSON document instead of
   * being written on stderr.
   */
  json?: JsonReport;
  /**
   * How apply, plan --live and watch reach pf; default createPfctl. Only tests set it (an in-memory
   * pf under the real adapter), so no flag or variable can point it elsewhere.
   */
  pfctl?: (options: PfctlOptions) => Pfctl;
  /**
   * How apply, plan --live, status and watch ask which jails run; default: createJls over the
   * program --jls / PFEXPOSE_JLS name, or jls on FreeBSD. Only tests set it, as pfctl.
   */
  jls?: Jls;
  /** The operating system, for the default jls (FreeBSD only); default process.platform. Tests set it. */
  platform?: string;
  /** How watch asks for the default route; default createRouteTable. Only tests set it, as pfctl. */
  route?: (options: RouteOptions) => RouteTable;
  /**
   * Where watch hears SIGHUP, SIGTERM and SIGINT; default the process. Only tests set it, to run the
   * agent in process: watch then also leaves the process alone when it stops (no exit, no kill).
   */
  signals?: SignalSource;
}

/** The part of `process` (or any EventEmitter) watch listens on for its signals. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
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
