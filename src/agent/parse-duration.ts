// Reads the agent's time flags: `500ms`, `30s`, `5m`, `1h`, or a bare number in the flag's own
// unit (milliseconds for --debounce, seconds for --interval and --pull).
export type DurationResult = { ok: true; ms: number } | { ok: false; message: string };

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(flag: string, text: string, bareUnit: 'ms' | 's', limits: { minMs: number; maxMs: number }): DurationResult {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const factor = UNITS[match?.[2] ?? bareUnit];
  if (match?.[1] === undefined || factor === undefined) {
    return { ok: false, message: `${flag} ${JSON.stringify(text)} is not a duration: write a number with ms, s, m or h (for example ${bareUnit === 'ms' ? '500ms' : '60s'}); a bare number is in ${bareUnit === 'ms' ? 'milliseconds' : 'seconds'}` };
  }
  const ms = Math.round(Number(match[1]) * factor);
  if (ms < limits.minMs || ms > limits.maxMs) {
    return { ok: false, message: `${flag} ${text} is out of range: use ${describe(limits.minMs)} to ${describe(limits.maxMs)}` };
  }
  return { ok: true, ms };
}

function describe(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
