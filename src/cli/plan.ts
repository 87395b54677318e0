// `pfexpose plan [PATH...]`: compiles the manifests and compares them with one deployed state (live
// pf, a file of pfctl output, or the same manifests at a git revision). Exit codes follow
// `terraform plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error (usage errors included);
// 3 when --fail-on names a policy the plan breaks.
import { appendFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { formatText } from '../diagnostics/format-text.js';
import { writeFileAtomic } from '../host/atomic-write.js';
import { writeFailureReason } from '../diagnostics/file-errors.js';
import { readGitRevision } from '../host/git.js';
import { DURATION_LIMITS, parseDuration } from '../text/duration.js';
import { createPfctl, resolvePfctlProgram } from '../host/pfctl.js';
import { preflight } from '../apply/preflight.js';
import { MAX_RULESET_FILE_BYTES, readRegularText } from '../host/read-regular-file.js';
import { describeReadFailure } from '../diagnostics/file-errors.js';
import { parsePfctlOutput } from '../pf/parse-pfctl.js';
import {
  AnnotationBudget,
  formatDiagnosticsGithub,
  formatPlanGithub,
  MAX_ANNOTATIONS_PER_SEVERITY,
} from '../plan/format-plan-github.js';
import { planToJson } from '../plan/format-plan-json.js';
import { escapeGithubData } from '../diagnostics/format-github.js';
import { DEFAULT_MAX_LENGTH, formatPlanMarkdown, PLAN_COMMENT_MARKER } from '../plan/format-plan-markdown.js';
import { hasErrors } from '../diagnostics/diagnostic.js';
import { diagnosticJson, envelopeJson } from '../diagnostics/format-json.js';
import { loadManifests } from '../manifest/load-manifests.js';
import { hostNames } from '../model/select-host.js';
import { formatPlanText } from '../plan/format-plan-text.js';
import type { DeployedSource, Plan } from '../plan/plan.js';
import {
  deployedFromCompiled,
  deployedFromRules,
  deployedFromText,
  desiredState,
  normalizedLines,
  planChanges,
  type DeployedState,
} from '../plan/plan-changes.js';
import { createPlanFile, fingerprintDeployed, serializePlanFile } from '../plan/plan-file.js';
import { addCompileOptions, compileOptionsFrom, type CompileFlags } from './compile-options.js';
import type { CliContext } from './context.js';
import { useColor } from './context.js';
import { compileWithGateway, describeDetectedGateway } from '../compile/compile-with-gateway.js';
import { compilePaths, compileSources } from '../compile/compile.js';
import type { CompileOptions, CompileOutcome } from '../compile/options.js';
import { readPlanInputs } from './plan-inputs.js';
import { formatPlanJunit, formatPlanSarif } from '../plan/format-plan-ci.js';
import { PACKAGE_VERSION } from './main.js';
import { repositoryPath } from './repository-paths.js';
import {
  parsePolicies,
  POLICIES,
  POLICY_MEANING,
  policyViolations,
  violationLines,
  type Policy,
  type PolicyViolation,
} from '../plan/policy.js';
import { checkHostContainers, type ContainerCheckFlags } from './container-check.js';
import { JsonReport, withJsonReport } from './json-envelope.js';
import { reportProblem, reportWarning } from './report-diagnostics.js';

export const EXIT_NO_CHANGES = 0;
export const EXIT_PLAN_ERROR = 1;
export const EXIT_CHANGES = 2;
/** plan --fail-on: a policy the plan breaks (the plan is printed as usual). */
export const EXIT_POLICY = 3;

type Format = 'text' | 'json' | 'markdown' | 'github' | 'sarif' | 'junit';

interface PlanFlags extends CompileFlags, ContainerCheckFlags {
  live?: boolean;
  deployed?: string;
  base?: string;
  pfctl?: string;
  pfctlTimeout?: string;
  route?: string;
  format: Format;
  output?: string;
  failOn?: string;
  allHosts?: boolean;
  /** Internal (--all-hosts): the share of GitHub's comment limit one host's markdown may take. */
  markdownMaxLength?: number;
}

const HELP_AFTER = `
Exactly one deployed state:
  --live             the anchor as pf has it now (pfctl -a ANCHOR -P -sn / -sr), after the checks
                     apply makes first: pf enabled, and the main ruleset calling the anchor
  --deployed FILE    pfctl output (-sn then -sr, with or without -v) or a ruleset written by compile
  --base GITREF      the same manifests at that git revision, compiled with the same options
                     (read from git objects; the working tree and index are never touched)

Exit codes (terraform plan -detailed-exitcode's convention):
  0  no changes: the deployed state matches the manifests
  1  error: invalid manifests, unreadable deployed state, or a usage error (a duration out of
     range included); with --live also pf disabled, or /etc/pf.conf not calling the anchor
     (the lines to add are shown, as apply shows them), or no gateway found
  2  changes: applying would change exposures or ruleset lines
  3  with --fail-on: the plan breaks a policy (the plan is printed in full, the policy named)

With --live, the gateway interface comes from the manifests or --gateway, else from
\`route -n get default\` (--route, $PFEXPOSE_ROUTE), exactly as apply finds it; a saved plan
(-o) records the interface found, and apply PLAN compiles with it.

Formats: text (coloured on a terminal unless NO_COLOR is set), json (one object, the envelope
every command's json has: formatVersion 1, command, diagnostics; then changes, summary, deployed,
exposures, rules, unmanaged; printed whatever the outcome), markdown (one pull-request comment, kept under GitHub's size limit),
github (annotations on the manifest lines that add or widen exposures and on the compile's
warnings, at most 10 per severity in all, then the text plan; the markdown is appended to
$GITHUB_STEP_SUMMARY when it is set), sarif (SARIF 2.1.0: a result per flag at the manifest line,
and per policy --fail-on names that the plan breaks) and junit (a test case per changed exposure or
link, failing when flagged); github, sarif and junit name files from the repository root.

Examples:
  pfexpose plan examples/ --base origin/main
  pfexpose plan --live --pfctl /sbin/pfctl -o plan.json
`;

export function registerPlan(program: Command, ctx: CliContext): void {
  const command = program
    .command('plan')
    .description('show what applying the manifests would change, against live pf, a file or a git revision')
    .argument('[paths...]', 'manifest files or directories (default: .)');
  addCompileOptions(command)
    .option('--live', 'compare with the anchor loaded in pf now')
    .option('--deployed <file>', 'compare with pfctl output or a compiled ruleset saved in FILE')
    .option('--base <gitref>', 'compare with the manifests at this git revision (e.g. origin/main)')
    .option('--pfctl <path>', 'pfctl program for --live (default: $PFEXPOSE_PFCTL, else pfctl)')
    .option(
      '--pfctl-timeout <duration>',
      'with --live: give up on one run of pfctl after this long (default: 30s; up to 1h)',
    )
    .option('--route <path>', 'with --live: route program for gateway detection (default: $PFEXPOSE_ROUTE, else route)')
    .option(
      '--jls <path>',
      'with --live: jls program that lists the running jails (default: $PFEXPOSE_JLS, else jls on FreeBSD; none: do not check)',
    )
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['text', 'json', 'markdown', 'github', 'sarif', 'junit'])
        .default('text'),
    )
    .option(
      '--all-hosts',
      'plan every host of the repository, one section each (with --base or --deployed; exit code: the worst host)',
    )
    .option(
      '--fail-on <policies>',
      `exit ${EXIT_POLICY} when the plan breaks one of these comma-separated policies: ${POLICIES.map((p) => `${p} (${POLICY_MEANING[p]})`).join('; ')}`,
    )
    .option(
      '-o, --output <file>',
      'save the plan for apply: the ruleset, what it was compiled from (options, manifest and lock digests), the deployed fingerprint',
    )
    .addHelpText('after', HELP_AFTER)
    .action(async (paths: string[], flags: PlanFlags) => {
      await withJsonReport(ctx, 'plan', flags.format === 'json', async () => {
        ctx.exitCode =
          flags.allHosts === true ? await runAllHosts(paths, flags, ctx) : await runPlan(paths, flags, ctx);
      });
    });
  // A usage error of plan must not look like "changes" (2): it is an error (1). The hook runs
  // before plan parses its own options, so their errors are covered too.
  program.hook('preSubcommand', (_program, subcommand) => {
    if (subcommand === command) ctx.usageExitCode = EXIT_PLAN_ERROR;
  });
}

