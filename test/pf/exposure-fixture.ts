// Exposures for the pf tests; their golden files were made with this label and source.
import type { Exposure } from '../../src/model/exposure.js';
import { exposureOf } from '../helpers/builders.js';

export function exposure(overrides: Partial<Exposure> = {}): Exposure {
  return exposureOf({ label: 'pfexpose:web:8080/tcp', ...overrides });
}
