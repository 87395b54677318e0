// A Prometheus histogram of durations in seconds: fixed upper bounds, cumulative counts, a sum.
// Histograms rather than summaries because buckets aggregate across hosts and give quantiles on
// the server side (histogram_quantile); a summary without quantiles says only the mean.

/** Upper bounds in seconds for pfctl work: from a quick load to a wait for the lock. */
export const APPLY_DURATION_BUCKETS: readonly number[] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class DurationHistogram {
  readonly bounds: readonly number[];
  /** counts[i]: observations ≤ bounds[i] and > bounds[i - 1] (not cumulative; rendering adds up). */
  private readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i += 1) {
      if (!((bounds[i] ?? 0) > (bounds[i - 1] ?? 0))) throw new RangeError('histogram bounds must increase');
    }
    this.bounds = bounds;
    this.counts = bounds.map(() => 0);
  }

  observe(seconds: number): void {
    const index = this.bounds.findIndex((bound) => seconds <= bound);
    if (index >= 0) this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.sum += seconds;
    this.count += 1;
  }

  /** `[le, cumulative count]` per bound, then `+Inf` with the total. */
  buckets(): [string, number][] {
    let running = 0;
    const out = this.bounds.map((bound, i): [string, number] => {
      running += this.counts[i] ?? 0;
      return [String(bound), running];
    });
    out.push(['+Inf', this.count]);
    return out;
  }
}
