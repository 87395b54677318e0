// Drives the jls(8) stand-in from vitest: a fresh $JLS_SIM_DIR, the jails that run, faults, and
// the call log. See README.md beside it.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The stand-in executable, to pass as `--jls` or PFEXPOSE_JLS. */
export const JLS_SIM = join(dirname(fileURLToPath(import.meta.url)), 'jls');

export interface SimJail {
  jid: number;
  name: string;
  vnet?: boolean;
  dying?: boolean;
  ip4?: string[];
  ip6?: string[];
}

export interface JlsControl {
  fail?: string;
  hangMs?: number | 'forever';
  /** Printed as is on stdout (exit 0) instead of the jails. */
  output?: string;
}

export interface JlsSim {
  dir: string;
  /** JLS_SIM_DIR, for the program under test. */
  env: Record<string, string>;
  setJails(jails: SimJail[]): Promise<void>;
  setControl(control: JlsControl): Promise<void>;
  calls(): Promise<{ argv: string[] }[]>;
  cleanup(): Promise<void>;
}

export async function createJlsSim(jails: SimJail[] = []): Promise<JlsSim> {
  const dir = await mkdtemp(join(tmpdir(), 'jls-sim-'));
  // Renamed into place: a stand-in running at this moment reads the old file or the new.
  const put = async (name: string, value: unknown): Promise<void> => {
    await writeFile(join(dir, `${name}.new`), `${JSON.stringify(value)}\n`);
    await rename(join(dir, `${name}.new`), join(dir, name));
  };
  await put('jails.json', jails);
  return {
    dir,
    env: { JLS_SIM_DIR: dir },
    setJails: (next) => put('jails.json', next),
    setControl: (control) => put('control.json', control),
    async calls() {
      if (!existsSync(join(dir, 'calls.log'))) return [];
      const text = await readFile(join(dir, 'calls.log'), 'utf8');
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { argv: string[] });
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
