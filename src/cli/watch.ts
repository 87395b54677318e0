// `pfexpose watch [PATH...]`: the agent. Builds the real dependencies (chokidar, pfctl, route, the
// state directory, the apply core), wires signals (SIGHUP reconciles, SIGTERM/SIGINT finish the
// apply in progress and exit 0) and runs until told to stop.
import { Option } from 'commander';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { createAgentLog } from '../agent/agent-log.js';
import type { LogFormat, LogLevel } from '../agent/agent-log.js';
import { AgentMetrics, processIdentity } from '../agent/agent-metrics.js';
import { ManifestCache } from '../agent/manifest-cache.js';
import { OnceWhileItLasts } from '../agent/once-while-it-lasts.js';
import { watchManifests } from '../agent/manifest-watcher.js';
import { formatAddress, isLoopback, parseListenAddress, serveMetrics } from '../agent/metrics-server.js';
import type { ListenAddress, MetricsServer } from '../agent/metrics-server.js';
import { DURATION_LIMITS, parseDuration } from '../text/duration.js';
import { pullCheckout } from '../agent/pull-checkout.js';
import { WatchAgent } from '../agent/watch-agent.js';
import { type DriftMode } from '../agent/decide.js';
import { applyRuleset } from '../apply/apply-ruleset.js';
import { revertExpiredConfirm } from '../apply/confirm-window.js';
import { writeFailureReason } from '../diagnostics/file-errors.js';
import { StateDirMutex } from '../host/state-dir-mutex.js';
import { writeLockfile } from '../host/lock-file.js';
import { createPfctl, resolvePfctlProgram } from '../host/pfctl.js';
import { checkHooks, dialectRefusal } from '../apply/preflight.js';
import { readDeployed } from '../apply/read-deployed.js';
import { createRouteTable, resolveRouteProgram } from '../host/route.js';
import { resolveStateDir, StateDir } from '../apply/state-dir.js';
import { createLoadCache } from '../manifest/load-manifests.js';
import type { YamlFile } from '../manifest/parse-yaml-documents.js';
import { addCompileOptions, compileOptionsFrom } from './compile-options.js';
import type { CompileFlags } from './compile-options.js';
import type { CliContext } from './context.js';
import { compileParsed } from '../compile/compile.js';
import { detectGateway } from '../compile/compile-with-gateway.js';
import { defaultLockPath, readsEveryManifest } from '../compile/lock-discovery.js';
import type { CompileOutcome } from '../compile/options.js';
import { lockWaitFlag } from './lock-wait-flag.js';
import { reportUsage } from './report-diagnostics.js';
import {
  addContainerCheckOptions,
  checkHostContainers,
  containerGate,
  jlsFor,
  type ContainerCheckFlags,
} from './container-check.js';
import { renderRuleset } from '../pf/render-ruleset.js';
import { PACKAGE_VERSION } from './main.js';

export const EXIT_STOPPED = 0;
export const EXIT_START_FAILED = 1;

interface WatchFlags extends CompileFlags, ContainerCheckFlags {
  debounce: string;
  settle: string;
  interval: string;
  drift: DriftMode;
  pull?: string;
  logFormat: LogFormat;
  logLevel: LogLevel;
  metrics?: string;
  metricsAllowRemote?: boolean;
  killStates?: boolean;
  pfctl?: string;
  route?: string;
  stateDir?: string;
  lockWait?: string;
  /** The old name of --lock-wait in apply, rollback and confirm: a hidden alias here too. */
  wait?: string;
  pfctlTimeout: string;
}

