// Every duration flag of every command, in process: a value past its documented range is a usage
// error naming the range (exit 2; plan's usage errors are 1, its 2 means "changes"), never an
// internal error; --lock-wait and its hidden old name --wait are the same flag.
import { describe, expect, it } from 'vitest';
import { runInProcess, STACK_TRACE } from '../helpers/cli.js';

// [command line, exit code, what the message names]
const CASES: [string[], number, string][] = [
  [['apply', '--confirm', '10000000000000s'], 2, '--confirm 10000000000000s is out of range: use 1s to 24h'],
  [['apply', '--confirm', '90000h'], 2, '--confirm 90000h is out of range: use 1s to 24h'],
  [['apply', '--confirm', '0.5s'], 2, 'use 1s to 24h'],
  [['apply', '--pfctl-timeout', '2h'], 2, '--pfctl-timeout 2h is out of range: use 1ms to 1h'],
  [['apply', '--lock-wait', '2h'], 2, '--lock-wait 2h is out of range: use 0ms to 1h'],
  [['apply', '--wait', '2h'], 2, '--wait 2h is out of range: use 0ms to 1h'],
  [['apply', '--wait', '1s', '--lock-wait', '1s'], 2, 'give only --lock-wait'],
  [['rollback', '--pfctl-timeout', '99999999999999999999s'], 2, 'use 1ms to 1h'],
  [['rollback', '--lock-wait', '61m'], 2, 'use 0ms to 1h'],
  [['rollback', '--wait', 'soon'], 2, '--wait "soon" is not a duration'],
  [['confirm', '--lock-wait', '10000000000000s'], 2, 'use 0ms to 1h'],
  [['confirm', '--wait', '2h'], 2, 'use 0ms to 1h'],
  [['confirm', '--pfctl-timeout', '0'], 2, 'use 1ms to 1h'],
  [['plan', '--live', '--pfctl-timeout', '10000000000000s'], 1, 'use 1ms to 1h'],
  [['watch', '--interval', '25h'], 2, '--interval 25h is out of range: use 0ms to 24h'],
  [['watch', '--debounce', '11m'], 2, 'use 0ms to 10m'],
  [['watch', '--settle', '10ms'], 2, 'use 100ms to 10m'],
  [['watch', '--pull', '90000h'], 2, 'use 1s to 24h'],
  [['watch', '--lock-wait', '2h'], 2, '--lock-wait 2h is out of range'],
  [['watch', '--wait', '2h'], 2, '--wait 2h is out of range'],
  [['watch', '--wait', '1s', '--lock-wait', '1s'], 2, 'give only --lock-wait'],
  [['watch', '--pfctl-timeout', '10000000000000s'], 2, 'use 1ms to 1h'],
];

describe('duration flags', () => {
  it.each(CASES)('%j exits %i naming the limit', async (argv, code, message) => {
    // An empty state directory that must not exist afterwards; nothing may reach pfctl.
    const run = await runInProcess(argv, {
      env: { PFEXPOSE_PFCTL: '/nonexistent/pfctl', PFEXPOSE_STATE_DIR: '/nonexistent/state' },
    });
    expect(run.code).toBe(code);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(STACK_TRACE);
    expect(run.stderr).not.toContain('internal error');
  });

  it('--help documents --lock-wait and hides --wait', async () => {
    for (const command of ['apply', 'rollback', 'confirm', 'watch']) {
      const help = await runInProcess([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('--lock-wait <duration>');
      expect(help.stdout).toContain('--pfctl-timeout <duration>');
      expect(help.stdout).not.toMatch(/--wait\b/);
    }
    const plan = await runInProcess(['plan', '--help']);
    expect(plan.stdout).toContain('--pfctl-timeout <duration>');
    expect(plan.stdout).toContain('--route <path>');
    const confirm = await runInProcess(['confirm', '--help']);
    expect(confirm.stdout).toContain('--anchor <name>');
  });
});
