// The Pfctl interface the apply core and the agent use, and its answers as data: a port, not an
// adapter. src/host/pfctl.ts implements it by running pfctl; tests implement it in memory.
import {
  exitFailure,
  isAnchorMissing,
  isBusy,
  parsePfInfo,
  significantStderr,
  type LabelCounters,
  type PfctlExit,
  type PfctlLineError,
} from './pfctl-output.js';

/** Why a pfctl run gave no usable answer, whatever was asked. */
export type PfctlFailure =
  | { kind: 'invalid-name'; message: string }
  /** The program could not be started (errno ENOENT, EACCES, ...). */
  | { kind: 'not-found'; message: string }
  | { kind: 'timed-out'; message: string }
  /** A non-zero exit, a signal, or an error printed on stderr. */
  | { kind: 'failed'; message: string; exitCode: number | null; stderr: string };

export type PfStatusResult = { kind: 'ok'; enabled: boolean } | PfctlFailure;

export type MainRulesetResult = { kind: 'ok'; nat: string; filter: string } | PfctlFailure;

export type AnchorShowResult =
  | {
      kind: 'ok';
      /** `pfctl -a NAME -P -sn`: translation rules in pfctl's printed form. */
      nat: string;
      /** `pfctl -a NAME -P -sr`: filter rules. */
      filter: string;
      /** Table names from `pfctl -a NAME -s Tables`, sorted. */
      tables: string[];
    }
  | { kind: 'anchor-missing'; message: string }
  | { kind: 'pf-disabled'; message: string }
  /** pfctl printed an error but exited 0: its output cannot be trusted. */
  | { kind: 'pfctl-error'; message: string; stderr: string }
  | PfctlFailure;

export type LoadResult =
  /** Loaded (or, for a dry run, accepted). warnings: stderr lines that were not errors. */
  | { kind: 'ok'; attempts: number; warnings: string[] }
  /**
   * pfctl refused the text; nothing was loaded. errors carry ruleset line numbers; in message and
   * stderr the file pfctl read is called RULESET_NAME.
   */
  | { kind: 'rejected'; attempts: number; errors: PfctlLineError[]; message: string; stderr: string }
  /** /dev/pf stayed busy through every attempt; nothing was loaded. */
  | { kind: 'busy'; attempts: number; message: string }
  /** The ruleset file could not be written: pfctl never ran, nothing was loaded. */
  | { kind: 'not-started'; message: string }
  | PfctlFailure;

export type KillStatesResult = { kind: 'ok'; killed: number | null } | PfctlFailure;

export type LabelsOutsideResult =
  | {
      kind: 'ok';
      /** Every label of a rule in the main ruleset or in any anchor but the one asked about, sorted. */
      labels: string[];
      /** How many other anchors were read. */
      anchors: number;
    }
  | PfctlFailure;

export type LabelCountersResult =
  | {
      kind: 'ok';
      /** Per label, summed over its rules, sorted by label. */
      counters: LabelCounters[];
      /** Lines of pfctl's output that were not a label and eight counts. */
      unreadable: string[];
    }
  | AnchorShowFailure;

