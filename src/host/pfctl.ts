// The only door to pf: the implementation of the Pfctl interface (src/pf/pfctl-api.ts) that runs the
// configured pfctl program. Every answer is a typed value; pfctl's habit of printing errors while
// exiting 0 is checked (src/pf/pfctl-api.ts reads each run), so no caller has to.
// Loads and dry runs read a complete file (`-f FILE`, see ruleset-file.ts), never a pipe.
import { DURATION_LIMITS } from '../text/duration.js';
import {
  exitFailure,
  parseAnchorList,
  parseKilledStates,
  parseLabelCounters,
  parsePfctlErrors,
  parseTableList,
  printedLabels,
  validateAnchorName,
  validateLabel,
  withRulesetName,
} from '../pf/pfctl-output.js';
import {
  asPlainFailure,
  readLoadRun,
  readShowRun,
  readStatus,
  type AnchorShowFailure,
  type LoadResult,
  type MainRulesetResult,
  type Pfctl,
  type PfctlFailure,
  type PfStatusResult,
} from '../pf/pfctl-api.js';
import { writeRulesetFile, type RulesetFile } from './ruleset-file.js';
import { runCommand, type RunResult } from './run-command.js';

export const DEFAULT_PFCTL = 'pfctl';
/**
 * The longest --pfctl-timeout (one hour, owned by DURATION_LIMITS). Node's timers take at most
 * 2^31-1 ms and fire after 1 ms beyond that, which would kill every pfctl at once.
 */
export const MAX_PFCTL_TIMEOUT_MS = DURATION_LIMITS.pfctlTimeout.maxMs;

/** More anchors than this and labelsOutside gives up (a failure): --kill-states then ends nothing. */
export const MAX_ANCHORS_SCANNED = 512;

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
  const busyAttempts = Math.max(1, options.busyAttempts ?? 5);
  const busyDelayMs = options.busyDelayMs ?? 100;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  const runner = options.runner ?? runCommand;
  const run = (args: string[]): Promise<RunResult> =>
    runner(program, args, {
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.env === undefined ? {} : { env: options.env }),
    });

  /** A show command: its stdout, or why it cannot be trusted. */
  const show = async (args: string[]): Promise<{ kind: 'ok'; stdout: string } | AnchorShowFailure> => {
    const result = await run(args);
    const failure = runFailure(program, args, result);
    if (failure !== undefined) return failure;
    if (result.kind !== 'completed') throw new Error('unreachable');
    return readShowRun(program, args, result);
  };

  const statusOrShowFailure = async (): Promise<{ kind: 'ok'; enabled: boolean } | AnchorShowFailure> => {
    const answer = await show(['-s', 'info']);
    return answer.kind === 'ok' ? readStatus(answer.stdout) : answer;
  };

  const status = async (): Promise<PfStatusResult> => {
    const answer = await statusOrShowFailure();
    return answer.kind === 'ok' ? answer : asPlainFailure(answer);
  };

  const showMain = async (): Promise<MainRulesetResult> => {
    const nat = await show(['-sn']);
    if (nat.kind !== 'ok') return asPlainFailure(nat);
    const filter = await show(['-sr']);
    if (filter.kind !== 'ok') return asPlainFailure(filter);
    return { kind: 'ok', nat: nat.stdout, filter: filter.stdout };
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
      for (let attempt = 1; ; attempt += 1) {
        const outcome = await loadOnce(args, file.path);
        if (outcome !== 'busy') {
          return outcome.kind === 'ok' || outcome.kind === 'rejected' ? { ...outcome, attempts: attempt } : outcome;
        }
        if (attempt >= busyAttempts) {
          return {
            kind: 'busy',
            attempts: attempt,
            message: `pf stayed busy (EBUSY) through ${attempt} attempts; nothing was loaded, try again`,
          };
        }
        await sleep(busyDelayMs * 2 ** (attempt - 1));
      }
    } finally {
      await file.remove();
    }
  };

  return {
    status,

    showMain,

    async showAnchor(anchor) {
      const name = validateAnchorName(anchor);
      if (!name.ok) return { kind: 'invalid-name', message: name.message };
      const state = await statusOrShowFailure();
      if (state.kind !== 'ok') return state;
      if (!state.enabled) {
        return {
          kind: 'pf-disabled',
          message: 'pf is disabled (pfctl -s info says "Status: Disabled"); enable it with pfctl -e',
        };
      }
      const nat = await show(['-a', anchor, '-P', '-sn']);
      if (nat.kind !== 'ok') return nat;
      const filter = await show(['-a', anchor, '-P', '-sr']);
      if (filter.kind !== 'ok') return filter;
      const tables = await show(['-a', anchor, '-s', 'Tables']);
      if (tables.kind !== 'ok') return tables;
      return { kind: 'ok', nat: nat.stdout, filter: filter.stdout, tables: parseTableList(tables.stdout) };
    },

    dryRun(anchor, text) {
      return loadWithRetry(anchor, text, true);
    },

    load(anchor, text) {
      return loadWithRetry(anchor, text, false);
    },

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

    async labelsOutside(anchor) {
      const labels = new Set<string>();
      const main = await showMain();
      if (main.kind !== 'ok') return main;
      for (const label of printedLabels(`${main.nat}\n${main.filter}`)) labels.add(label);
      const listed = await show(['-v', '-s', 'Anchors']);
      if (listed.kind !== 'ok') return asPlainFailure(listed);
      const others = parseAnchorList(listed.stdout).filter((path) => path !== anchor);
      if (others.length > MAX_ANCHORS_SCANNED) {
        return {
          kind: 'failed',
          message: `pf holds ${others.length} other anchors, more than the ${MAX_ANCHORS_SCANNED} pfexpose reads to check its labels are its own`,
          exitCode: 0,
          stderr: '',
        };
      }
      for (const path of others) {
        for (const which of ['-sn', '-sr']) {
          const shown = await show(['-a', path, which]);
          // An anchor removed since it was listed holds no label any more.
          if (shown.kind === 'anchor-missing') continue;
          if (shown.kind !== 'ok') return asPlainFailure(shown);
          for (const label of printedLabels(shown.stdout)) labels.add(label);
        }
      }
      return { kind: 'ok', labels: [...labels].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), anchors: others.length };
    },
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