const HELP_AFTER = `
The agent: on every change of the manifests (debounced) it loads, validates, compiles and
compares them with what is deployed, and applies only a difference. A new or changed file counts
only once it has stayed the same (inode, size, times and a SHA-256 of its content, read twice
--settle apart): a file still being written is not compiled. A writer that pauses longer than
--settle in the middle of a file can still be seen half-written: write manifests to a
temporary name and rename them into place, which is always safe. Invalid manifests never
reach pf: the deployed ruleset stays and the diagnostics are logged. Only changed files are
read again. Every --interval it reconciles: it reads the live anchor and the gateway, and
repairs drift (--drift correct) or only reports it, once while it lasts (--drift warn).
Reconciles go on while the manifests are invalid, guarding the last ruleset that compiled
(or, until one has, the one the state directory records as last applied).

apply and watch drive FreeBSD's pfctl: --dialect openbsd is refused (it is for compile and
plan).

Every reconcile also checks what apply checks before loading (pf enabled, the main ruleset
calling the anchor); while that fails nothing is loaded and /healthz says why. After
pfexpose rollback, or an unconfirmed apply --confirm reverted at its deadline, the agent
holds the ruleset that put back (repairing drift towards it) until the manifests change.

Durations: 500ms, 30s, 5m, 1h; a bare number is milliseconds for --debounce and --settle,
seconds for --interval, --pull, --lock-wait and --pfctl-timeout. Ranges: --debounce 0 to
10m, --settle 100ms to 10m, --interval 0 or 100ms to 24h, --pull 1s to 24h, --lock-wait 0 to
1h, --pfctl-timeout 1ms to 1h; a value outside its range is a usage error (exit 2).

--pull: git fetch, then git reset --hard to the branch's upstream (a history rewritten upstream
is followed, and logged), with submodules, hooks and fsmonitor off and a 2-minute deadline. A
failed pull is logged, counted and shown by /healthz (503 pull-failed) until a pull succeeds;
meanwhile the agent goes on with the checkout as it was.

Signals: SIGHUP reconciles now; SIGTERM and SIGINT let a load in progress finish (anything
else in progress, a pull included, is abandoned), then exit 0.

Logs go to stdout: one line per event, text by default, JSON lines with --log-format json
({"time","level","event","message",...fields}).

--metrics ADDRESS:PORT serves /metrics (Prometheus text format) and /healthz (200 while
healthy, 503 after a failed or refused apply, an unreadable anchor, a failed preflight or pull,
a file that never settles, or a cycle running for over 5 minutes plus --lock-wait); loopback
addresses only unless --metrics-allow-remote. At most 32 connections at once (more are closed
at once), each closed after 10 s without a request.

Exit codes:
  0  stopped by SIGTERM or SIGINT (or, should a file read never return, ended by that
     signal itself after logging stop-forced)
  1  could not start (metrics address in use, ...)
  2  usage error

Example (FreeBSD, see contrib/rc.d/pfexpose):
  pfexpose watch /usr/local/etc/pfexpose --interval 60s --metrics 127.0.0.1:9813
`;

export function registerWatch(program: Command, ctx: CliContext): void {
  const command = program
    .command('watch')
    .description('run the agent: apply the manifests whenever they change, repair drift on an interval')
    .argument('[paths...]', 'manifest files or directories (default: .)');
  addContainerCheckOptions(addCompileOptions(command), true)
    .option('--pfctl <path>', 'pfctl program (default: $PFEXPOSE_PFCTL, else pfctl)')
    .option('--route <path>', 'route program for gateway detection (default: $PFEXPOSE_ROUTE, else route)')
    .option('--state-dir <dir>', 'state directory (default: $PFEXPOSE_STATE_DIR, else /var/db/pfexpose)')
    .option('--debounce <duration>', 'quiet time after a change before the agent acts', '500ms')
    .option('--settle <duration>', 'how long a new or changed manifest must stay unchanged before it counts', '2s')
    .option('--interval <duration>', 'reconcile interval (0: only on SIGHUP)', '60s')
    .addOption(
      new Option('--drift <mode>', 'what to do when the live anchor was changed outside pfexpose')
        .choices(['correct', 'warn'])
        .default('correct'),
    )
    .option(
      '--pull <duration>',
      'bring the git checkout holding the manifests to its upstream this often (fetch + reset --hard), then reconcile',
    )
    .option('--kill-states', 'end the open connections of removed or narrowed exposures', false)
    .option(
      '--lock-wait <duration>',
      'how long an apply waits for another pfexpose holding the lock (default: 30s; up to 1h)',
    )
    .addOption(new Option('--wait <duration>').hideHelp())
    .option('--pfctl-timeout <duration>', 'give up on one run of pfctl after this long (up to 1h)', '30s')
    .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'json']).default('text'))
    .addOption(
      new Option('--log-level <level>', 'lowest level logged')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .option('--metrics <address:port>', 'serve /metrics and /healthz on this address (e.g. 127.0.0.1:9813)')
    .option('--metrics-allow-remote', 'allow --metrics on an address other than loopback', false)
    .addHelpText('after', HELP_AFTER)
    .action(async (paths: string[], flags: WatchFlags) => {
      await runWatch(paths.length > 0 ? paths : ['.'], flags, ctx);
    });
}