export interface Pfctl {
  /** `pfctl -s info`: is pf enabled? */
  status(): Promise<PfStatusResult>;
  /** `pfctl -sn` and `pfctl -sr` of the main ruleset, for checkAnchorHooks. */
  showMain(): Promise<MainRulesetResult>;
  /** The anchor's translation rules, filter rules and table names; pf-disabled is checked first. */
  showAnchor(anchor: string): Promise<AnchorShowResult>;
  /** `pfctl -o none -a NAME -n -f FILE`: parse and check without loading. */
  dryRun(anchor: string, text: string): Promise<LoadResult>;
  /**
   * `pfctl -o none -a NAME -f FILE`, FILE holding the whole text (written and fsynced first):
   * replace the anchor in one transaction, retrying on EBUSY. A timed-out load may or may not have
   * committed: read the anchor back before deciding.
   */
  load(anchor: string, text: string): Promise<LoadResult>;
  /** `pfctl -k label -k LABEL`: end the open connections of one label. */
  killStates(label: string): Promise<KillStatesResult>;
  /**
   * The labels used anywhere but in `anchor`: the main ruleset (`-sn`, `-sr`) and every other
   * anchor (`-v -s Anchors`, then `-a PATH -sn` / `-sr` each). `pfctl -k label` is not scoped to
   * an anchor, so --kill-states ends no label found here. Optional: a Pfctl without it (a test
   * fake) makes --kill-states end nothing.
   */
  labelsOutside?(anchor: string): Promise<LabelsOutsideResult>;
  /**
   * `pfctl -a NAME -s labels`: what pf counted for each label of the anchor's rules (`pfexpose
   * status`, the agent's metrics). Optional: a Pfctl without it reports no counters.
   */
  labelCounters?(anchor: string): Promise<LabelCountersResult>;
}

export type AnchorShowFailure = Exclude<AnchorShowResult, { kind: 'ok' }>;

/** The anchor-specific answers become plain failures where no anchor was asked about. */
export function asPlainFailure(answer: AnchorShowFailure): PfctlFailure {
  switch (answer.kind) {
    case 'anchor-missing':
    case 'pf-disabled':
      return { kind: 'failed', message: answer.message, exitCode: 0, stderr: '' };
    case 'pfctl-error':
      return { kind: 'failed', message: answer.message, exitCode: 0, stderr: answer.stderr };
    default:
      return answer;
  }
}

/** A show run (`-s ...`) that ended by itself: its stdout, or why it cannot be trusted. */
export function readShowRun(
  program: string,
  args: readonly string[],
  result: PfctlExit & { stdout: string },
): { kind: 'ok'; stdout: string } | AnchorShowFailure {
  const errors = significantStderr(result.stderr);
  if (errors.some(isAnchorMissing)) {
    return { kind: 'anchor-missing', message: `pfctl ${args.join(' ')}: ${errors.join('; ')}` };
  }
  if (result.exitCode !== 0 || result.signal !== null) {
    return exitFailure(program, args, result);
  }
  if (errors.length > 0) {
    return {
      kind: 'pfctl-error',
      message: `pfctl ${args.join(' ')} exited 0 but printed an error: ${errors.join('; ')}`,
      stderr: result.stderr,
    };
  }
  return { kind: 'ok', stdout: result.stdout };
}

/** `pfctl -s info`'s output: enabled or not, or a failure when it says neither. */
export function readStatus(stdout: string): { kind: 'ok'; enabled: boolean } | PfctlFailure {
  const enabled = parsePfInfo(stdout);
  if (enabled === undefined) {
    return {
      kind: 'failed',
      message: `pfctl -s info printed no "Status: Enabled" or "Status: Disabled" line`,
      exitCode: 0,
      stderr: '',
    };
  }
  return { kind: 'ok', enabled };
}

/**
 * One attempt of a load or dry run that ended by itself ('busy': pf said EBUSY, try again).
 * result.stderr names the ruleset file RULESET_NAME; errors are its line errors.
 */
export function readLoadRun(
  program: string,
  shownArgs: readonly string[],
  result: PfctlExit,
  errors: PfctlLineError[],
): LoadResult | 'busy' {
  if (isBusy(result.stderr) && result.exitCode !== 0) return 'busy';
  if (result.exitCode === 0 && result.signal === null && errors.length === 0) {
    return { kind: 'ok', attempts: 1, warnings: significantStderr(result.stderr) };
  }
  if (errors.length > 0 || /pf rules not loaded|Syntax error/i.test(result.stderr)) {
    return {
      kind: 'rejected',
      attempts: 1,
      errors,
      message: `pfctl refused the ruleset: ${significantStderr(result.stderr).join('; ') || 'no reason given'}`,
      stderr: result.stderr,
    };
  }
  return exitFailure(program, shownArgs, result);
}
