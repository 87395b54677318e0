// How an exposure's listen side is written in `docker port` style output and messages:
// `0.0.0.0` / `[::]` for every address, the host address (IPv6 bracketed), or the interface name.
import type { Exposure } from './exposure.js';

export function formatListen(exposure: Pick<Exposure, 'interface' | 'hostAddress' | 'family'>): string {
  if (exposure.interface !== null) return exposure.interface;
  if (exposure.hostAddress !== null) {
    return exposure.hostAddress.includes(':') ? `[${exposure.hostAddress}]` : exposure.hostAddress;
  }
  return exposure.family === 'inet' ? '0.0.0.0' : '[::]';
}
