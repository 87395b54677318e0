// When the agent works: file changes (debounced, with a longest wait for a burst that never
// pauses), a reconcile interval, a git pull interval, a look again at files that had not settled,
// and requests (SIGHUP) all become jobs that run one at a time. The scheduler owns every timer;
// what a job does is the agent's.

export type Job = 'change' | 'reconcile' | 'pull';

export interface SchedulerOptions {
  /** Quiet time after the last file event before a change job starts. */
  debounceMs: number;
  /** A burst that never pauses still gets a job after this long. Default 20 × debounce, at least 5 s. */
  maxWaitMs?: number;
  /** Reconcile interval; 0 turns the timer off. */
  intervalMs: number;
  /** git pull interval, or null for none. */
  pullIntervalMs: number | null;
}

export interface SchedulerWork {
  /** Runs one job; never rejects (the agent reports its own failures). */
  run(job: Job): Promise<void>;
  /** Cache warming while a burst's quiet period runs out; undefined: none. */
  prepare?: () => Promise<void>;
}

export class AgentScheduler {
  private readonly pending: Record<Job, boolean> = { change: false, reconcile: false, pull: false };
  private draining: Promise<void> | null = null;
  private debounceTimer: NodeJS.Timeout | undefined;
  private burstStartedAt: number | null = null;
  private prepareTimer: NodeJS.Timeout | undefined;
  private preparing: Promise<void> | null = null;
  private intervalTimer: NodeJS.Timeout | undefined;
  private pullTimer: NodeJS.Timeout | undefined;
  /** Looks at unsettled files again once their settle period may have passed. */
  private settleTimer: NodeJS.Timeout | undefined;
  /** A reconcile that met a file being written runs when the writer has finished. */
  private reconcileAfterQuiet = false;
  private stopping = false;

  constructor(
    private readonly options: SchedulerOptions,
    private readonly work: SchedulerWork,
  ) {}

  /** Starts the interval and pull timers. */
  startTimers(): void {
    if (this.options.intervalMs > 0)
      this.intervalTimer = setInterval(() => this.schedule('reconcile'), this.options.intervalMs);
    if (this.options.pullIntervalMs !== null)
      this.pullTimer = setInterval(() => this.schedule('pull'), this.options.pullIntervalMs);
  }

  /** A file event: starts or extends the quiet period. */
  fileChanged(): void {
    if (this.stopping) return;
    const now = Date.now();
    this.burstStartedAt ??= now;
    clearTimeout(this.debounceTimer);
    const maxWait = this.options.maxWaitMs ?? Math.max(5000, this.options.debounceMs * 20);
    const wait = Math.max(0, Math.min(this.options.debounceMs, this.burstStartedAt + maxWait - now));
    this.debounceTimer = setTimeout(() => {
      this.burstStartedAt = null;
      this.schedule('change');
    }, wait);
    this.schedulePrepare(wait);
  }

  /** Warms the caches a short while into the quiet period (not while a job runs). */
  private schedulePrepare(wait: number): void {
    const prepare = this.work.prepare;
    if (prepare === undefined) return;
    clearTimeout(this.prepareTimer);
    const delay = Math.floor(wait / 5);
    if (delay >= wait) return;
    this.prepareTimer = setTimeout(() => {
      if (this.stopping || this.draining !== null || this.preparing !== null) return;
      this.preparing = prepare()
        .catch(() => undefined)
        .finally(() => {
          this.preparing = null;
        });
    }, delay);
  }

  /** Resolves once cache warming in progress, if any, has finished. */
  async prepared(): Promise<void> {
    if (this.preparing !== null) await this.preparing;
  }

  /**
   * Files had not settled: a change job again once they may have (one timer, the earliest wins);
   * reconcile: the job was a reconcile, so the next one is too.
   */
  lookAgainAfter(waitMs: number, reconcile: boolean): void {
    if (reconcile) this.reconcileAfterQuiet = true;
    if (this.stopping) return;
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.schedule('change'), Math.max(10, waitMs));
  }

  /** A job is due: it runs after those running or due before it. */
  schedule(job: Job): void {
    if (this.stopping) return;
    this.pending[job] = true;
    if (this.draining === null) {
      this.draining = this.drain().finally(() => {
        this.draining = null;
      });
    }
  }

  /** Resolves when no job runs and none is due (timers aside). */
  async idle(): Promise<void> {
    while (this.draining !== null) await this.draining;
  }

  /** No job starts any more; the one running, if any, is left to the agent to end. */
  stop(): void {
    this.stopping = true;
    clearTimeout(this.debounceTimer);
    clearTimeout(this.prepareTimer);
    clearTimeout(this.settleTimer);
    clearInterval(this.intervalTimer);
    clearInterval(this.pullTimer);
  }

  get stopped(): boolean {
    return this.stopping;
  }

  private async drain(): Promise<void> {
    while (!this.stopping && (this.pending.change || this.pending.reconcile || this.pending.pull)) {
      if (this.pending.pull) {
        this.pending.pull = false;
        await this.work.run('pull');
        continue;
      }
      const job: Job = this.pending.reconcile || this.reconcileAfterQuiet ? 'reconcile' : 'change';
      this.reconcileAfterQuiet = false;
      // A reconcile reads everything a change would: one job serves both.
      this.pending.reconcile = false;
      this.pending.change = false;
      await this.work.run(job);
    }
  }
}
