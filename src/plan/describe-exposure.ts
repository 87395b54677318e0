// Short display texts for exposures in plans: `em0:8080`, `[2001:db8::1]:443`, `any:8080` (every
// address), `10.13.37.2:80`, `any` or a list of sources. Shared by every plan formatter; the
// spellings of "every address" and "every source" are format-listen's, as in ls and port.
import { formatListen, formatSources } from '../model/format-listen.js';
import { formatRange } from '../model/spans.js';
import type { PortRange } from '../ports/port-spec.js';
import type { DeployedExposure } from './plan.js';

type Shown = Pick<
  DeployedExposure,
  | 'interface'
  | 'hostAddress'
  | 'hostPort'
  | 'containerAddress'
  | 'containerPort'
  | 'from'
  | 'protocol'
  | 'family'
  | 'container'
>;

function bracket(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** The listen side alone: interface name, host address, or `any` for every address of the host. */
export function listenText(e: Pick<Shown, 'interface' | 'hostAddress'>): string {
  return formatListen(e);
}

export function portsText(range: PortRange): string {
  return formatRange(range);
}

export function hostSideText(e: Shown): string {
  return `${listenText(e)}:${portsText(e.hostPort)}`;
}

export function containerSideText(e: Shown): string {
  return `${bracket(e.containerAddress)}:${portsText(e.containerPort)}`;
}

export function sourcesText(from: readonly string[]): string {
  return formatSources(from);
}

/** `web tcp/inet em0:8080 -> 10.13.37.2:80 from any` */
export function exposureText(e: Shown): string {
  return `${e.container} ${e.protocol}/${e.family} ${hostSideText(e)} -> ${containerSideText(e)} from ${sourcesText(e.from)}`;
}
