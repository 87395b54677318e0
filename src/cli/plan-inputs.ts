// What a saved plan records of its inputs (plan-file.ts PlanInputs), taken from a compile: each
// manifest's text as compile read it, the lock file's bytes, this pfexpose's version. `plan -o`
// records them; `apply PLAN` reads them again to tell a stale plan from a tampered one.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { digestManifestTexts, sha256Hex, type PlanInputs } from '../plan/plan-file.js';
import { PACKAGE_VERSION } from './main.js';
import type { CompileOutcome } from '../compile/options.js';

export type PlanInputsRead = { ok: true; inputs: PlanInputs } | { ok: false; message: string };

export async function readPlanInputs(outcome: CompileOutcome, cwd: string): Promise<PlanInputsRead> {
  let lockDigest: string | null;
  try {
    lockDigest = sha256Hex(await readFile(resolve(cwd, outcome.lockPath)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      return {
        ok: false,
        message: `cannot read the lock file ${outcome.lockPath}: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    lockDigest = null;
  }
  return {
    ok: true,
    inputs: {
      manifests: digestManifestTexts(outcome.texts),
      lock: { path: outcome.lockPath, sha256: lockDigest },
      pfexpose: PACKAGE_VERSION,
    },
  };
}