function usage(ctx: CliContext, message: string): number {
  if (ctx.json !== undefined) reportProblem(ctx, 'usage', message);
  else ctx.stderr.write(`pfexpose plan: ${message}\n(run pfexpose plan --help for usage)\n`);
  return EXIT_PLAN_ERROR;
}

/** Nothing could be planned (or saved): `pfexpose plan: message`, or a command-failed diagnostic. */
function fail(ctx: CliContext, message: string): number {
  reportProblem(ctx, 'command-failed', message, 'pfexpose plan');
  return EXIT_PLAN_ERROR;
}

/** The end of a plan whose diagnostics said why (invalid manifests): said for people, not in json. */
function failSaid(ctx: CliContext, message: string): number {
  if (ctx.json === undefined) ctx.stderr.write(`pfexpose plan: ${message}\n`);
  return EXIT_PLAN_ERROR;
}

export async function runPlan(paths: readonly string[], flags: PlanFlags, ctx: CliContext): Promise<number> {
  const sources = [
    flags.live === true ? '--live' : null,
    flags.deployed !== undefined ? '--deployed' : null,
    flags.base !== undefined ? '--base' : null,
  ].filter((s) => s !== null);
  if (sources.length !== 1) {
    return usage(
      ctx,
      sources.length === 0
        ? 'say what to compare with: --live, --deployed FILE or --base GITREF'
        : `give only one deployed state, not ${sources.join(' and ')}`,
    );
  }
  for (const [flag, value] of [
    ['--pfctl', flags.pfctl],
    ['--pfctl-timeout', flags.pfctlTimeout],
    ['--route', flags.route],
    ['--jls', flags.jls],
  ] as const) {
    if (value !== undefined && flags.live !== true) return usage(ctx, `${flag} only applies to --live`);
  }
  const timeout = parseDuration('--pfctl-timeout', flags.pfctlTimeout ?? '30s', 's', DURATION_LIMITS.pfctlTimeout);
  if (!timeout.ok) return usage(ctx, timeout.message);
  const policies = flags.failOn === undefined ? null : parsePolicies(flags.failOn);
  if (policies !== null && !policies.ok) return usage(ctx, policies.message);
  const parsed = compileOptionsFrom(flags, ctx.cwd);
  if (!parsed.ok) return usage(ctx, parsed.message);
  const options = parsed.options;
  const given = paths.length > 0 ? [...paths] : ['.'];

  // Against live pf, the gateway is found as apply finds it (route(8) when nobody named it).
  let detectedGateway: string | null = null;
  let desired: CompileOutcome;
  if (flags.live === true) {
    const compiled = await compileWithGateway(given, options, { flag: flags.route, env: ctx.env });
    if (compiled.kind === 'no-gateway') {
      reportDiagnostics(ctx, flags.format, compiled.outcome.diagnostics, compiled.outcome);
      return fail(ctx, `${compiled.message}; nothing was planned`);
    }
    desired = compiled.outcome;
    detectedGateway = compiled.detected;
    if (detectedGateway !== null) ctx.stderr.write(`pfexpose plan: ${describeDetectedGateway(detectedGateway)}\n`);
  } else {
    desired = await compilePaths(given, options);
  }
  if (!desired.ok) {
    reportDiagnostics(ctx, flags.format, desired.diagnostics, desired);
    return failSaid(ctx, 'the manifests are not valid; nothing was planned');
  }
  // In github format the compile's warnings share the annotation limit with the plan's own
  // annotations, so they are written with them (or, when no plan comes, on their own).
  if (flags.format !== 'github') reportDiagnostics(ctx, flags.format, desired.diagnostics, desired);
  if (desired.lockChanged) {
    ctx.stderr.write(
      `pfexpose plan: note: ${desired.lockPath} would change (new or dropped dynamic host ports); run pfexpose compile to record it\n`,
    );
  }

  const deployed = await readDeployed(flags, given, options, desired, ctx, timeout.ms);
  if (!deployed.ok) {
    if (flags.format === 'github') reportDiagnostics(ctx, flags.format, desired.diagnostics, desired);
    return fail(ctx, deployed.message);
  }
  if (flags.live === true) await warnAboutContainers(desired, flags, ctx);
  const plan = planChanges(desiredState(desired.exposures, desired.ruleset, desired.reaches), deployed.state);
  const against = describeSource(deployed.source);
  const gate =
    policies === null ? null : { failOn: policies.policies, violations: policyViolations(plan, policies.policies) };

  const status = await writeOutput(
    ctx,
    flags,
    flags.format,
    plan,
    against,
    deployed.source,
    deployed.fingerprint,
    desired.diagnostics,
    gate,
    desired.files,
  );
  if (status !== null) return status;

  if (flags.output !== undefined) {
    // What apply PLAN checks the plan against: the manifests and lock file as compiled here.
    const inputs = await readPlanInputs(desired, ctx.cwd);
    if (!inputs.ok) return fail(ctx, `cannot save the plan to ${flags.output}: ${inputs.message}`);
    const file = createPlanFile({
      plan,
      anchor: options.anchor,
      options: {
        dialect: options.dialect,
        host: options.host ?? null,
        gateway: options.gateway ?? detectedGateway,
        pool: options.pool ?? null,
        frozen: options.frozen,
        lock: desired.lockPath,
        paths: given,
      },
      inputs: inputs.inputs,
      manifestDigest: desired.manifestDigest,
      deployed: deployed.source,
      deployedFingerprint: deployed.fingerprint,
      ruleset: desired.ruleset,
    });
    try {
      await writeFileAtomic(resolve(ctx.cwd, flags.output), serializePlanFile(file));
    } catch (error) {
      return fail(ctx, `cannot write the plan to ${flags.output}: ${writeFailureReason(error)} (nothing was written)`);
    }
  }
  if (gate !== null && gate.violations.length > 0) return EXIT_POLICY;
  return plan.summary.changes ? EXIT_CHANGES : EXIT_NO_CHANGES;
}

