// What a compile is asked for and what it gives back, shared by the CLI's commands, the agent and
// the tests. Flag parsing that produces CompileOptions stays in src/cli/compile-options.ts.
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import type { Exposure } from '../model/exposure.js';
import type { Lockfile } from '../model/lockfile.js';
import type { ResolvedHost, ResolveOptions } from '../model/resolve-exposures.js';
import type { Reach } from '../model/reach.js';
import type { Dialect } from '../pf/render-ruleset.js';
import type { PortRange } from '../ports/port-spec.js';

/** The pf anchor pfexpose loads into unless --anchor names another. */
export const DEFAULT_ANCHOR = 'pfexpose';

export interface CompileOptions {
  host?: string | undefined;
  gateway?: string | undefined;
  /** route(8)'s answer: the gateway when neither `gateway` nor the manifests name one (see ResolveOptions). */
  routeGateway?: string | undefined;
  pool?: PortRange | undefined;
  dialect: Dialect;
  frozen: boolean;
  anchor: string;
  /** Lock file path; default: see defaultLockPath (the nearest existing lock of the repository, else beside the manifests). */
  lockPath?: string | undefined;
  /**
   * True when the manifests compiled are a subset of those under the lock's directory, so lock
   * entries of containers not read are kept. compilePaths works it out itself; compileParsed and
   * compileSources take it from here (default false: the files given are all there is).
   */
  partialLoad?: boolean | undefined;
  /** Directory relative paths are resolved against; default the process's. */
  cwd?: string | undefined;
}

export interface CompileOutcome {
  ok: boolean;
  diagnostics: Diagnostic[];
  /** Empty when ok is false. */
  exposures: Exposure[];
  /** Links and network reaches (model/reach.ts); empty when ok is false. */
  reaches: Reach[];
  /** The names of the compiled host's containers; empty when ok is false. */
  containerNames: string[];
  /** The rendered ruleset; empty when ok is false. */
  ruleset: string;
  files: string[];
  /** sha256 over the manifest files' names and texts: what the ruleset was made from. */
  manifestDigest: string;
  host: ResolvedHost | null;
  lock: Lockfile;
  lockChanged: boolean;
  lockPath: string;
  /** Each manifest file's text, for code frames. */
  texts: ReadonlyMap<string, string>;
  /**
   * The containers that have exposures, with the jail each runs as (`jail:`, else its own name),
   * sorted by name: what apply, plan --live and the agent check against jls(8). Empty when ok is
   * false; absent in hand-built outcomes (then each exposure's container names its jail).
   */
  containers?: ContainerJail[];
}

/** A container as the host check sees it (see src/apply/check-containers.ts). */
export interface ContainerJail {
  container: string;
  jail: string;
  ip: string | null;
  ip6: string | null;
  /** The container's key under `containers:`. */
  source: SourceSpan;
}

/** What validate needs of CompileOptions: where the lock is, and which files are all there is. */
export type CheckOptions = Pick<CompileOptions, 'lockPath' | 'partialLoad' | 'cwd'>;

export interface CheckOutcome {
  /** False when any error was found. */
  ok: boolean;
  /** Sorted; a diagnostic several hosts' passes found is listed once. */
  diagnostics: Diagnostic[];
  files: string[];
  /** How many containers the documents read declare. */
  containers: number;
  /** The hosts checked, sorted; [null] for a repository that names none. */
  hosts: (string | null)[];
  texts: ReadonlyMap<string, string>;
}

/** The one mapping from a command's options to the model's: compile and validate both use it. */
export function resolveOptions(
  options: CheckOptions & Partial<CompileOptions>,
  lock: Lockfile,
  lockPath: string,
): ResolveOptions {
  return {
    host: options.host,
    gateway: options.gateway,
    routeGateway: options.routeGateway,
    pool: options.pool,
    lock,
    frozen: options.frozen === true,
    lockFileName: lockPath,
    partialLoad: options.partialLoad === true,
  };
}