interface ParsedTimes {
  debounceMs: number;
  settleMs: number;
  intervalMs: number;
  pullMs: number | null;
  lockWaitMs: number;
  pfctlTimeoutMs: number;
}

function parseTimes(flags: WatchFlags): { ok: true; times: ParsedTimes } | { ok: false; message: string } {
  const debounce = parseDuration('--debounce', flags.debounce, 'ms', DURATION_LIMITS.debounce);
  if (!debounce.ok) return debounce;
  const settle = parseDuration('--settle', flags.settle, 'ms', DURATION_LIMITS.settle);
  if (!settle.ok) return settle;
  const interval = parseDuration('--interval', flags.interval, 's', DURATION_LIMITS.interval);
  if (!interval.ok) return interval;
  if (interval.ms > 0 && interval.ms < 100)
    return {
      ok: false,
      message: `--interval ${flags.interval} is too short: use at least 100ms, or 0 to reconcile only on SIGHUP`,
    };
  let pullMs: number | null = null;
  if (flags.pull !== undefined) {
    const pull = parseDuration('--pull', flags.pull, 's', DURATION_LIMITS.pull);
    if (!pull.ok) return pull;
    pullMs = pull.ms;
  }
  const lockWaitGiven = lockWaitFlag(flags, '30s');
  if (!lockWaitGiven.ok) return lockWaitGiven;
  const lockWait = parseDuration(lockWaitGiven.flag, lockWaitGiven.text, 's', DURATION_LIMITS.lockWait);
  if (!lockWait.ok) return lockWait;
  const pfctlTimeout = parseDuration('--pfctl-timeout', flags.pfctlTimeout, 's', DURATION_LIMITS.pfctlTimeout);
  if (!pfctlTimeout.ok) return pfctlTimeout;
  return {
    ok: true,
    times: {
      debounceMs: debounce.ms,
      settleMs: settle.ms,
      intervalMs: interval.ms,
      pullMs,
      lockWaitMs: lockWait.ms,
      pfctlTimeoutMs: pfctlTimeout.ms,
    },
  };
}

