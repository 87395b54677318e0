// jls(8) in memory, for the CLI and the agent in process (CliContext.jls): the jails a test says
// run, or a failure. The adapter and its parser are tested against the stand-in (test/jls-sim).
import type { Jail, Jls, JlsResult } from '../../src/apply/jls-api.js';

export interface MemoryJls extends Jls {
  /** The jails running from now on (vnet false, no address unless given). */
  setJails(jails: (Partial<Jail> & { name: string })[]): void;
  /** Every list() from now on fails with this message (null: answers again). */
  setFailure(message: string | null): void;
  /** How many times list() was asked. */
  calls(): number;
}

export function createMemoryJls(jails: (Partial<Jail> & { name: string })[] = []): MemoryJls {
  let current: Jail[] = [];
  let failure: string | null = null;
  let count = 0;
  const memory: MemoryJls = {
    list(): Promise<JlsResult> {
      count += 1;
      if (failure !== null) return Promise.resolve({ kind: 'failed', message: failure });
      return Promise.resolve({ kind: 'ok', jails: current.map((jail) => ({ ...jail })) });
    },
    setJails(next) {
      current = next
        .map((jail, index) => ({ jid: index + 1, vnet: false, ip4: [], ip6: [], ...jail }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    setFailure(message) {
      failure = message;
    },
    calls: () => count,
  };
  memory.setJails(jails);
  return memory;
}
