// The flag that says how long to wait for another pfexpose process's state lock: --lock-wait on
// apply, rollback, confirm and watch, with --wait (apply's first name for it) a hidden alias on all
// of them, so one name is documented and old scripts keep working.
/**
 * --lock-wait, or its old name --wait (a hidden alias, here and in watch): the flag used, and its
 * text. Both at once is a usage error, even when they agree.
 */
export function lockWaitFlag(
  flags: { lockWait?: string | undefined; wait?: string | undefined },
  fallback: string,
): { ok: true; flag: string; text: string } | { ok: false; message: string } {
  if (flags.lockWait !== undefined && flags.wait !== undefined) {
    return { ok: false, message: '--wait is the old name of --lock-wait: give only --lock-wait' };
  }
  if (flags.wait !== undefined) return { ok: true, flag: '--wait', text: flags.wait };
  return { ok: true, flag: '--lock-wait', text: flags.lockWait ?? fallback };
}
