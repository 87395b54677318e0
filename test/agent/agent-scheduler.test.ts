// The scheduler alone, on fake timers: when jobs run, and that they run one at a time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentScheduler, type Job } from '../../src/agent/agent-scheduler.js';

function harness(options: Partial<ConstructorParameters<typeof AgentScheduler>[0]> = {}) {
  const ran: Job[] = [];
  let running = 0;
  let overlapped = false;
  const scheduler = new AgentScheduler(
    { debounceMs: 100, intervalMs: 0, pullIntervalMs: null, ...options },
    {
      run: async (job) => {
        running += 1;
        if (running > 1) overlapped = true;
        ran.push(job);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running -= 1;
      },
    },
  );
  return { scheduler, ran, overlapped: () => overlapped };
}

describe('AgentScheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs one change job after a burst of file events goes quiet', async () => {
    const h = harness();
    for (let i = 0; i < 5; i += 1) {
      h.scheduler.fileChanged();
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(h.ran).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(h.ran).toEqual(['change']);
    h.scheduler.stop();
  });

  it('runs a change job after the longest wait of a burst that never pauses', async () => {
    const h = harness({ maxWaitMs: 300 });
    for (let i = 0; i < 8; i += 1) {
      h.scheduler.fileChanged();
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(h.ran).toEqual(['change']);
    h.scheduler.stop();
  });

  it('runs jobs one at a time; a reconcile due with a change serves both; pulls go first', async () => {
    const h = harness();
    h.scheduler.schedule('change');
    h.scheduler.schedule('change');
    h.scheduler.schedule('reconcile');
    h.scheduler.schedule('pull');
    await vi.advanceTimersByTimeAsync(100);
    await h.scheduler.idle();
    // The first change had started before the others were due.
    expect(h.ran).toEqual(['change', 'pull', 'reconcile']);
    expect(h.overlapped()).toBe(false);
    h.scheduler.stop();
  });

  it('runs reconciles and pulls on their intervals, and nothing once stopped', async () => {
    const h = harness({ intervalMs: 1000, pullIntervalMs: 1500 });
    h.scheduler.startTimers();
    await vi.advanceTimersByTimeAsync(3100);
    expect(h.ran).toEqual(['reconcile', 'pull', 'reconcile', 'reconcile', 'pull']);
    h.scheduler.stop();
    h.scheduler.schedule('change');
    h.scheduler.fileChanged();
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.ran).toHaveLength(5);
    expect(h.scheduler.stopped).toBe(true);
  });

  it('looks again once files may have settled, as a reconcile when a reconcile met them', async () => {
    const h = harness();
    h.scheduler.lookAgainAfter(200, true);
    await vi.advanceTimersByTimeAsync(150);
    expect(h.ran).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(h.ran).toEqual(['reconcile']);
    h.scheduler.lookAgainAfter(200, false);
    await vi.advanceTimersByTimeAsync(300);
    expect(h.ran).toEqual(['reconcile', 'change']);
    h.scheduler.stop();
  });

  it('warms the caches during the quiet period, and a job waits for it', async () => {
    let warmed = 0;
    const scheduler = new AgentScheduler(
      { debounceMs: 500, intervalMs: 0, pullIntervalMs: null },
      {
        run: () => Promise.resolve(),
        prepare: async () => {
          await new Promise((resolve) => setTimeout(resolve, 50));
          warmed += 1;
        },
      },
    );
    scheduler.fileChanged();
    await vi.advanceTimersByTimeAsync(120);
    const prepared = scheduler.prepared();
    await vi.advanceTimersByTimeAsync(50);
    await prepared;
    expect(warmed).toBe(1);
    scheduler.stop();
  });
});