/**
 * plan --live checks the containers as apply does (src/cli/container-check.ts), but only says what
 * it found, as warnings: the plan still shows what would change, and apply makes the decision.
 */
async function warnAboutContainers(desired: CompileOutcome, flags: PlanFlags, ctx: CliContext): Promise<void> {
  const host = await checkHostContainers(desired, flags, ctx);
  if (host.kind === 'unchecked') return;
  if (host.kind === 'failed') {
    reportWarning(ctx, `container addresses were not checked: ${host.message}`, 'pfexpose plan');
    return;
  }
  const found = host.check.diagnostics.map((d) => ({ ...d, severity: 'warning' as const }));
  if (found.length === 0) return;
  if (ctx.json !== undefined) ctx.json.add(found);
  else
    ctx.stderr.write(
      formatText(found, { codeFrame: ctx.stderr.isTTY, color: useColor(ctx, ctx.stderr), sources: desired.texts }),
    );
  if (host.check.stale.length > 0) {
    reportWarning(
      ctx,
      `apply would refuse these manifests, as container addresses are stale (${host.check.stale.join(', ')}), unless given --allow-stale`,
      'pfexpose plan',
    );
  }
}

function reportDiagnostics(
  ctx: CliContext,
  format: Format,
  diagnostics: readonly Diagnostic[],
  outcome: CompileOutcome,
): void {
  if (diagnostics.length === 0) return;
  if (ctx.json !== undefined) {
    ctx.json.add(diagnostics);
    return;
  }
  if (format === 'github') {
    const budget = new AnnotationBudget();
    const github = formatDiagnosticsGithub(diagnostics, budget);
    ctx.stdout.write(github.annotations);
    writeOmitted(ctx, budget.omitted, github.omittedText, false);
  } else {
    ctx.stderr.write(
      formatText(diagnostics, {
        codeFrame: ctx.stderr.isTTY,
        color: useColor(ctx, ctx.stderr),
        sources: outcome.texts,
      }),
    );
  }
}

