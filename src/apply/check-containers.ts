// The stale-address guard: before pf is told to send a container's traffic to an address, the
// jail it runs as must be running and hold that address, and no other jail may hold it. Engines
// hand addresses out from a pool: a manifest that is merely out of date would otherwise expose
// whichever jail got the address next. Pure: takes the compiled containers and jls's answer.
import { located, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { CompileOutcome, ContainerJail } from '../compile/options.js';
import type { Exposure } from '../model/exposure.js';
import { compareStrings } from '../text/compare-strings.js';
import type { Jail } from './jls-api.js';

/** What happens to the exposures of a container whose jail is not running. */
export type StoppedPolicy = 'keep' | 'withhold';

export interface ContainerCheck {
  /** address-stale errors (refuse unless allowed), container-stopped and container-unchecked warnings. */
  diagnostics: Diagnostic[];
  /** Containers whose jail holds a manifest address elsewhere, or no longer holds it. */
  stale: string[];
  /** Containers whose jail is not running (and whose addresses no other jail holds). */
  stopped: string[];
  /** Containers whose jail runs but whose addresses could not be checked (VNET). */
  unchecked: string[];
}

/** The containers to check: the compile's, or for a hand-built outcome, one per exposed container. */
export function containersOf(outcome: Pick<CompileOutcome, 'containers' | 'exposures'>): ContainerJail[] {
  if (outcome.containers !== undefined) return outcome.containers;
  const found = new Map<string, ContainerJail>();
  for (const exposure of outcome.exposures) {
    const known = found.get(exposure.container);
    const span = { ...exposure.source, endLine: exposure.source.line, endColumn: exposure.source.column };
    const entry = known ?? {
      container: exposure.container,
      jail: exposure.container,
      ip: null,
      ip6: null,
      source: span,
    };
    if (exposure.family === 'inet') entry.ip = exposure.containerAddress;
    else entry.ip6 = exposure.containerAddress;
    found.set(exposure.container, entry);
  }
  return [...found.values()].sort((a, b) => compareStrings(a.container, b.container));
}

export function checkContainers(containers: readonly ContainerJail[], jails: readonly Jail[]): ContainerCheck {
  const byName = new Map(jails.map((jail) => [jail.name, jail]));
  const check: ContainerCheck = { diagnostics: [], stale: [], stopped: [], unchecked: [] };
  for (const container of containers) {
    const jail = byName.get(container.jail);
    const named =
      container.jail === container.container
        ? `jail "${jail?.name ?? container.jail}"`
        : `jail "${container.jail}" (its jail: key)`;
    const problems: string[] = [];
    for (const address of [container.ip, container.ip6]) {
      if (address === null) continue;
      const holders = jails
        .filter((other) => other.name !== container.jail && holds(other, address))
        .map((j) => `"${j.name}"`);
      const where = jail === undefined ? null : jail.vnet ? null : holds(jail, address) ? 'held' : 'lost';
      if (holders.length > 0) problems.push(`${address} is held by jail ${holders.join(', jail ')} now`);
      if (where === 'lost') problems.push(`${named} no longer holds ${address} (it holds ${describeHeld(jail)})`);
    }
    if (problems.length > 0) {
      check.stale.push(container.container);
      check.diagnostics.push(
        located(
          'address-stale',
          container.source,
          `container "${container.container}": ${problems.join('; ')}${jail === undefined ? `; ${named} is not running` : ''}`,
          'update the manifest to where the container is now (ip:, ip6:, or jail:), or apply with --allow-stale if the manifest is right and jls is not',
        ),
      );
      continue;
    }
    if (jail === undefined) {
      check.stopped.push(container.container);
      check.diagnostics.push(
        located(
          'container-stopped',
          container.source,
          `container "${container.container}": ${named} is not running`,
          '--stopped-containers withhold keeps its rules out of pf until it runs',
          'warning',
        ),
      );
    } else if (jail.vnet) {
      check.unchecked.push(container.container);
      check.diagnostics.push(
        located(
          'container-unchecked',
          container.source,
          `container "${container.container}": ${named} is a VNET jail; its addresses live inside it, which jls does not show, so they were not checked`,
          undefined,
          'warning',
        ),
      );
    }
  }
  return check;
}

/** A container as jls shows it: running (and holding its addresses), stopped, stale or unchecked (VNET). */
export type ContainerState = 'running' | 'stopped' | 'stale' | 'unchecked';

/** The state of one checked container (one checkContainers found nothing wrong with is running). */
export function containerState(check: ContainerCheck, container: string): ContainerState {
  if (check.stale.includes(container)) return 'stale';
  if (check.stopped.includes(container)) return 'stopped';
  if (check.unchecked.includes(container)) return 'unchecked';
  return 'running';
}

/** The exposures to load: without those of stopped containers when they are withheld. */
export function withheldExposures(exposures: readonly Exposure[], stopped: readonly string[]): Exposure[] {
  const out = new Set(stopped);
  return exposures.filter((exposure) => !out.has(exposure.container));
}

function holds(jail: Jail, address: string): boolean {
  return !jail.vnet && (jail.ip4.includes(address) || jail.ip6.includes(address));
}

function describeHeld(jail: Jail | undefined): string {
  const held = jail === undefined ? [] : [...jail.ip4, ...jail.ip6];
  return held.length === 0 ? 'no address' : held.join(', ');
}