export async function runWatch(paths: readonly string[], flags: WatchFlags, ctx: CliContext): Promise<void> {
  const compiled = compileOptionsFrom(flags, ctx.cwd);
  if (!compiled.ok) return reportUsage(ctx, compiled.message);
  const dialect = dialectRefusal('watch', compiled.options.dialect);
  if (dialect !== null) return reportUsage(ctx, dialect);
  const times = parseTimes(flags);
  if (!times.ok) return reportUsage(ctx, times.message);
  let metricsAddress: ListenAddress | null = null;
  if (flags.metrics !== undefined) {
    const parsed = parseListenAddress(flags.metrics);
    if (!parsed.ok) return reportUsage(ctx, parsed.message);
    if (!isLoopback(parsed.address.host) && flags.metricsAllowRemote !== true) {
      return reportUsage(
        ctx,
        `--metrics ${flags.metrics} is not a loopback address: use 127.0.0.1 or [::1], or add --metrics-allow-remote to serve it to the network`,
      );
    }
    metricsAddress = parsed.address;
  }

  const options = compiled.options;
  const log = createAgentLog({
    format: flags.logFormat,
    level: flags.logLevel,
    write: (line) => ctx.stdout.write(line),
  });
  const lockPath = options.lockPath ?? (await defaultLockPath(paths, ctx.cwd));
  // The lock compile would use (the repository's, found from the paths). Watching only some of the
  // manifests under its directory (files, or a subdirectory): the lock entries of containers the
  // agent does not see are kept, as a partial compile keeps them.
  const partialLoad = !(await readsEveryManifest(paths, [], lockPath, ctx.cwd));
  const cache = new ManifestCache(paths, { cwd: ctx.cwd, lockPath, settleMs: times.times.settleMs });
  // Unchanged files keep their YamlFile objects in the cache above, and with them their built documents.
  const loadCache = createLoadCache();
  const compileFor = (
    parsed: readonly YamlFile[],
    lockText: string | null,
    gateway: string | undefined,
  ): CompileOutcome =>
    compileParsed(
      parsed,
      { ...options, lockPath, partialLoad, ...(gateway === undefined ? {} : { routeGateway: gateway }) },
      lockText,
      loadCache,
    );
  let prepared: {
    parsed: YamlFile[];
    lockText: string | null;
    gateway: string | undefined;
    outcome: CompileOutcome;
  } | null = null;
  const pfctl = (ctx.pfctl ?? createPfctl)({
    program: resolvePfctlProgram(flags.pfctl, ctx.env),
    env: ctx.env,
    timeoutMs: times.times.pfctlTimeoutMs,
  });
  const route = (ctx.route ?? createRouteTable)({ program: resolveRouteProgram(flags.route, ctx.env), env: ctx.env });
  const state = new StateDir(resolveStateDir(flags.stateDir, ctx.env));
  const mutex = new StateDirMutex(state.mutexPath, { command: 'watch' });
  const metrics = new AgentMetrics(processIdentity(PACKAGE_VERSION));
  const firstPath = resolve(ctx.cwd, paths[0] ?? '.');

  const agent = new WatchAgent(
    {
      readManifests: () => cache.read(),
      prepare: async (gateway) => {
        const fetched = await cache.prefetch();
        prepared = { ...fetched, gateway, outcome: compileFor(fetched.parsed, fetched.lockText, gateway) };
      },
      compile: (snapshot, gateway) => {
        // What prepare compiled serves once, and only when nothing it was made from has moved since.
        const ready = prepared;
        prepared = null;
        if (
          ready !== null &&
          ready.gateway === gateway &&
          ready.lockText === snapshot.lockText &&
          sameItems(ready.parsed, snapshot.parsed)
        ) {
          return ready.outcome;
        }
        return compileFor(snapshot.parsed, snapshot.lockText, gateway);
      },
      detectGateway: () => detectGateway(route),
      readDeployed: (anchor) => readDeployed(pfctl, anchor),
      checkHooks: (anchor) => checkHooks(pfctl, anchor),
      ...(pfctl.labelCounters === undefined ? {} : { readCounters: pfctl.labelCounters.bind(pfctl) }),
      apply: (request) => applyRuleset({ pfctl, state, mutex }, { ...request, dialect: options.dialect }),
      // Records the agent may load from: only pfexpose's own rules (issue 9; see StateDir).
      readNewestRecord: (anchor) => state.readLoadableNewest(anchor),
      resolvePendingConfirm: async () => {
        // Read without the lock first: the lock is only worth taking when there is a revert to make.
        const pending = await state.readPendingConfirm();
        if (pending.kind === 'absent') return { kind: 'none' };
        if (pending.kind === 'corrupt') return { kind: 'refused', reason: pending.message };
        if (Date.parse(pending.value.deadline) > Date.now())
          return { kind: 'waiting', deadline: pending.value.deadline, anchor: pending.value.anchor };
        return revertExpiredConfirm({ pfctl, state, mutex }, { lockWaitMs: times.times.lockWaitMs });
      },
      readRecorded: async (anchor) => {
        const current = await state.readLoadableCurrent(anchor);
        return current === null ? null : { ruleset: current.ruleset, manifestDigest: current.manifestDigest };
      },
      readStateMark: () => state.mark(),
      ...(jlsFor(flags, ctx) === null || jlsFor(flags, ctx) === 'none'
        ? {}
        : {
            checkContainers: async (outcome) =>
              containerGate(await checkHostContainers(outcome, flags, ctx), outcome, flags, (exposures) =>
                renderRuleset(exposures, { dialect: options.dialect, anchor: options.anchor }),
              ),
          }),
      ...(options.frozen
        ? {}
        : {
            writeLock: async (outcome) => {
              try {
                await writeLockfile(resolve(ctx.cwd, outcome.lockPath), outcome.lock);
                return null;
              } catch (error) {
                return writeFailureReason(error);
              }
            },
          }),
      ...(times.times.pullMs === null
        ? {}
        : {
            pull: (signal) =>
              pullCheckout({
                dir: firstPath.endsWith('.yaml') || firstPath.endsWith('.yml') ? resolve(firstPath, '..') : firstPath,
                env: ctx.env,
                signal,
              }),
          }),
      log,
      metrics,
    },
    {
      anchor: options.anchor,
      debounceMs: times.times.debounceMs,
      intervalMs: times.times.intervalMs,
      pullIntervalMs: times.times.pullMs,
      drift: flags.drift,
      gatewayGiven: options.gateway !== undefined,
      killStates: flags.killStates === true,
      lockWaitMs: times.times.lockWaitMs,
    },
  );

  let server: MetricsServer | null = null;
  if (metricsAddress !== null) {
    const served = await serveMetrics(metricsAddress, metrics);
    if (!served.ok) {
      ctx.stderr.write(`pfexpose: ${served.message}\n`);
      ctx.exitCode = EXIT_START_FAILED;
      return;
    }
    server = served.server;
  }

  // A watcher error repeats while its cause lasts: logged once per message, until events arrive again.
  const watchErrors = new OnceWhileItLasts<'watch'>();
  const watcher = watchManifests(paths, ctx.cwd, {
    onChange: (event, path) => {
      watchErrors.clear('watch');
      log.log('debug', 'file-event', `${event} ${path}`, { fsEvent: event, path });
      agent.notifyChange(path);
    },
    onError: (message) => {
      const text = `file watching reported an error: ${message}`;
      if (watchErrors.report('watch', message)) log.log('error', 'watch-error', text);
      else log.log('debug', 'watch-error', `still: ${text}`);
    },
  });
  await watcher.ready;

  let stopRequested = false;
  let stopSignal: NodeJS.Signals | undefined;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((done) => {
    finish = done;
  });
  const onStop = (signal: NodeJS.Signals): void => {
    if (stopRequested) {
      log.log('warn', 'stopping', `${signal} again: still finishing the apply in progress`);
      return;
    }
    stopRequested = true;
    stopSignal = signal;
    log.log('info', 'stopping', `${signal}: finishing the work in progress, then exiting`, { signal });
    void agent.stop().then(finish, finish);
  };
  const onHangup = (): void => {
    log.log('info', 'reconcile-requested', 'SIGHUP: reconciling now', { signal: 'SIGHUP' });
    agent.reconcileNow();
  };
  const signals = ctx.signals ?? process;
  signals.on('SIGTERM', onStop);
  signals.on('SIGINT', onStop);
  signals.on('SIGHUP', onHangup);

  log.log('info', 'started', `watching ${paths.join(', ')} for anchor "${options.anchor}"`, {
    paths: [...paths],
    anchor: options.anchor,
    pid: process.pid,
    debounceMs: times.times.debounceMs,
    settleMs: times.times.settleMs,
    intervalMs: times.times.intervalMs,
    pullMs: times.times.pullMs,
    drift: flags.drift,
    metrics: server === null ? null : formatAddress(server.address),
  });
  await agent.start();
  await finished;

  signals.off('SIGTERM', onStop);
  signals.off('SIGINT', onStop);
  signals.off('SIGHUP', onHangup);
  await watcher.close();
  await server?.close();
  log.log('info', 'stopped', 'stopped');
  ctx.exitCode = EXIT_STOPPED;
  // In process (a test's signals): the process is not ours to end.
  if (ctx.signals !== undefined) return;
  // Stopping waited only for a load in progress: whatever else the abandoned cycle still awaits
  // (a pfctl run reaching its timeout, a read) must not keep the process alive. Unreferenced, so a
  // process with nothing left to do exits at once and never meets it.
  setTimeout(() => {
    // A file read that never returns (a FIFO, a device) holds a libuv thread, and process.exit()
    // waits for those threads: end by the default action of the signal that asked us to stop.
    if (process.getActiveResourcesInfo().some((resource) => resource.startsWith('FSReq'))) {
      log.log('warn', 'stop-forced', 'a file read still has not returned: ending without waiting for it');
      process.removeAllListeners(stopSignal ?? 'SIGTERM');
      process.kill(process.pid, stopSignal ?? 'SIGTERM');
      return;
    }
    process.exit(EXIT_STOPPED);
  }, 1000).unref();
}

/** The same objects in the same order (both lists are sorted by file name). */
function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}
