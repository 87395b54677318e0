// The detached process `apply --confirm` leaves behind (see confirm-watchdog.ts): a plain script,
// run as `node dist/apply/confirm-watchdog-main.js --state-dir DIR --pfctl PROGRAM ...`, that logs
// one line per event to its stdout (the state directory's confirm-watchdog.log).
import { DURATION_LIMITS } from '../agent/parse-duration.js';
import { watchConfirmDeadline } from './confirm-watchdog.js';
import { StateDirMutex } from '../host/state-dir-mutex.js';
import { createPfctl } from '../host/pfctl.js';
import { StateDir } from './state-dir.js';
import { sendToSyslog } from '../host/syslog.js';

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index < 0 ? undefined : process.argv[index + 1];
}

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} confirm-watchdog pid ${process.pid}: ${line}\n`);
}

/** What the operator must learn even without looking in the state directory: also to syslog (best effort). */
async function logAndSyslog(line: string, priority: string): Promise<void> {
  log(line);
  const failure = await sendToSyslog(`confirm-watchdog: ${line}`, { env: process.env, priority });
  if (failure !== null) log(`could not write to syslog: ${failure}`);
}

async function run(): Promise<number> {
  const stateDir = option('--state-dir');
  const program = option('--pfctl');
  const timeoutMs = Number(option('--pfctl-timeout-ms') ?? '30000');
  const limits = DURATION_LIMITS.pfctlTimeout;
  if (
    stateDir === undefined ||
    program === undefined ||
    !Number.isInteger(timeoutMs) ||
    timeoutMs < limits.minMs ||
    timeoutMs > limits.maxMs
  ) {
    log('usage: confirm-watchdog-main.js --state-dir DIR --pfctl PROGRAM [--pfctl-timeout-ms N]');
    return 2;
  }
  const state = new StateDir(stateDir);
  const deps = {
    pfctl: createPfctl({ program, env: process.env, timeoutMs }),
    state,
    mutex: new StateDirMutex(state.mutexPath, { command: 'confirm-watchdog' }),
  };
  const createdAt = option('--created-at');
  log(`watching ${stateDir} for pfexpose confirm (deadline ${option('--deadline') ?? '?'})`);
  const outcome = await watchConfirmDeadline(deps, { log, ...(createdAt === undefined ? {} : { createdAt }) });
  switch (outcome.kind) {
    case 'none':
      log('nothing to revert: confirmed, reverted by another process, or the load it guarded never happened');
      return 0;
    case 'reverted':
      await logAndSyslog(
        `unconfirmed: the previous ruleset of anchor "${outcome.anchor}" was put back`,
        'user.warning',
      );
      return 0;
    case 'waiting':
      log(`still waiting until ${outcome.deadline}`);
      return 1;
    default:
      await logAndSyslog(`could not revert the unconfirmed apply: ${outcome.reason}`, 'user.err');
      return 1;
  }
}

run().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 2;
  },
);