/** Says how many annotations GitHub's limit left out, and writes left-out diagnostics as text. */
function writeOmitted(ctx: CliContext, omitted: number, omittedDiagnostics: string, planFollows: boolean): void {
  if (omitted === 0) return;
  const what = omitted === 1 ? '1 more annotation' : `${omitted} more annotations`;
  const where = [
    ...(planFollows ? ['every change is in the plan below'] : []),
    ...(omittedDiagnostics === '' ? [] : ['the diagnostics left out follow as text']),
  ];
  ctx.stdout.write(
    `pfexpose plan: ${what} left out (GitHub shows at most ${MAX_ANNOTATIONS_PER_SEVERITY} per severity in a step)${where.length > 0 ? `; ${where.join(', and ')}` : ''}\n`,
  );
  ctx.stdout.write(omittedDiagnostics);
}

/** The log of the GitHub Actions run this plan runs in, when the runner's variables say so. */
function workflowRunUrl(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const server = env['GITHUB_SERVER_URL'];
  const repository = env['GITHUB_REPOSITORY'];
  const run = env['GITHUB_RUN_ID'];
  if (server === undefined || repository === undefined || run === undefined) return undefined;
  if (
    !/^https?:\/\/[A-Za-z0-9.-]+(:\d+)?$/.test(server) ||
    !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repository) ||
    !/^\d+$/.test(run)
  ) {
    return undefined;
  }
  return `${server}/${repository}/actions/runs/${run}`;
}

