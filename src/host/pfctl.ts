// The only door to pf: the implementation of the Pfctl interface (src/pf/pfctl-api.ts) that runs the
// configured pfctl program. Every answer is a typed value; pfctl's habit of printing errors while
// exiting 0 is checked (src/pf/pfctl-api.ts reads each run), so no caller has to.
// Loads and dry runs read a complete file (`-f FILE`, see ruleset-file.ts), never a pipe.
import { DURATION_LIMITS } from '../text/duration.js';
import {
  exitFailure,
  parseKilledStates,
  parseLabelCounters,
  parsePfctlErrors,
  validateAnchorName,
  validateLabel,
  withRulesetName,
} from '../pf/pfctl-output.js';
import {
  asPlainFailure,
  readLoadRun,
  readShowRun,
  type LoadResult,
  type Pfctl,
  type PfctlFailure,
  type PfStatusResult,
} from '../pf/pfctl-api.js';
import {
  loadWhileBusy,
  readAnchorRules,
  readLabelsOutside,
  readMainRuleset,
  readPfStatus,
  type ShowRun,
} from '../pf/pfctl-sequences.js';
import { writeRulesetFile, type RulesetFile } from './ruleset-file.js';
import { runCommand, type RunResult } from './run-command.js';

export const DEFAULT_PFCTL = 'pfctl';
/**
 * The longest --pfctl-timeout (one hour, owned by DURATION_LIMITS). Node's timers take at most
 * 2^31-1 ms and fire after 1 ms beyond that, which would kill every pfctl at once.
 */
export const MAX_PFCTL_TIMEOUT_MS = DURATION_LIMITS.pfctlTimeout.maxMs;

export interface PfctlOptions {
  /** The program to run (`--pfctl`, PFEXPOSE_PFCTL); see resolvePfctlProgram. */
  program: string;
  /** Per run of pfctl, 1 ms to MAX_PFCTL_TIMEOUT_MS. Default 30 s. */
  timeoutMs?: number;
  /** Attempts of a load while pfctl answers EBUSY, the first included. Default 5. */
  busyAttempts?: number;
  /** Wait before the second attempt; doubled each time. Default 100 ms. */
  busyDelayMs?: number;
  env?: Readonly<Record<string, string | undefined>>;
  /** Tests replace the backoff wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Where the private directory of each load's ruleset file is made. Default os.tmpdir(). */
  loadDir?: string;
  /** Runs pfctl; default runCommand. Tests put an in-memory pf here (test/helpers/memory-pf.ts). */
  runner?: typeof runCommand;
}

/** `--pfctl` wins, then PFEXPOSE_PFCTL, then `pfctl` from PATH. */
export function resolvePfctlProgram(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  return nonEmpty(flag) ?? nonEmpty(env['PFEXPOSE_PFCTL']) ?? DEFAULT_PFCTL;
}

export function createPfctl(options: PfctlOptions): Pfctl {
  const program = options.program;
  const timeout = options.timeoutMs;
  if (timeout !== undefined && !(Number.isSafeInteger(timeout) && timeout >= 1 && timeout <= MAX_PFCTL_TIMEOUT_MS)) {
    // The CLI refuses such values as usage errors; reaching here is a programmer's mistake.
    throw new RangeError(`createPfctl: timeoutMs ${timeout} is outside 1..${MAX_PFCTL_TIMEOUT_MS}`);
  }
  const retry = {
    attempts: Math.max(1, options.busyAttempts ?? 5),
    delayMs: options.busyDelayMs ?? 100,
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
  };

  const runner = options.runner ?? runCommand;
  const run = (args: string[]): Promise<RunResult> =>
    runner(program, args, {
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.env === undefined ? {} : { env: options.env }),
    });

  /** A show command: its stdout, or why it cannot be trusted. */
  const show: ShowRun = async (args) => {
    const result = await run(args);
    const failure = runFailure(program, args, result);
    if (failure !== undefined) return failure;
    if (result.kind !== 'completed') throw new Error('unreachable');
    return readShowRun(program, args, result);
  };

  const loadOnce = async (args: string[], file: string): Promise<LoadResult | 'busy'> => {
    const raw = await run(args);
    // The file's path changes with every load: messages name it RULESET_NAME instead.
    const result = raw.kind === 'spawn-failed' ? raw : { ...raw, stderr: withRulesetName(raw.stderr, file) };
    const shownArgs = args.map((arg) => (arg === file ? 'FILE' : arg));
    const failure = runFailure(program, shownArgs, result);
    if (failure !== undefined) return failure;
    if (result.kind !== 'completed' || raw.kind !== 'completed') throw new Error('unreachable');
    return readLoadRun(program, shownArgs, result, parsePfctlErrors(raw.stderr, file));
  };

  const loadWithRetry = async (anchor: string, text: string, dry: boolean): Promise<LoadResult> => {
    const name = validateAnchorName(anchor);
    if (!name.ok) return { kind: 'invalid-name', message: name.message };
    // Complete on disk before pfctl starts: whatever happens to this process from here on, pfctl
    // reads the whole ruleset or (the file removed before it opened it) nothing.
    let file: RulesetFile;
    try {
      file = await writeRulesetFile(text, options.loadDir === undefined ? {} : { baseDir: options.loadDir });
    } catch (error) {
      return {
        kind: 'not-started',
        message: `cannot write the ruleset file for pfctl, nothing was loaded: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    const args = ['-o', 'none', '-a', anchor, ...(dry ? ['-n'] : []), '-f', file.path];
    try {
      return await loadWhileBusy(() => loadOnce(args, file.path), retry);
    } finally {
      await file.remove();
    }
  };

  return {
    async status(): Promise<PfStatusResult> {
      const answer = await readPfStatus(show);
      return answer.kind === 'ok' ? answer : asPlainFailure(answer);
    },

    showMain: () => readMainRuleset(show),
    showAnchor: (anchor) => readAnchorRules(show, anchor),
    dryRun: (anchor, text) => loadWithRetry(anchor, text, true),
    load: (anchor, text) => loadWithRetry(anchor, text, false),

    async killStates(label) {
      const valid = validateLabel(label);
      if (!valid.ok) return { kind: 'invalid-name', message: valid.message };
      const args = ['-k', 'label', '-k', label];
      const result = await run(args);
      const failure = runFailure(program, args, result);
      if (failure !== undefined) return failure;
      if (result.kind !== 'completed') throw new Error('unreachable');
      if (result.exitCode !== 0 || result.signal !== null) return exitFailure(program, args, result);
      return { kind: 'ok', killed: parseKilledStates(`${result.stderr}\n${result.stdout}`) };
    },

    async labelCounters(anchor) {
      const name = validateAnchorName(anchor);
      if (!name.ok) return { kind: 'invalid-name', message: name.message };
      const shown = await show(['-a', anchor, '-s', 'labels']);
      return shown.kind === 'ok' ? { kind: 'ok', ...parseLabelCounters(shown.stdout) } : shown;
    },

    labelsOutside: (anchor) => readLabelsOutside(show, anchor),
  };
}

function runFailure(program: string, args: string[], result: RunResult): PfctlFailure | undefined {
  if (result.kind === 'spawn-failed') return { kind: 'not-found', message: result.message };
  if (result.kind === 'timed-out') {
    return { kind: 'timed-out', message: `${program} ${args.join(' ')} ${result.message} and was killed` };
  }
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
