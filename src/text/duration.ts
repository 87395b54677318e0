// Reads every time flag of the CLI and the agent: `500ms`, `30s`, `5m`, `1h`, or a bare number in
// the flag's own unit (milliseconds for --debounce, seconds for the others). Every flag has a
// documented range (DURATION_LIMITS, docs/guide/operating.md "Durations"), none beyond what a timer can wait:
// setTimeout turns anything past 2^31-1 ms into 1 ms.
import { quoteText } from './quote-text.js';
export type DurationResult = { ok: true; ms: number } | { ok: false; message: string };

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The longest wait a Node timer honours (about 24.8 days); no limit may exceed it. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface DurationLimits {
  minMs: number;
  maxMs: number;
}

/** The range of each time flag: the one place they are written down (docs/guide/operating.md lists them too). */
export const DURATION_LIMITS = {
  /** apply --confirm: a commit-confirmed window of 1 s to 24 h. */
  confirm: { minMs: 1000, maxMs: 86_400_000 },
  /** apply/rollback/confirm --pfctl-timeout: one run of pfctl, up to an hour. */
  pfctlTimeout: { minMs: 1, maxMs: 3_600_000 },
  /** watch --debounce: up to 10 minutes. */
  debounce: { minMs: 0, maxMs: 600_000 },
  /** watch --interval: up to a day (0: only on SIGHUP). */
  interval: { minMs: 0, maxMs: 86_400_000 },
  /** watch --pull: 1 s to a day. */
  pull: { minMs: 1000, maxMs: 86_400_000 },
  /** apply/rollback/confirm/watch --lock-wait (hidden alias --wait): for another process's lock, up to an hour. */
  lockWait: { minMs: 0, maxMs: 3_600_000 },
  /** watch --settle: how long a changed manifest must stay unchanged, 100 ms to 10 minutes. */
  settle: { minMs: 100, maxMs: 600_000 },
} as const satisfies Record<string, DurationLimits>;

export function parseDuration(
  flag: string,
  text: string,
  bareUnit: 'ms' | 's',
  limits: DurationLimits,
): DurationResult {
  if (!(limits.maxMs <= MAX_TIMER_MS) || !(limits.minMs >= 0) || limits.minMs > limits.maxMs) {
    throw new Error(
      `parseDuration: ${flag} limits ${limits.minMs}..${limits.maxMs} ms are not within 0..${MAX_TIMER_MS}`,
    );
  }
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const factor = UNITS[match?.[2] ?? bareUnit];
  if (match?.[1] === undefined || factor === undefined) {
    return {
      ok: false,
      message: `${flag} ${quoteText(text)} is not a duration: write a number with ms, s, m or h (for example ${bareUnit === 'ms' ? '500ms' : '60s'}); a bare number is in ${bareUnit === 'ms' ? 'milliseconds' : 'seconds'}`,
    };
  }
  // A number too long for a double is Infinity, and out of range like any other.
  const ms = Math.round(Number(match[1]) * factor);
  if (!Number.isFinite(ms) || ms < limits.minMs || ms > limits.maxMs) {
    return {
      ok: false,
      message: `${flag} ${text} is out of range: use ${describe(limits.minMs)} to ${describe(limits.maxMs)}`,
    };
  }
  return { ok: true, ms };
}

function describe(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
