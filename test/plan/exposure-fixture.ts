// Builds exposures for the plan tests: one sensible default per field, and the label the compiler
// would give (container:protocol:listen:hostport), so rendered rules read back as pfexpose's own.
import type { Exposure } from '../../src/model/exposure.js';
import { formatRange } from '../../src/model/spans.js';
import { exposureOf } from '../helpers/builders.js';

export function exposure(overrides: Partial<Exposure> = {}): Exposure {
  const base = exposureOf({ label: '', source: { file: 'hosts/web.yaml', line: 7, column: 9 }, ...overrides });
  if (overrides.label !== undefined) return base;
  const listen = base.interface ?? base.hostAddress ?? 'self';
  return { ...base, label: `${base.container}:${base.protocol}:${listen}:${formatRange(base.hostPort)}` };
}

/** What reading the exposure back from pf rules can know: no manifest location, no dynamic flag. */
export function asDeployed(e: Exposure): Omit<Exposure, 'dynamic' | 'source'> & { dynamic: null; source: null } {
  return { ...e, dynamic: null, source: null };
}
