// The flags and the step apply and plan --live share to check the containers against jls(8)
// before anything reaches pf (see src/apply/check-containers.ts): --jls, --allow-stale,
// --stopped-containers. Without a jls (not FreeBSD and none named, or `--jls none`), nothing is
// checked and apply says so.
import { resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { checkContainers, containersOf, type ContainerCheck, type StoppedPolicy } from '../apply/check-containers.js';
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
