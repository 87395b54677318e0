// Every time flag in its documented range: nothing past what a timer can wait (2^31-1 ms turns
// into 1 ms in setTimeout), and a huge value is a usage error, never an internal one.
import { describe, expect, it } from 'vitest';
import { DURATION_LIMITS, MAX_TIMER_MS, parseDuration } from '../../src/text/duration.js';

describe('parseDuration limits', () => {
  it.each(Object.entries(DURATION_LIMITS))('%s stays within what a timer can wait', (_flag, limits) => {
    expect(limits.maxMs).toBeLessThanOrEqual(MAX_TIMER_MS);
    expect(limits.minMs).toBeGreaterThanOrEqual(0);
  });

  it.each([
    ['9999999999h', 'out of range: use 1s to 24h'],
    ['25h', 'out of range: use 1s to 24h'],
    ['0.5s', 'out of range: use 1s to 24h'],
    [`${'9'.repeat(400)}h`, 'out of range'],
    ['soon', 'is not a duration'],
  ])('--confirm %s is refused: %s', (text, message) => {
    const result = parseDuration('--confirm', text, 's', DURATION_LIMITS.confirm);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain(message);
  });

  it.each([
    ['24h', 86_400_000],
    ['60', 60_000],
    ['1.5m', 90_000],
  ])('--confirm %s is %i ms', (text, ms) => {
    expect(parseDuration('--confirm', text, 's', DURATION_LIMITS.confirm)).toEqual({ ok: true, ms });
  });

  it('--pfctl-timeout past 2^31 ms is out of range, not a 1 ms timer', () => {
    expect(parseDuration('--pfctl-timeout', `${2 ** 31}ms`, 's', DURATION_LIMITS.pfctlTimeout).ok).toBe(false);
    expect(parseDuration('--pfctl-timeout', '1h', 's', DURATION_LIMITS.pfctlTimeout)).toEqual({
      ok: true,
      ms: 3_600_000,
    });
  });

  it('refuses limits no timer can honour (a programmer error)', () => {
    expect(() => parseDuration('--x', '1s', 's', { minMs: 0, maxMs: 2 ** 31 })).toThrow(/not within/);
  });
});
