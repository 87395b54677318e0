// The options every command that compiles manifests shares (compile, ls, port, plan, apply, watch),
// defined once so their names, help and validation cannot drift apart.
import { Option } from 'commander';
import type { Command } from 'commander';
import { ANCHOR_NAME_PATTERN } from '../pf/pfctl-output.js';
import { describeInterfaceNameProblem, isInterfaceName } from '../ports/interface-name.js';
import { parsePortRange } from '../ports/port-number.js';
import { DEFAULT_ANCHOR, type CompileOptions } from '../compile/options.js';
import type { Dialect } from '../pf/render-ruleset.js';

export interface CompileFlags {
  host?: string;
  gateway?: string;
  pool?: string;
  dialect?: string;
  frozen?: boolean;
  lock?: string;
  anchor?: string;
}

/** Adds --host, --gateway, --pool, --dialect, --frozen, --lock and --anchor to a command. */
export function addCompileOptions(command: Command): Command {
  return command
    .option('--host <name>', 'compile for this host of a multi-host repository')
    .option('--gateway <if>', 'gateway interface for entries that name none (overrides the manifests)')
    .option('--pool <start-end>', "pool for dynamic host ports (default: the host's pool, else 49000-49900)")
    .addOption(
      new Option('--dialect <dialect>', 'pf dialect to render').choices(['freebsd', 'openbsd']).default('freebsd'),
    )
    .option('--frozen', 'fail instead of changing the lock file (for CI and the agent)', false)
    .option(
      '--lock <file>',
      "lock file of dynamic host ports (default: the nearest pfexpose.lock.json in the manifests' directory or above it, up to the repository root)",
    )
    .option('--anchor <name>', 'pf anchor the ruleset is loaded into', DEFAULT_ANCHOR);
}

/**
 * The compile options that change what `ls` and `port` answer (--host, --gateway, --pool,
 * --lock); the others (--dialect, --anchor, --frozen) only concern the rendered ruleset or the
 * lock file, which these commands never print or write.
 */
export function addListingOptions(command: Command): Command {
  return command
    .option('--host <name>', 'only this host of a multi-host repository (default: every host, each labelled)')
    .option('--gateway <if>', 'gateway interface for entries that name none (overrides the manifests)')
    .option('--pool <start-end>', "pool for dynamic host ports (default: the host's pool, else 49000-49900)")
    .option(
      '--lock <file>',
      "lock file of dynamic host ports (default: the nearest pfexpose.lock.json in the manifests' directory or above it, up to the repository root)",
    );
}

/** Turns parsed flags into CompileOptions, or a message saying which flag is wrong and why. */
export function compileOptionsFrom(
  flags: CompileFlags,
  cwd: string,
): { ok: true; options: CompileOptions } | { ok: false; message: string } {
  if (flags.gateway !== undefined && !isInterfaceName(flags.gateway)) {
    const problem =
      describeInterfaceNameProblem(flags.gateway) ??
      "a letter, then letters, digits, '_' or '.', at most 15 characters";
    return { ok: false, message: `--gateway ${JSON.stringify(flags.gateway)} is not an interface name: ${problem}` };
  }
  if (flags.host !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(flags.host)) {
    return {
      ok: false,
      message: `--host ${JSON.stringify(flags.host)} is not a host name (letters, digits, '_', '.', '-', at most 63 characters)`,
    };
  }
  if (flags.anchor !== undefined && !ANCHOR_NAME_PATTERN.test(flags.anchor)) {
    return {
      ok: false,
      message: `--anchor ${JSON.stringify(flags.anchor)} is not an anchor name (letters, digits, '_', '.', '-', at most 63 characters)`,
    };
  }
  let pool: CompileOptions['pool'];
  if (flags.pool !== undefined) {
    const parsed = parsePortRange(flags.pool);
    if (!parsed.ok) {
      return {
        ok: false,
        message: `--pool ${JSON.stringify(flags.pool)}: ${parsed.errors[0]?.message ?? 'not a port range'} (write it as START-END, e.g. 49000-49900)`,
      };
    }
    pool = parsed.range;
  }
  return {
    ok: true,
    options: {
      host: flags.host,
      gateway: flags.gateway,
      pool,
      dialect: (flags.dialect ?? 'freebsd') as Dialect,
      frozen: flags.frozen === true,
      anchor: flags.anchor ?? DEFAULT_ANCHOR,
      lockPath: flags.lock,
      cwd,
    },
  };
}
