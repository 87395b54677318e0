// Checks that loading the anchor would do something before anything is loaded: pf must be enabled
// and the main ruleset must call the anchor (an anchor nobody calls is silently inert). A refusal
// says exactly what to add to /etc/pf.conf.
import type { Pfctl } from '../pf/pfctl-api.js';
import { checkAnchorHooks } from '../pf/pfctl-output.js';

export type PreflightResult =
  /** warnings: hooks that exist but only see part of the traffic. */
  | { kind: 'ok'; warnings: string[] }
  /** linesToAdd: the pf.conf lines that would fix it (empty when the reason is something else). */
  | { kind: 'refused'; reason: string; linesToAdd: string[] };

/**
 * apply, rollback and watch drive FreeBSD's pfctl (its command line, its printed form read back):
 * a ruleset in another dialect would pass nothing but a failed verification. Checked before pf is
 * touched; null when the dialect is FreeBSD's.
 */
export function dialectRefusal(command: string, dialect: string): string | null {
  if (dialect === 'freebsd') return null;
  return `--dialect ${dialect}: ${command} drives FreeBSD's pfctl and loads only the freebsd dialect; the ${dialect} dialect is for compile and plan only (pfexpose compile --dialect ${dialect}, then load it with that system's own pfctl)`;
}

export const PF_DISABLED_REASON =
  'pf is disabled: enable it (pfctl -e, and pf_enable="YES" in /etc/rc.conf) before applying';

/** Both checks: pf enabled, then the hooks. */
export async function preflight(pfctl: Pfctl, anchor: string): Promise<PreflightResult> {
  const status = await pfctl.status();
  if (status.kind !== 'ok')
    return { kind: 'refused', reason: `cannot ask pf for its status: ${status.message}`, linesToAdd: [] };
  if (!status.enabled) return { kind: 'refused', reason: PF_DISABLED_REASON, linesToAdd: [] };
  return checkHooks(pfctl, anchor);
}

/** The hooks only, for callers that learnt pf is enabled another way (reading the anchor tells). */
export async function checkHooks(pfctl: Pfctl, anchor: string): Promise<PreflightResult> {
  const main = await pfctl.showMain();
  if (main.kind !== 'ok')
    return { kind: 'refused', reason: `cannot read the main ruleset: ${main.message}`, linesToAdd: [] };
  const hooks = checkAnchorHooks(main.nat, main.filter, anchor);
  if (!hooks.ok) {
    return {
      kind: 'refused',
      reason: [
        `the main pf ruleset does not call anchor "${anchor}" (missing: ${hooks.missing.join(', ')}), so its rules would never be used;`,
        'add these lines to /etc/pf.conf (rdr-anchor among the translation rules, anchor among the filter rules',
        'ahead of any block rule that should not override it), then reload it with: pfctl -f /etc/pf.conf',
        ...hooks.linesToAdd.map((line) => `  ${line}`),
      ].join('\n'),
      linesToAdd: hooks.linesToAdd,
    };
  }
  const warnings = hooks.restricted.map(
    ({ hook, line }) => `the ${hook} hook "${line}" has conditions, so the anchor only sees the traffic they match`,
  );
  return { kind: 'ok', warnings };
}
