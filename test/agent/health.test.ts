import { describe, expect, it } from 'vitest';
import { agentHealth, compareSeverity, HEALTH_STATUSES, isHealthy, MANIFESTS_INVALID } from '../../src/agent/health.js';
import { OnceEachWhileItLasts, OnceWhileItLasts } from '../../src/agent/once-while-it-lasts.js';

const HELD = { status: 'held', reason: 'pfexpose rollback loaded an earlier ruleset' } as const;
const PREFLIGHT = { status: 'preflight-failed', reason: 'pf is disabled' } as const;

describe('agentHealth', () => {
  it('says starting before any cycle, ok once the anchor is as it should be', () => {
    expect(agentHealth({ anchor: null, manifestsInvalid: false })).toEqual({
      healthy: true,
      status: 'starting',
      reason: null,
    });
    expect(agentHealth({ anchor: { status: 'ok' }, manifestsInvalid: false })).toEqual({
      healthy: true,
      status: 'ok',
      reason: null,
    });
  });

  it('says invalid manifests (healthy) unless a hold, a confirm window or a drift outranks them', () => {
    expect(agentHealth({ anchor: { status: 'ok' }, manifestsInvalid: true })).toEqual({
      healthy: true,
      status: 'manifests-invalid',
      reason: MANIFESTS_INVALID,
    });
    expect(agentHealth({ anchor: null, manifestsInvalid: true }).status).toBe('manifests-invalid');
    expect(agentHealth({ anchor: HELD, manifestsInvalid: true })).toEqual({ healthy: true, ...HELD });
    const drift = { status: 'drift', reason: 'the live anchor differs from the manifests (--drift warn)' } as const;
    expect(agentHealth({ anchor: drift, manifestsInvalid: true })).toEqual({ healthy: true, ...drift });
  });

  it('names invalid manifests and a failing pull beside a problem with the anchor', () => {
    expect(agentHealth({ anchor: PREFLIGHT, manifestsInvalid: false })).toEqual({
      healthy: false,
      status: 'preflight-failed',
      reason: 'pf is disabled',
    });
    expect(agentHealth({ anchor: PREFLIGHT, manifestsInvalid: true, pullFailure: 'no remote' })).toEqual({
      healthy: false,
      status: 'preflight-failed',
      reason: `pf is disabled; also, ${MANIFESTS_INVALID}; also, the last git pull failed (the agent goes on with the checkout it has): no remote`,
    });
  });

  it('turns a healthy state into pull-failed while pulls fail', () => {
    expect(agentHealth({ anchor: HELD, manifestsInvalid: true, pullFailure: 'no remote' })).toEqual({
      healthy: false,
      status: 'pull-failed',
      reason: 'the last git pull failed (the agent goes on with the checkout it has): no remote',
    });
  });

  it('says only that the agent is stuck, or that files never settle, over anything else', () => {
    const all = { anchor: PREFLIGHT, manifestsInvalid: true, pullFailure: 'x' };
    expect(agentHealth({ ...all, stalledFor: '7 min', unsettled: { files: 2, for: '6 min' } })).toEqual({
      healthy: false,
      status: 'stalled',
      reason: "the agent's current cycle has been running for 7 min: nothing is being reconciled",
    });
    expect(agentHealth({ ...all, unsettled: { files: 2, for: '6 min' } })).toEqual({
      healthy: false,
      status: 'manifests-unsettled',
      reason:
        '2 manifest file(s) have kept changing for 6 min: nothing is applied until they stay unchanged for the settle period',
    });
  });

  it('orders the statuses by severity, the unhealthy ones first', () => {
    const healthy = HEALTH_STATUSES.filter(isHealthy);
    expect(healthy).toEqual(['drift', 'held', 'awaiting-confirmation', 'manifests-invalid', 'starting', 'ok']);
    expect(HEALTH_STATUSES.slice(0, HEALTH_STATUSES.length - healthy.length).every((s) => !isHealthy(s))).toBe(true);
    expect(compareSeverity('stalled', 'ok')).toBeLessThan(0);
    expect(compareSeverity('manifests-invalid', 'held')).toBeGreaterThan(0);
  });
});

describe('OnceWhileItLasts', () => {
  it('is news once per value while it lasts, and says whether an ended condition had been reported', () => {
    const once = new OnceWhileItLasts<'pull' | 'drift'>();
    expect(once.report('pull', 'timeout')).toBe(true);
    expect(once.report('pull', 'timeout')).toBe(false);
    expect(once.report('pull', 'refused')).toBe(true);
    expect(once.report('drift', 'timeout')).toBe(true);
    expect(once.current('pull')).toBe('refused');
    expect(once.clear('pull')).toBe(true);
    expect(once.clear('pull')).toBe(false);
    expect(once.has('pull')).toBe(false);
    expect(once.report('pull', 'refused')).toBe(true);
  });

  it('forgets, for a set found in rounds, what a round no longer finds', () => {
    const once = new OnceEachWhileItLasts();
    once.begin();
    expect([once.report('a'), once.report('b')]).toEqual([true, true]);
    once.end();
    once.begin();
    expect([once.report('a'), once.report('c')]).toEqual([false, true]);
    once.end();
    once.begin();
    expect(once.report('b')).toBe(true);
    once.end();
  });
});
