// Builds Exposure values by hand for the pf tests, with one sensible default per field.
import type { Exposure } from '../../src/model/exposure.js';

export function exposure(overrides: Partial<Exposure> = {}): Exposure {
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
    label: 'pfexpose:web:8080/tcp',
    dynamic: false,
    source: { file: 'hosts/web.yaml', line: 3, column: 7 },
    ...overrides,
  };
}
