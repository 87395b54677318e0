// The flags and the step apply and plan --live share to check the containers against jls(8)
// before anything reaches pf (see src/apply/check-containers.ts): --jls, --allow-stale,
// --stopped-containers. Without a jls (not FreeBSD and none named, or `--jls none`), nothing is
// checked and apply says so.
import { resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import {
  checkContainers,
  containersOf,
  withheldExposures,
  type ContainerCheck,
  type StoppedPolicy,
} from '../apply/check-containers.js';
import type { ContainerGate } from '../agent/watch-agent.js';
import type { Exposure } from '../model/exposure.js';
import type { Jls } from '../apply/jls-api.js';
import type { CompileOutcome } from '../compile/options.js';
import { createJls, resolveJlsProgram } from '../host/jls.js';
import type { CliContext } from './context.js';

export interface ContainerCheckFlags {
  jls?: string;
  allowStale?: boolean;
  stoppedContainers?: StoppedPolicy;
}

export function addContainerCheckOptions(command: Command, withPolicy: boolean): Command {
  command.option(
    '--jls <path>',
    'jls program that lists the running jails (default: $PFEXPOSE_JLS, else jls on FreeBSD; none: do not check)',
  );
  if (!withPolicy) return command;
  return command
    .option(
      '--allow-stale',
      'apply although a container address is held by another jail, or by none (a warning)',
      false,
    )
    .addOption(
      new Option(
        '--stopped-containers <policy>',
        "keep: a stopped container's exposures stay in pf and wait for it (a warning); withhold: left out until it runs",
      )
        .choices(['keep', 'withhold'])
        .default('keep'),
    );
}

export type HostCheck =
  /** No jls to ask: nothing was checked. explicit: the operator said so (`--jls none`). */
  | { kind: 'unchecked'; explicit: boolean }
  | { kind: 'checked'; check: ContainerCheck }
  /** jls is configured but gave no usable answer. */
  | { kind: 'failed'; message: string };

/** The jls to ask, or null: the test seam (ctx.jls) first, then --jls, PFEXPOSE_JLS, jls on FreeBSD. */
export function jlsFor(flags: ContainerCheckFlags, ctx: CliContext): Jls | null | 'none' {
  if (ctx.jls !== undefined) return ctx.jls;
  const program = resolveJlsProgram(flags.jls, ctx.env, ctx.platform ?? process.platform);
  if (program === null) return flags.jls === 'none' || ctx.env['PFEXPOSE_JLS'] === 'none' ? 'none' : null;
  return createJls({ program: program.includes('/') ? resolve(ctx.cwd, program) : program, env: ctx.env });
}

export async function checkHostContainers(
  outcome: Pick<CompileOutcome, 'containers' | 'exposures'>,
  flags: ContainerCheckFlags,
  ctx: CliContext,
): Promise<HostCheck> {
  const jls = jlsFor(flags, ctx);
  if (jls === null || jls === 'none') return { kind: 'unchecked', explicit: jls === 'none' };
  const listed = await jls.list();
  if (listed.kind !== 'ok') return { kind: 'failed', message: listed.message };
  return { kind: 'checked', check: checkContainers(containersOf(outcome), listed.jails) };
}

/**
 * The agent's gate (AgentDeps.checkContainers) from a check: stale addresses (or a jls that gave
 * no answer) refuse unless --allow-stale; stopped containers are a warning, their exposures left
 * out under --stopped-containers withhold (render: the ruleset of the exposures kept).
 */
export function containerGate(
  host: HostCheck,
  outcome: CompileOutcome,
  flags: ContainerCheckFlags,
  render: (exposures: Exposure[]) => string,
): ContainerGate {
  const pass = (warnings: string[], withheld: string[] = [], kept = outcome): ContainerGate => ({
    kind: 'pass',
    outcome: kept,
    warnings,
    withheld,
  });
  if (host.kind === 'unchecked') return pass([]);
  if (host.kind === 'failed') {
    const message = `the containers could not be checked, as jls gave no answer (${host.message})`;
    return flags.allowStale === true
      ? pass([`${message}; applied without the check (--allow-stale)`])
      : { kind: 'refuse', message: `${message}; pf keeps what it holds until jls answers`, findings: [] };
  }
  const { check } = host;
  const stale = check.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
  const warnings = check.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.message);
  if (stale.length > 0 && flags.allowStale !== true) {
    return {
      kind: 'refuse',
      message: `container addresses are stale (${check.stale.join(', ')}): pf keeps what it holds until the manifests or the jails change (--allow-stale applies anyway)`,
      findings: stale,
    };
  }
  const all = [...stale.map((m) => `${m} (applied anyway: --allow-stale)`), ...warnings];
  if (flags.stoppedContainers !== 'withhold' || check.stopped.length === 0) return pass(all);
  const exposures = withheldExposures(outcome.exposures, check.stopped);
  return pass(all, check.stopped, { ...outcome, exposures, ruleset: render(exposures) });
}
