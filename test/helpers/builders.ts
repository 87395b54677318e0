// Hand-built values for tests: one sensible default per field, overridden where a test cares.
import type { Exposure } from '../../src/model/exposure.js';
import type { PortSpec } from '../../src/ports/port-spec.js';

/** A Kleene-style tcp 80 -> 80 spec with nothing else set. */
export function portSpec(overrides: Partial<PortSpec> = {}): PortSpec {
  return {
    syntax: 'kleene',
    protocol: 'tcp',
    containerPort: { start: 80, end: 80 },
    hostPort: { start: 80, end: 80 },
    hostPortIsPool: false,
    interfaces: [],
    hostAddress: null,
    from: [],
    family: null,
    name: null,
    ...overrides,
  };
}

/** web on em0, tcp 8080 -> 10.13.37.2:80, open to all. */
export function exposureOf(overrides: Partial<Exposure> = {}): Exposure {
  return {
    container: 'web',
    protocol: 'tcp',
    family: 'inet',
    interface: 'em0',
    hostAddress: null,
    hostPort: { start: 8080, end: 8080 },
    containerAddress: '10.13.37.2',
    containerPort: { start: 80, end: 80 },
    from: [],
    label: 'web:tcp:em0:8080',
    dynamic: false,
    source: { file: 'hosts/web.yaml', line: 3, column: 7 },
    ...overrides,
  };
}