type Deployed =
  { ok: true; state: DeployedState; source: DeployedSource; fingerprint: string } | { ok: false; message: string };

async function readDeployed(
  flags: PlanFlags,
  paths: string[],
  options: CompileOptions,
  desired: CompileOutcome,
  ctx: CliContext,
  pfctlTimeoutMs: number,
): Promise<Deployed> {
  if (flags.live === true) {
    const pfctl = (ctx.pfctl ?? createPfctl)({
      program: resolvePfctlProgram(flags.pfctl, ctx.env),
      env: ctx.env,
      timeoutMs: pfctlTimeoutMs,
    });
    // apply's own preflight: a plan saying "no changes" for an anchor pf never calls (or with pf
    // disabled) would hide that no exposure works.
    const checked = await preflight(pfctl, options.anchor);
    if (checked.kind === 'refused')
      return { ok: false, message: `cannot plan against live pf, which apply would refuse: ${checked.reason}` };
    for (const warning of checked.warnings) reportWarning(ctx, warning, 'pfexpose plan');
    const shown = await pfctl.showAnchor(options.anchor);
    switch (shown.kind) {
      case 'ok': {
        const text = `${shown.nat}\n${shown.filter}`;
        // pfexpose never writes tables: every table in the anchor is shown as unmanaged.
        const state = deployedFromText(text, shown.tables);
        return {
          ok: true,
          state,
          source: { kind: 'live', anchor: options.anchor },
          fingerprint: fingerprintDeployed(state.lines, shown.tables),
        };
      }
      case 'anchor-missing':
        return {
          ok: false,
          message: `anchor "${options.anchor}" does not exist in pf (${shown.message}); add rdr-anchor "${options.anchor}" and anchor "${options.anchor}" to /etc/pf.conf and reload it, or pass --anchor NAME`,
        };
      case 'pf-disabled':
        return { ok: false, message: `cannot read the deployed state: ${shown.message}` };
      default:
        return { ok: false, message: `cannot read the deployed state from pf: ${shown.message}` };
    }
  }
  if (flags.deployed !== undefined) {
    const read = await readRegularText(resolve(ctx.cwd, flags.deployed), { maxBytes: MAX_RULESET_FILE_BYTES });
    if (read.kind !== 'ok')
      return { ok: false, message: `cannot read the deployed state ${flags.deployed}: ${describeReadFailure(read)}` };
    const text = read.text;
    const parsed = parsePfctlOutput(text);
    const first = parsed.diagnostics[0];
    if (parsed.rules.length > 0 && parsed.rules.every((r) => r.kind === 'unparsed') && first !== undefined) {
      return {
        ok: false,
        // Not one line is a rule: the file may be anything, so none of it is quoted. A limit's
        // reason is the reader's own words; other reasons can quote the line, so only its number shows.
        message: `${flags.deployed} holds no pf rule pfexpose can read (line ${first.line}: ${first.limit === true ? first.message : 'not a pf rule'}; no line of the file is shown); give pfctl -a ANCHOR -P -sn and -sr output, or a ruleset written by pfexpose compile`,
      };
    }
    const state = deployedFromRules(text, parsed.rules);
    return {
      ok: true,
      state,
      source: { kind: 'file', path: flags.deployed },
      fingerprint: fingerprintDeployed(state.lines),
    };
  }
  const ref = flags.base ?? 'HEAD';
  const read = await readGitRevision({
    cwd: ctx.cwd,
    ref,
    paths,
    lockPath: desired.lockPath,
    env: ctx.env,
  });
  if (!read.ok) return { ok: false, message: read.message };
  for (const path of read.missing) {
    ctx.stderr.write(`pfexpose plan: note: ${path} did not exist at ${ref}; its manifests count as new\n`);
  }
  // Frozen is about not changing the lock file; compiling the base writes nothing, and a base whose
  // lock was stale is not this change's fault.
  const base = compileSources(read.sources, { ...options, frozen: false }, read.lockText);
  if (!base.ok) {
    // These are the base revision's problems, not the working tree's: say so, and name each file
    // as git does (REF:PATH), so that no one looks for them in the files on disk.
    const shortCommit = read.commit.slice(0, 12);
    const located = base.diagnostics.map((d) => ({ ...d, file: `${ref}:${d.file}` }));
    if (ctx.json !== undefined) ctx.json.add(located);
    else {
      ctx.stderr.write(`pfexpose plan: the manifests at the base revision ${ref} (${shortCommit}) do not compile:\n`);
      ctx.stderr.write(formatText(located, { color: useColor(ctx, ctx.stderr) }));
    }
    return {
      ok: false,
      message: `the base revision ${ref} (${shortCommit}) does not compile with these options (the diagnostics above are its files, not the working tree's), so there is nothing to compare with; fix it there, or plan against another revision`,
    };
  }
  const state = deployedFromCompiled(base.exposures, base.ruleset, base.reaches);
  return {
    ok: true,
    state,
    source: { kind: 'base', ref, commit: read.commit },
    fingerprint: fingerprintDeployed(normalizedLines(parsePfctlOutput(base.ruleset).rules)),
  };
}

