// Shared pieces of the apply tests: exposures and their rulesets, a fresh in-memory pf with a state
// directory, and the apply dependencies wired to the real adapter over that pf (no process spawned;
// the simulator itself is for the adapter's own tests and test/e2e).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { ApplyDeps, ApplyOutcome, ApplyRequest } from '../../src/apply/apply-ruleset.js';
import { StateDirMutex } from '../../src/host/state-dir-mutex.js';
import type { PfctlOptions } from '../../src/host/pfctl.js';
import { normalizedLines } from '../../src/pf/rule-lines.js';
import { StateDir } from '../../src/apply/state-dir.js';
import type { Exposure } from '../../src/model/exposure.js';
import { renderRuleset } from '../../src/pf/render-ruleset.js';
import { fingerprintDeployedText } from '../../src/plan/plan-file.js';
import { createMemoryPf, type MemoryPf } from '../helpers/memory-pf.js';

export const ANCHOR = 'pfexpose';

export function exposure(container: string, hostPort: number, containerPort: number, line: number): Exposure {
  return {
    container,
    protocol: 'tcp',
    family: 'inet',
    interface: 'em0',
    hostAddress: null,
    hostPort: { start: hostPort, end: hostPort },
    containerAddress: container === 'web' ? '10.0.0.2' : '10.0.0.3',
    containerPort: { start: containerPort, end: containerPort },
    from: [],
    label: `${container}:tcp:em0:${hostPort}`,
    dynamic: false,
    source: { file: `manifests/${container}.yaml`, line, column: 9 },
  };
}

export const WEB = exposure('web', 8080, 80, 6);
export const WEB_TLS = exposure('web', 8443, 443, 7);
export const DB = exposure('db', 5432, 5432, 4);

export function ruleset(exposures: readonly Exposure[]): string {
  return renderRuleset(exposures, { dialect: 'freebsd', anchor: ANCHOR });
}

export interface Bench {
  sim: MemoryPf;
  stateDir: string;
  deps: ApplyDeps;
  /** Another process's view: its own lock object on the same lock file. */
  depsWith(options: Partial<PfctlOptions>): ApplyDeps;
  cleanup(): Promise<void>;
}

export async function createBench(options: Partial<PfctlOptions> = {}): Promise<Bench> {
  const sim = createMemoryPf();
  const stateDir = await mkdtemp(join(tmpdir(), 'pfexpose-state-'));
  const depsWith = (more: Partial<PfctlOptions>): ApplyDeps => {
    const state = new StateDir(stateDir);
    return {
      pfctl: sim.pfctl({ timeoutMs: 10_000, ...options, ...more }),
      state,
      mutex: new StateDirMutex(state.mutexPath, { command: 'test' }),
      // The detached watchdog process is for test/e2e; tests that open a window bring their own.
      startConfirmWatchdog: () => Promise.resolve('the unit-test bench starts no watchdog process'),
      fingerprint: (deployed) => fingerprintDeployedText(deployed.text, deployed.tables),
    };
  };
  return {
    sim,
    stateDir,
    deps: depsWith({}),
    depsWith,
    async cleanup() {
      await sim.cleanup();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

export function request(exposures: readonly Exposure[], more: Partial<ApplyRequest> = {}): ApplyRequest {
  return {
    anchor: ANCHOR,
    ruleset: ruleset(exposures),
    exposures: [...exposures],
    manifestDigest: `digest-${exposures.length}`,
    ...more,
  };
}

export async function anchorLines(sim: MemoryPf): Promise<string[]> {
  return normalizedLines((await sim.readAnchor(ANCHOR)) ?? '');
}

export function linesOf(exposures: readonly Exposure[]): string[] {
  return normalizedLines(ruleset(exposures));
}

export function expectKind<K extends ApplyOutcome['kind']>(
  outcome: ApplyOutcome,
  kind: K,
): Extract<ApplyOutcome, { kind: K }> {
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ kind });
  return outcome as Extract<ApplyOutcome, { kind: K }>;
}
