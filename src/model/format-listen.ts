// How an exposure's listen side and sources are written in every output (plan, ls, port, labels):
// `any` for every address of the host and for every source (pf's own word for both), the host
// address (IPv6 bracketed), or the interface name. One spelling, owned here.
import type { Exposure } from './exposure.js';

/** Every address of the host (listen side, both families), as every output writes it. */
export const EVERY_ADDRESS_TEXT = 'any';
/** Every source (an empty `from`), as every output writes it. */
export const EVERY_SOURCE_TEXT = 'any';

export function formatListen(exposure: Pick<Exposure, 'interface' | 'hostAddress'>): string {
  if (exposure.interface !== null) return exposure.interface;
  if (exposure.hostAddress !== null) {
    return exposure.hostAddress.includes(':') ? `[${exposure.hostAddress}]` : exposure.hostAddress;
  }
  return EVERY_ADDRESS_TEXT;
}

/** The sources, joined with `separator`; `any` when the exposure admits every source. */
export function formatSources(from: readonly string[], separator = ', '): string {
  return from.length === 0 ? EVERY_SOURCE_TEXT : from.join(separator);
}