function describeSource(source: DeployedSource): string {
  switch (source.kind) {
    case 'live':
      return `live anchor "${source.anchor}"`;
    case 'file':
      return `deployed file ${source.path}`;
    case 'base':
      return `${source.ref} (${source.commit.slice(0, 12)})`;
  }
}

async function writeOutput(
  ctx: CliContext,
  flags: PlanFlags,
  format: Format,
  plan: Plan,
  against: string,
  source: DeployedSource,
  fingerprint: string,
  diagnostics: readonly Diagnostic[],
  gate: { failOn: Policy[]; violations: PolicyViolation[] } | null,
  files: readonly string[],
): Promise<number | null> {
  const runUrl = workflowRunUrl(ctx.env);
  const fullPlan = runUrl === undefined ? {} : { fullPlanUrl: runUrl };
  const violated = violationLines(gate?.violations ?? []);
  switch (format) {
    case 'text':
      ctx.stdout.write(formatPlanText(plan, { color: useColor(ctx), against }));
      if (violated.length > 0) ctx.stdout.write(`\n${violated.map((l) => `${l}\n`).join('')}`);
      return null;
    case 'json': {
      // The envelope carries formatVersion (the plan's own version 1 is the envelope's).
      const { formatVersion: _version, ...json } = planToJson(plan, { deployed: source, fingerprint }) as Record<
        string,
        unknown
      >;
      // `policy` only with --fail-on: the plan's JSON without it reads as before.
      const policy =
        gate === null
          ? {}
          : {
              policy: {
                failOn: gate.failOn,
                violated: gate.violations.map((v) => ({ policy: v.policy, count: v.count, changes: v.changes })),
              },
            };
      if (ctx.json !== undefined) ctx.json.payload = { ...json, ...policy };
      return null;
    }
    case 'markdown': {
      const markdown = formatPlanMarkdown(plan, {
        against,
        ...fullPlan,
        ...(flags.markdownMaxLength === undefined ? {} : { maxLength: flags.markdownMaxLength }),
      });
      ctx.stdout.write(
        violated.length === 0
          ? markdown
          : `${markdown}\n:no_entry: **${violated.map((l) => l.trim()).join('**<br>**')}**\n`,
      );
      return null;
    }
    case 'sarif':
    case 'junit': {
      const ci = {
        version: PACKAGE_VERSION,
        uri: repositoryPath(ctx.cwd, ctx.env),
        diagnostics,
        violations: gate?.violations ?? [],
      };
      ctx.stdout.write(format === 'sarif' ? formatPlanSarif(plan, ci) : formatPlanJunit(plan, files, ci));
      return null;
    }
    case 'github': {
      const github = formatPlanGithub(plan, { against, diagnostics, ...fullPlan });
      for (const v of gate?.violations ?? [])
        ctx.stdout.write(
          `::error title=pfexpose: policy ${v.policy} violated::${escapeGithubData(violationLines([v]).join('\n'))}\n`,
        );
      ctx.stdout.write(github.annotations);
      writeOmitted(ctx, github.omitted, github.omittedDiagnostics, true);
      ctx.stdout.write(formatPlanText(plan, { color: false, against }));
      if (violated.length > 0) ctx.stdout.write(`\n${violated.map((l) => `${l}\n`).join('')}`);
      const summaryFile = ctx.env['GITHUB_STEP_SUMMARY'];
      if (summaryFile !== undefined && summaryFile !== '') {
        try {
          await appendFile(resolve(ctx.cwd, summaryFile), github.summary);
        } catch (error) {
          return fail(
            ctx,
            `cannot append to $GITHUB_STEP_SUMMARY (${summaryFile}): ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
      return null;
    }
  }
}

/** How bad an exit code is, for --all-hosts: an error, then a broken policy, then changes. */
const EXIT_RANK: Record<number, number> = {
  [EXIT_NO_CHANGES]: 0,
  [EXIT_CHANGES]: 1,
  [EXIT_POLICY]: 2,
  [EXIT_PLAN_ERROR]: 3,
};

/**
 * `plan --all-hosts`: the plan of every host the manifests name, each made as `plan --host NAME`
 * would make it, in one output: a section per host (text, markdown, github), or one JSON object
 * with a plan per host. The exit code is the worst host's. A repository of one host plans as usual.
 */
async function runAllHosts(paths: readonly string[], flags: PlanFlags, ctx: CliContext): Promise<number> {
  if (flags.live === true) return usage(ctx, '--all-hosts plans from git or a file: --live reads one host, this one');
  if (flags.host !== undefined) return usage(ctx, '--all-hosts and --host NAME exclude each other');
  if (flags.output !== undefined)
    return usage(ctx, '-o saves the plan of one host: give --host NAME instead of --all-hosts');
  const load = await loadManifests(paths.length > 0 ? paths : ['.'], { cwd: ctx.cwd });
  const hosts = hasErrors(load.diagnostics) ? [] : hostNames(load.manifests);
  if (hosts.length <= 1) return runPlan(paths, { ...flags, allHosts: false }, ctx);
  const share = Math.floor((DEFAULT_MAX_LENGTH - 200 * hosts.length) / hosts.length);
  const results: { host: string; code: number; out: string; report: JsonReport | null }[] = [];
  // Each host is planned as `plan --host NAME` would plan it, into its own output (json: its own envelope).
  const { json: _outer, ...shared } = ctx;
  for (const host of hosts) {
    let out = '';
    const report = flags.format === 'json' ? new JsonReport('plan') : null;
    const sub: CliContext = {
      ...shared,
      stdout: { write: (text) => void (out += text), isTTY: ctx.stdout.isTTY },
      ...(report === null ? {} : { json: report }),
    };
    const code = await runPlan(paths, { ...flags, host, allHosts: false, markdownMaxLength: share }, sub);
    results.push({ host, code, out, report });
  }
  switch (flags.format) {
    case 'json': {
      // The envelope's diagnostics: every host's, each once (a file's problem is found once per host).
      const seen = new Set<string>();
      for (const r of results) {
        for (const d of r.report?.diagnostics ?? []) {
          const key = JSON.stringify(diagnosticJson(d));
          if (seen.has(key)) continue;
          seen.add(key);
          ctx.json?.add([d]);
        }
      }
      const plans = results.map((r) => ({
        host: r.host,
        exitCode: r.code,
        plan: r.report === null ? null : envelopeJson('plan', r.report.diagnostics, r.report.payload ?? undefined),
      }));
      if (ctx.json !== undefined) ctx.json.payload = { hosts: plans };
      break;
    }
    case 'markdown':
      ctx.stdout.write(
        results
          .map((r, i) =>
            (i === 0 ? r.out : r.out.replace(`${PLAN_COMMENT_MARKER}\n`, '')).replace(
              '### pfexpose plan\n',
              `### pfexpose plan: host ${r.host}\n`,
            ),
          )
          .join('\n'),
      );
      break;
    default:
      ctx.stdout.write(results.map((r) => `== host ${r.host} ==\n${r.out}`).join('\n'));
  }
  return results.reduce(
    (worst, r) => ((EXIT_RANK[r.code] ?? 3) > (EXIT_RANK[worst] ?? 3) ? r.code : worst),
    EXIT_NO_CHANGES,
  );
}
