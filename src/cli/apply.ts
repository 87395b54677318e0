// `pfexpose apply`, `rollback` and `confirm`: compile (or read a saved plan), then hand the ruleset
// to the apply core in src/apply, and say in a few lines what was done. The exit code says whether
// pf now holds the desired ruleset (0) or what it held before (1).
import { resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { DURATION_LIMITS, parseDuration } from '../text/duration.js';
import {
  applyRuleset,
  rollbackRuleset,
  type ApplyDeps,
  type ApplyOutcome,
  type ApplyRequest,
  type ConfirmOutcome,
  type PendingOutcome,
} from '../apply/apply-ruleset.js';
import { confirmApply } from '../apply/confirm-window.js';
import { writeFailureReason } from '../diagnostics/file-errors.js';
import { createConfirmWatchdogStarter } from '../apply/confirm-watchdog.js';
import { MAX_RULESET_FILE_BYTES, readRegularText } from '../host/read-regular-file.js';
import { describeReadFailure } from '../diagnostics/file-errors.js';
import { StateDirMutex } from '../host/state-dir-mutex.js';
import { writeLockfile } from '../host/lock-file.js';
import { createPfctl, resolvePfctlProgram } from '../host/pfctl.js';
import { validateAnchorName } from '../pf/pfctl-output.js';
import { dialectRefusal } from '../apply/preflight.js';
import { resolveStateDir, StateDir } from '../apply/state-dir.js';
import type { Exposure } from '../model/exposure.js';
import type { Reach } from '../model/reach.js';
import { formatPlanText } from '../plan/format-plan-text.js';
import { deployedFromText, desiredState, planChanges } from '../plan/plan-changes.js';
import { checkPlanInputs, fingerprintDeployedText, readPlanFile } from '../plan/plan-file.js';
import { addCompileOptions, compileOptionsFrom, type CompileFlags } from './compile-options.js';
import type { CliContext } from './context.js';
import { useColor } from './context.js';
import { compileWithGateway, describeDetectedGateway } from '../compile/compile-with-gateway.js';
import { lockWaitFlag } from './lock-wait-flag.js';
import { compilePaths } from '../compile/compile.js';
import { DEFAULT_ANCHOR, type CompileOptions, type CompileOutcome } from '../compile/options.js';
import { readPlanInputs } from './plan-inputs.js';
import { reportDiagnostics, reportFailure, reportSummary, reportUsage, reportWarning } from './report-diagnostics.js';
import { setJsonPayload, withJsonReport } from './json-envelope.js';
import { addContainerCheckOptions, checkHostContainers, type ContainerCheckFlags } from './container-check.js';
import { withheldExposures } from '../apply/check-containers.js';
import { refusal } from '../apply/apply-helpers.js';
import { renderRuleset } from '../pf/render-ruleset.js';
import type { ContainerJail } from '../compile/options.js';

export const EXIT_OK = 0;
export const EXIT_NOT_APPLIED = 1;

type Format = 'text' | 'json';

interface HostFlags {
  pfctl?: string;
  stateDir?: string;
  pfctlTimeout: string;
  lockWait?: string;
  /** The old name of --lock-wait, kept as a hidden alias. */
  wait?: string;
  format: Format;
}

interface ConfirmFlags extends HostFlags {
  anchor?: string;
}

interface ApplyFlags extends CompileFlags, HostFlags, ContainerCheckFlags {
  route?: string;
  confirm?: string;
  killStates?: boolean;
}

interface RollbackFlags extends HostFlags {
  anchor: string;
  to?: string;
  killStates?: boolean;
  dialect?: string;
}

const EXIT_CODES_HELP = [
  '',
  'Exit codes:',
  '  0  applied, or nothing to do (pf already holds the ruleset)',
  '  1  refused or failed: pf holds what it held before (or it was put back);',
  '     or a saved plan that is stale (its manifests changed) or does not match its own manifests;',
  '     or applied, but the lock file or the state record could not be written (said so);',
  '     or a load failed and the anchor was emptied, as it had held rules pfexpose does not write back;',
  '     or interrupted (SIGINT, SIGHUP, SIGTERM) before the load: nothing was loaded',
  '  2  usage or internal error (--dialect openbsd included)',
  '',
  'Signals: SIGINT, SIGHUP or SIGTERM before the load abandons the apply (exit 1, pf untouched);',
  'once pfctl is loading, pfexpose finishes the load, reads it back (restoring the previous ruleset',
  'on any doubt), records it and exits as usual. Further signals do not cut this short.',
  '',
];

const ROLLBACK_EXIT_CODES_HELP = [
  '',
  'Exit codes:',
  '  0  rolled back (with --to: or pf already holds that entry, nothing loaded)',
  '  1  refused or failed: pf holds what it held before (or it was put back); or nothing to roll back to,',
  "     or pf holds a ruleset the history does not record, or the entry is not pfexpose's own rules;",
  '     or --to names no entry of this anchor, or an apply awaits confirmation;',
  '     or interrupted (SIGINT, SIGHUP, SIGTERM) before the load: nothing was loaded',
  '  2  usage or internal error',
  '',
  'Signals: as for apply, a load under way is finished, verified and recorded before pfexpose exits.',
  '',
];

export function registerApply(program: Command, ctx: CliContext): void {
  // main() may load this module for several of its command names: register once.
  if (program.commands.some((command) => command.name() === 'apply')) return;

  addContainerCheckOptions(
    addHostOptions(
      addCompileOptions(
        program
          .command('apply')
          .description(
            'load the compiled ruleset into the pf anchor: preflight, dry run, one load, read back, state recorded',
          )
          .argument(
            '[paths...]',
            'manifest files or directories (default: .), or one saved plan (PLAN.json from pfexpose plan -o) alone',
          ),
      ),
    )
      .option('--route <path>', 'route program for gateway detection (default: $PFEXPOSE_ROUTE, else route)')
      .option(
        '--confirm <duration>',
        'commit-confirmed: revert by itself unless `pfexpose confirm` runs within DURATION (1s to 24h, e.g. 60s, 2m)',
      )
      .option(
        '--kill-states',
        'end the open connections of exposures the apply removes or narrows (by their label)',
        false,
      ),
    true,
  )
    .addHelpText(
      'after',
      [
        ...EXIT_CODES_HELP,
        'Before loading: pf must be enabled and /etc/pf.conf must call the anchor',
        '(rdr-anchor "pfexpose" and anchor "pfexpose"); pfexpose prints the lines to add.',
        'The gateway interface comes from the manifests or --gateway, else `route -n get default`',
        '(asked only when an entry listens on the gateway; an answer no pf rule can carry is refused).',
        'A saved plan (PLAN.json) is applied only when its recorded manifests, compiled again as they',
        'are now, give exactly its ruleset; run apply PLAN from the directory plan ran in. An argument',
        'whose name ends in .json is a saved plan and must be the only one (manifests are *.yaml, *.yml).',
        '--confirm with nothing to apply opens no window: there is then nothing to confirm.',
        '--kill-states ends only labels pfexpose wrote into the anchor and nothing else in pf uses.',
        'Containers are checked against jls(8) first: an address another jail holds, or that its jail no',
        'longer holds, is refused (--allow-stale: a warning); a stopped jail is a warning (its exposures',
        'wait for it) or, with --stopped-containers withhold, its exposures are left out until it runs.',
        '',
      ].join('\n'),
    )
    .action(async (paths: string[], flags: ApplyFlags) => {
      await withJsonReport(ctx, 'apply', flags.format === 'json', () => runApply(paths, flags, ctx));
    });

  addHostOptions(
    program
      .command('rollback')
      .description(
        "load the ruleset applied before the current one (from the state directory's history), or undo an apply awaiting confirmation",
      )
      .option('--anchor <name>', 'pf anchor', DEFAULT_ANCHOR)
      .option(
        '--to <id>',
        'load this history entry (an id from pfexpose history) instead of the one before the current',
      )
      .option('--kill-states', 'end the open connections of exposures the rollback removes', false)
      // Accepted (and refused unless freebsd) so that a --dialect carried over from apply gets the
      // reason, not "unknown option".
      .addOption(new Option('--dialect <dialect>').hideHelp()),
  )
    .addHelpText('after', ROLLBACK_EXIT_CODES_HELP.join('\n'))
    .action(async (flags: RollbackFlags) => {
      await withJsonReport(ctx, 'rollback', flags.format === 'json', () => runRollback(flags, ctx));
    });

  addHostOptions(
    program
      .command('confirm')
      .description('keep the change made by `apply --confirm` before its window closes')
      .option('--anchor <name>', "confirm only if the open window is this anchor's (default: whichever anchor it is)"),
  )
    .addHelpText(
      'after',
      [
        '',
        'Exit codes:',
        '  0  confirmed',
        "  1  nothing awaited confirmation (no window is open, or the open one is another anchor's),",
        '     or the window had closed and the change was reverted',
        '  2  usage or internal error',
        '',
      ].join('\n'),
    )
    .action(async (flags: ConfirmFlags) => {
      await withJsonReport(ctx, 'confirm', flags.format === 'json', () => runConfirm(flags, ctx));
    });
}

function addHostOptions(command: Command): Command {
  return (
    command
      .option('--pfctl <path>', 'pfctl program (default: $PFEXPOSE_PFCTL, else pfctl)')
      .option(
        '--state-dir <dir>',
        'where the applied rulesets and the lock are kept (default: $PFEXPOSE_STATE_DIR, else /var/db/pfexpose)',
      )
      .option('--pfctl-timeout <duration>', 'give up on one run of pfctl after this long (up to 1h)', '30s')
      .option(
        '--lock-wait <duration>',
        'wait this long for another pfexpose process that holds the lock (default: 0s, refuse at once; up to 1h)',
      )
      // The name apply, rollback and confirm used before the flag was named as in watch.
      .addOption(new Option('--wait <duration>').hideHelp())
      .addOption(
        new Option(
          '--format <format>',
          'text, or json: one object, the envelope {formatVersion, command, diagnostics} then anchor, result, ...',
        )
          .choices(['text', 'json'])
          .default('text'),
      )
  );
}

interface HostSetup {
  deps: ApplyDeps;
  lockWaitMs: number;
}

function hostSetup(flags: HostFlags, ctx: CliContext, command: string, interrupt?: AbortSignal): HostSetup | string {
  // One duration parser, each flag in its documented range (DURATION_LIMITS).
  const timeout = parseDuration('--pfctl-timeout', flags.pfctlTimeout, 's', DURATION_LIMITS.pfctlTimeout);
  if (!timeout.ok) return timeout.message;
  const timeoutMs = timeout.ms;
  const lockWait = lockWaitFlag(flags, '0s');
  if (!lockWait.ok) return lockWait.message;
  const wait = parseDuration(lockWait.flag, lockWait.text, 's', DURATION_LIMITS.lockWait);
  if (!wait.ok) return wait.message;
  const lockWaitMs = wait.ms;
  const program = resolvePfctlProgram(flags.pfctl, ctx.env);
  const stateDir = resolve(ctx.cwd, resolveStateDir(flags.stateDir, ctx.env));
  const state = new StateDir(stateDir);
  return {
    lockWaitMs,
    deps: {
      pfctl: (ctx.pfctl ?? createPfctl)({ program, env: ctx.env, timeoutMs }),
      state,
      mutex: new StateDirMutex(state.mutexPath, { command }),
      startConfirmWatchdog: createConfirmWatchdogStarter({
        stateDir,
        pfctlProgram: program.includes('/') ? resolve(ctx.cwd, program) : program,
        pfctlTimeoutMs: timeoutMs,
        env: ctx.env,
      }),
      fingerprint: (deployed) => fingerprintDeployedText(deployed.text, deployed.tables),
      ...(interrupt === undefined ? {} : { interrupt }),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// signals

const INTERRUPTS = ['SIGINT', 'SIGHUP', 'SIGTERM'] as const;

interface SignalGuard {
  /** Aborted, with the signal's name as reason, at the first SIGINT, SIGHUP or SIGTERM. */
  signal: AbortSignal;
  /** The first signal received, or null. */
  received(): string | null;
  /** Gives the signals back to their default behaviour. */
  dispose(): void;
}

/**
 * While apply, rollback or confirm runs, SIGINT (Ctrl-C), SIGHUP (a dropped ssh session) and
 * SIGTERM no longer end the process on the spot: they stop the transaction before its load, or, a
 * load under way, let it finish, be read back and be recorded (see ApplyDeps.interrupt). pfctl runs
 * in a process group of its own, so a Ctrl-C at the terminal never reaches it.
 */
function guardSignals(ctx: CliContext, command: string): SignalGuard {
  const controller = new AbortController();
  let first: string | null = null;
  const handlers = INTERRUPTS.map((name) => {
    const handler = (): void => {
      if (first === null) {
        first = name;
        controller.abort(name);
        ctx.stderr.write(
          `pfexpose: ${name} received: ${command} stops before its load; a load under way is finished, read back and recorded first\n`,
        );
      } else {
        ctx.stderr.write(`pfexpose: ${name} received again: still finishing the ${command} in progress\n`);
      }
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    received: () => first,
    dispose: () => {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// apply

async function runApply(paths: string[], flags: ApplyFlags, ctx: CliContext): Promise<void> {
  const guard = guardSignals(ctx, 'apply');
  try {
    await runGuardedApply(paths, flags, ctx, guard);
  } finally {
    guard.dispose();
  }
}

async function runGuardedApply(paths: string[], flags: ApplyFlags, ctx: CliContext, guard: SignalGuard): Promise<void> {
  const dialect = dialectRefusal('apply', flags.dialect ?? 'freebsd');
  if (dialect !== null) return reportUsage(ctx, dialect);
  const host = hostSetup(flags, ctx, 'apply', guard.signal);
  if (typeof host === 'string') return reportUsage(ctx, host);
  let confirmSeconds: number | undefined;
  if (flags.confirm !== undefined) {
    const confirm = parseDuration('--confirm', flags.confirm, 's', DURATION_LIMITS.confirm);
    if (!confirm.ok) return reportUsage(ctx, confirm.message);
    confirmSeconds = confirm.ms / 1000;
  }

  const plans = paths.filter(isPlanFileName);
  if (plans.length > 0 && paths.length > 1) {
    return reportUsage(
      ctx,
      `${plans[0] ?? ''}: a saved plan must be the only argument of apply (it records its own manifests and options); give apply ${plans[0] ?? ''} alone, or manifest paths without a plan`,
    );
  }
  const target = plans.length === 1 ? await fromPlanFile(paths[0] ?? '', ctx) : await fromManifests(paths, flags, ctx);
  if (target === null) return;
  const planDialect = dialectRefusal('apply', target.dialect);
  if (planDialect !== null) return reportUsage(ctx, `${paths[0] ?? ''}: the plan was made with ${planDialect}`);
  const checked = await checkTargetContainers(target, flags, ctx, plans.length === 1);
  if (checked !== null) {
    report(ctx, 'apply', target.anchor, checked, {
      exposures: target.exposures,
      ruleset: '',
      texts: target.texts,
    });
    return;
  }

  const request: ApplyRequest = {
    anchor: target.anchor,
    ruleset: target.ruleset,
    exposures: target.exposures ?? [],
    manifestDigest: target.manifestDigest,
    killStates: flags.killStates === true,
    lockWaitMs: host.lockWaitMs,
    dialect: target.dialect,
    ...(confirmSeconds === undefined ? {} : { confirmSeconds }),
    ...(target.expectedFingerprint === undefined ? {} : { expectedFingerprint: target.expectedFingerprint }),
  };
  const outcome = await applyRuleset(host.deps, request);
  report(ctx, 'apply', target.anchor, outcome, {
    exposures: target.exposures,
    reaches: target.reaches ?? [],
    ruleset: target.ruleset,
    texts: target.texts,
    confirmRequested: confirmSeconds !== undefined,
  });
  // The lock file records the dynamic host ports of what pf now holds: written only then, never
  // for an apply that was refused or failed.
  if (target.lock !== undefined && (outcome.kind === 'applied' || outcome.kind === 'unchanged')) {
    try {
      await writeLockfile(resolve(ctx.cwd, target.lock.path), target.lock.value);
      ctx.stderr.write(`updated ${target.lock.path}\n`);
    } catch (error) {
      reportFailure(
        ctx,
        `pf holds the new ruleset, but the lock file ${target.lock.path} could not be written: ${writeFailureReason(error)}; fix that and run the same apply again (it loads nothing and writes the lock file)`,
        EXIT_NOT_APPLIED,
      );
    }
  }
  noteInterruption(ctx, guard, outcome.kind);
}

/**
 * The stale-address guard (see src/cli/container-check.ts): null to go on (target's exposures and
 * ruleset without the withheld containers', when so asked), or the refusal to report. Warnings and
 * the note that nothing was checked go to stderr.
 */
async function checkTargetContainers(
  target: ApplyTarget,
  flags: ApplyFlags,
  ctx: CliContext,
  savedPlan: boolean,
): Promise<ApplyOutcome | null> {
  const exposures = target.exposures ?? [];
  const host = await checkHostContainers(
    { exposures, ...(target.containers === undefined ? {} : { containers: target.containers }) },
    flags,
    ctx,
  );
  if (host.kind === 'unchecked') {
    if (!host.explicit)
      ctx.stderr.write(
        'pfexpose: note: container addresses were not checked: no jls(8) here (not FreeBSD); name one with --jls PATH or PFEXPOSE_JLS, or --jls none to say so\n',
      );
    return null;
  }
  if (host.kind === 'failed') {
    if (flags.allowStale === true) {
      reportWarning(ctx, `container addresses were not checked (--allow-stale): ${host.message}`);
      return null;
    }
    return refusal(
      `cannot check the containers' addresses, as jls gave no answer (${host.message}); fix jls, or apply with --allow-stale to load without the check`,
    );
  }
  const { check } = host;
  const warnings = check.diagnostics.filter((d) => d.severity === 'warning');
  const stale = check.diagnostics.filter((d) => d.severity === 'error');
  if (stale.length > 0 && flags.allowStale !== true) {
    return refusal(
      `${stale.length === 1 ? 'a container address is' : `${stale.length} container addresses are`} stale (jls): pf would send traffic to another jail or to none; update the manifests, or apply with --allow-stale`,
      check.diagnostics,
    );
  }
  reportDiagnostics(
    ctx,
    [
      ...stale.map((d) => ({
        ...d,
        severity: 'warning' as const,
        message: `${d.message} (applied anyway: --allow-stale)`,
      })),
      ...warnings,
    ],
    target.texts,
  );
  if (flags.stoppedContainers === 'withhold' && check.stopped.length > 0) {
    if (savedPlan) {
      reportWarning(
        ctx,
        `--stopped-containers withhold does not change a saved plan: its ruleset is applied as reviewed, ${check.stopped.join(', ')} included`,
      );
      return null;
    }
    target.exposures = withheldExposures(exposures, check.stopped);
    target.ruleset = renderRuleset(target.exposures, { dialect: target.dialect, anchor: target.anchor });
    ctx.stderr.write(
      `pfexpose: withheld until they run (--stopped-containers withhold): ${check.stopped.join(', ')}\n`,
    );
  }
  return null;
}

interface ApplyTarget {
  /** The containers the compile checked (for the stale-address guard). */
  containers?: ContainerJail[];
  anchor: string;
  ruleset: string;
  exposures: Exposure[] | null;
  /** Links and network reaches of the compiled manifests (absent for a saved plan's old format). */
  reaches?: Reach[];
  manifestDigest: string;
  dialect: 'freebsd' | 'openbsd';
  expectedFingerprint?: string;
  texts?: ReadonlyMap<string, string>;
  /** The lock file the compile changed, to write once the apply succeeded. */
  lock?: { path: string; value: CompileOutcome['lock'] };
}

/**
 * A saved plan is told from manifests by its name: `.json` (what plan -o is given); manifests are
 * `*.yaml` / `*.yml`. Decided by name, not content, so that a plan is never read as YAML and a
 * manifest never as a plan, whatever they hold.
 */
function isPlanFileName(path: string): boolean {
  return path.toLowerCase().endsWith('.json');
}

async function fromManifests(paths: string[], flags: ApplyFlags, ctx: CliContext): Promise<ApplyTarget | null> {
  const parsed = compileOptionsFrom(flags, ctx.cwd);
  if (!parsed.ok) {
    reportUsage(ctx, parsed.message);
    return null;
  }
  const compiled = await compileForApply(paths, parsed.options, flags, ctx);
  if (compiled === null) return null;
  reportDiagnostics(ctx, compiled.diagnostics, compiled.texts);
  if (!compiled.ok) {
    reportSummary(ctx, 'pfexpose: the manifests have errors; nothing was applied');
    ctx.exitCode = EXIT_NOT_APPLIED;
    return null;
  }
  return {
    anchor: parsed.options.anchor,
    ruleset: compiled.ruleset,
    exposures: compiled.exposures,
    reaches: compiled.reaches,
    manifestDigest: compiled.manifestDigest,
    dialect: parsed.options.dialect,
    texts: compiled.texts,
    ...(compiled.containers === undefined ? {} : { containers: compiled.containers }),
    ...(compiled.lockChanged && !parsed.options.frozen
      ? { lock: { path: compiled.lockPath, value: compiled.lock } }
      : {}),
  };
}

async function compileForApply(
  paths: string[],
  options: CompileOptions,
  flags: ApplyFlags,
  ctx: CliContext,
): Promise<CompileOutcome | null> {
  const compiled = await compileWithGateway(paths, options, { flag: flags.route, env: ctx.env });
  if (compiled.kind === 'no-gateway') {
    reportDiagnostics(ctx, compiled.outcome.diagnostics, compiled.outcome.texts);
    reportFailure(ctx, `${compiled.message}; nothing was applied`, EXIT_NOT_APPLIED);
    return null;
  }
  if (compiled.detected !== null) ctx.stderr.write(`${describeDetectedGateway(compiled.detected)}\n`);
  return compiled.outcome;
}

async function fromPlanFile(path: string, ctx: CliContext): Promise<ApplyTarget | null> {
  // A plan holds a ruleset and its manifests' digests: twice the ruleset limit is ample. A FIFO,
  // device or oversized file is refused before anything is read.
  const file = await readRegularText(resolve(ctx.cwd, path), { maxBytes: 2 * MAX_RULESET_FILE_BYTES });
  if (file.kind !== 'ok') {
    reportFailure(ctx, `cannot read the plan ${path}: ${describeReadFailure(file)}`, EXIT_NOT_APPLIED);
    return null;
  }
  const read = readPlanFile(file.text);
  if (!read.ok) {
    reportFailure(ctx, `${path}: ${read.message}`, EXIT_NOT_APPLIED);
    return null;
  }
  const plan = read.plan;
  // The plan's ruleset is loaded only if the manifests it records, as they are on disk now and
  // compiled with its options, give exactly that ruleset (plan-file.ts checkPlanInputs).
  const options = plan.options;
  const compiled = await compilePaths(options.paths, {
    host: options.host ?? undefined,
    gateway: options.gateway ?? undefined,
    pool: options.pool ?? undefined,
    dialect: options.dialect,
    frozen: options.frozen,
    anchor: plan.anchor,
    lockPath: options.lock ?? undefined,
    cwd: ctx.cwd,
  });
  const inputs = await readPlanInputs(compiled, ctx.cwd);
  if (!inputs.ok) {
    reportFailure(ctx, `${path}: ${inputs.message}; nothing was applied`, EXIT_NOT_APPLIED);
    return null;
  }
  const check = checkPlanInputs(plan, { ok: compiled.ok, ruleset: compiled.ruleset, inputs: inputs.inputs });
  if (check.kind !== 'ok') {
    reportFailure(ctx, `${path}: ${check.message}`, EXIT_NOT_APPLIED);
    return null;
  }
  if (check.note !== null) ctx.stderr.write(`pfexpose: ${path}: note: ${check.note}\n`);
  reportDiagnostics(ctx, compiled.diagnostics, compiled.texts);
  return {
    anchor: plan.anchor,
    ruleset: compiled.ruleset,
    exposures: compiled.exposures,
    reaches: compiled.reaches,
    manifestDigest: compiled.manifestDigest,
    dialect: options.dialect,
    expectedFingerprint: plan.deployed.fingerprint,
    texts: compiled.texts,
    ...(compiled.containers === undefined ? {} : { containers: compiled.containers }),
    // As for apply on the manifests: new dynamic host ports are recorded once pf holds them.
    ...(compiled.lockChanged && !options.frozen ? { lock: { path: compiled.lockPath, value: compiled.lock } } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// rollback, confirm, watchdog

async function runRollback(flags: RollbackFlags, ctx: CliContext): Promise<void> {
  const dialect = dialectRefusal('rollback', flags.dialect ?? 'freebsd');
  if (dialect !== null) return reportUsage(ctx, dialect);
  const name = validateAnchorName(flags.anchor);
  if (!name.ok) return reportUsage(ctx, `--anchor: ${name.message}`);
  const to = flags.to === undefined ? undefined : parseHistoryId(flags.to);
  if (to === null)
    return reportUsage(
      ctx,
      `--to: ${JSON.stringify(flags.to)} is not a history id: give a number pfexpose history lists`,
    );
  const guard = guardSignals(ctx, 'rollback');
  try {
    const host = hostSetup(flags, ctx, 'rollback', guard.signal);
    if (typeof host === 'string') return reportUsage(ctx, host);
    const outcome = await rollbackRuleset(host.deps, {
      anchor: flags.anchor,
      killStates: flags.killStates === true,
      lockWaitMs: host.lockWaitMs,
      ...(to === undefined ? {} : { to }),
    });
    report(ctx, 'rollback', flags.anchor, outcome, { exposures: null, ruleset: '' });
    noteInterruption(ctx, guard, outcome.kind);
  } finally {
    guard.dispose();
  }
}

/** A history entry's id: a positive whole number (as `pfexpose history` prints it), else null. */
function parseHistoryId(text: string): number | null {
  if (!/^\d{1,15}$/.test(text)) return null;
  const id = Number(text);
  return id >= 1 ? id : null;
}

/** After a signal: say what became of the transaction (a refusal already said it was interrupted). */
function noteInterruption(ctx: CliContext, guard: SignalGuard, outcome: string): void {
  const name = guard.received();
  if (name === null || outcome === 'refused') return;
  ctx.stderr.write(
    `pfexpose: ${name} came when the transaction could no longer stop before its load: it ran to its end before exiting (exit ${ctx.exitCode})\n`,
  );
}

async function runConfirm(flags: ConfirmFlags, ctx: CliContext): Promise<void> {
  const guard = guardSignals(ctx, 'confirm');
  try {
    await runGuardedConfirm(flags, ctx, guard);
  } finally {
    guard.dispose();
  }
}

async function runGuardedConfirm(flags: ConfirmFlags, ctx: CliContext, guard: SignalGuard): Promise<void> {
  if (flags.anchor !== undefined) {
    const name = validateAnchorName(flags.anchor);
    if (!name.ok) return reportUsage(ctx, `--anchor: ${name.message}`);
  }
  const host = hostSetup(flags, ctx, 'confirm', guard.signal);
  if (typeof host === 'string') return reportUsage(ctx, host);
  const outcome = await confirmApply(host.deps, {
    lockWaitMs: Math.max(host.lockWaitMs, 10_000),
    ...(flags.anchor === undefined ? {} : { anchor: flags.anchor }),
  });
  const { ok, lines } = describeConfirm(outcome);
  if (ctx.json !== undefined) {
    setJsonPayload(ctx, confirmJson(outcome));
  } else {
    for (const line of lines) (ok ? ctx.stdout : ctx.stderr).write(`${line}\n`);
  }
  ctx.exitCode = ok ? EXIT_OK : EXIT_NOT_APPLIED;
}

function describeConfirm(outcome: ConfirmOutcome): { ok: boolean; lines: string[] } {
  switch (outcome.kind) {
    case 'confirmed':
      return {
        ok: true,
        lines: [
          `confirmed: the ruleset applied to anchor "${outcome.anchor}" stays (the window would have closed at ${outcome.deadline})`,
        ],
      };
    case 'none':
      // Only a revert the history records is mentioned: an apply --confirm that had nothing to
      // apply opened no window, and nothing was reverted.
      return {
        ok: false,
        lines: [
          outcome.lastRevert === undefined
            ? 'pfexpose: nothing awaits confirmation: no apply --confirm window is open, so there is nothing to confirm'
            : `pfexpose: nothing awaits confirmation: no apply --confirm window is open; the last one (anchor "${outcome.lastRevert.anchor}") was not confirmed in time, and its change was reverted at ${outcome.lastRevert.at}`,
        ],
      };
    case 'other-anchor':
      return {
        ok: false,
        lines: [
          `pfexpose: nothing awaits confirmation for this anchor: the open window is anchor "${outcome.anchor}"'s (until ${outcome.deadline}); run pfexpose confirm --anchor ${outcome.anchor} to keep that change`,
        ],
      };
    case 'too-late':
      return {
        ok: false,
        lines: [`pfexpose: too late: the confirmation window had closed; ${describePending(outcome.revert)}`],
      };
    case 'refused':
      return { ok: false, lines: [`pfexpose: cannot confirm: ${outcome.reason}`] };
  }
}

function describePending(outcome: PendingOutcome): string {
  switch (outcome.kind) {
    case 'reverted':
      return `the previous ruleset of anchor "${outcome.anchor}" was put back`;
    case 'none':
      return 'the change had already been reverted';
    case 'waiting':
      return `it is still waiting until ${outcome.deadline}`;
    case 'failed':
      return `reverting failed: ${outcome.reason}`;
    case 'refused':
      return `reverting was refused: ${outcome.reason}`;
  }
}

/** confirm's payload in the JSON envelope (the envelope carries `command`). */
function confirmJson(outcome: ConfirmOutcome): Record<string, unknown> {
  switch (outcome.kind) {
    case 'confirmed':
      return { result: 'confirmed', anchor: outcome.anchor, deadline: outcome.deadline };
    case 'none':
      return { result: 'none', lastRevert: outcome.lastRevert ?? null };
    case 'other-anchor':
      return { result: 'other-anchor', anchor: outcome.anchor, deadline: outcome.deadline };
    case 'too-late':
      return { result: 'too-late', revert: outcome.revert };
    case 'refused':
      return { result: 'refused', reason: outcome.reason };
  }
}

// ---------------------------------------------------------------------------------------------
// output

function report(
  ctx: CliContext,
  command: 'apply' | 'rollback',
  anchor: string,
  outcome: ApplyOutcome,
  desired: {
    exposures: Exposure[] | null;
    reaches?: readonly Reach[];
    ruleset: string;
    texts?: ReadonlyMap<string, string> | undefined;
    confirmRequested?: boolean;
  },
): void {
  const { exposures, texts } = desired;
  ctx.exitCode = outcome.kind === 'applied' || outcome.kind === 'unchanged' ? EXIT_OK : EXIT_NOT_APPLIED;
  const warn = (warnings: readonly string[]): void => {
    for (const warning of warnings) reportWarning(ctx, warning);
  };
  if (ctx.json !== undefined) {
    // The outcome's warnings and a refusal's diagnostics join the envelope's diagnostics.
    if (outcome.kind === 'unchanged' || outcome.kind === 'applied') warn(outcome.warnings);
    if (outcome.kind === 'refused') ctx.json.add(outcome.diagnostics);
    // apply --confirm: whether a window was opened, so that a script knows whether to confirm.
    const window =
      desired.confirmRequested === true
        ? { confirmWindowOpened: outcome.kind === 'applied' && outcome.confirmDeadline !== undefined }
        : {};
    setJsonPayload(ctx, { ...outcomeJson(anchor, outcome), ...window });
    return;
  }
  switch (outcome.kind) {
    case 'unchanged':
      warn(outcome.warnings);
      ctx.stdout.write(
        `anchor "${anchor}" already holds this ruleset (${ruleCount(outcome.ruleset)}); nothing to do\n`,
      );
      if (desired.confirmRequested === true) {
        ctx.stdout.write(
          'no confirmation window was opened (--confirm): nothing changed, so there is nothing to confirm or to revert\n',
        );
      }
      return;
    case 'applied': {
      warn(outcome.warnings);
      if (exposures !== null) {
        const plan = planChanges(
          desiredState(exposures, desired.ruleset, desired.reaches),
          deployedFromText(outcome.previous),
        );
        ctx.stdout.write(
          formatPlanText(plan, { color: useColor(ctx), against: `anchor "${anchor}" before this ${command}` }),
        );
      } else {
        for (const line of outcome.removed) ctx.stdout.write(`- ${line}\n`);
        for (const line of outcome.added) ctx.stdout.write(`+ ${line}\n`);
      }
      const attempts = outcome.attempts === 1 ? '1 attempt' : `${outcome.attempts} attempts, pf was busy`;
      const what =
        outcome.rolledBackToInitial === true
          ? `rolled back anchor "${anchor}" to what it held before pfexpose first applied to it (recorded at ${outcome.rolledBackTo ?? '?'})`
          : outcome.rolledBackTo !== undefined
            ? `rolled back anchor "${anchor}" to the ruleset applied at ${outcome.rolledBackTo}`
            : `${command === 'apply' ? 'applied' : 'rolled back'} anchor "${anchor}"`;
      ctx.stdout.write(
        `${what}: ruleset +${outcome.added.length} -${outcome.removed.length} lines, loaded and verified (${attempts})\n`,
      );
      if (outcome.killedLabels.length > 0)
        ctx.stdout.write(`ended the open connections of: ${outcome.killedLabels.join(', ')}\n`);
      if (command === 'rollback') {
        // The agent holds a rollback only while its manifests are the ones the rollback took out
        // (see watch-agent.ts); this command does not know which manifests an agent watches.
        ctx.stdout.write(
          'a running pfexpose watch keeps this ruleset (drift repair included) until its manifests change, if they are the ones this rollback took out; watching other manifests, it applies them\n',
        );
      }
      if (outcome.confirmDeadline !== undefined) {
        ctx.stdout.write(
          `awaiting confirmation: run pfexpose confirm before ${outcome.confirmDeadline}, or the previous ruleset comes back by itself\n`,
        );
      }
      return;
    }
    case 'refused':
      reportDiagnostics(ctx, outcome.diagnostics, texts);
      ctx.stderr.write(`pfexpose: ${command} refused, pf was not touched: ${outcome.reason}\n`);
      return;
    case 'failed':
      ctx.stderr.write(`pfexpose: ${command} failed: ${outcome.reason}\n`);
      if (!outcome.restored)
        ctx.stderr.write(`pfexpose: pf may NOT hold the previous ruleset of anchor "${anchor}": check it now\n`);
      return;
  }
}

function ruleCount(text: string): string {
  const count = deployedFromText(text).lines.length;
  return count === 1 ? '1 rule' : `${count} rules`;
}

/**
 * apply's and rollback's payload in the JSON envelope. The envelope carries `command`, the outcome's
 * warnings (run-warning diagnostics) and a refusal's diagnostics.
 */
function outcomeJson(anchor: string, outcome: ApplyOutcome): Record<string, unknown> {
  const base = { anchor, result: outcome.kind };
  switch (outcome.kind) {
    case 'unchanged':
      return base;
    case 'applied':
      return {
        ...base,
        attempts: outcome.attempts,
        added: outcome.added,
        removed: outcome.removed,
        killedLabels: outcome.killedLabels,
        confirmDeadline: outcome.confirmDeadline ?? null,
        rolledBackTo: outcome.rolledBackTo ?? null,
        rolledBackToInitial: outcome.rolledBackToInitial === true,
      };
    case 'refused':
      return {
        ...base,
        reason: outcome.reason,
        linesToAdd: outcome.linesToAdd ?? [],
      };
    case 'failed':
      return { ...base, reason: outcome.reason, restored: outcome.restored };
  }
}
