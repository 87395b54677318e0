// Which host ports are taken, per protocol, family and listen side, with the entry that took each,
// so the allocator can ask "is this block free here?" in time proportional to the block.
import type { SourceSpan } from '../diagnostics/diagnostic.js';
import type { Family, PortRange, Protocol } from '../ports/port-spec.js';

/**
 * `*`: every address of the family; `i:NAME`: an interface; `a:ADDRESS`: one host address.
 * Two listen sides of one family overlap when they are equal or one is `*`. An interface and a host
 * address are not known to overlap (the address may or may not live on that interface, and the
 * compiler does not ask the host), so they never conflict.
 */
export type ListenId = string;
export const EVERY_ADDRESS: ListenId = '*';

export interface PortOwner {
  container: string;
  /** The manifest entry that holds the port; for a lock entry of a manifest not read, the lock file. */
  source: SourceSpan;
  /**
   * How the port is held: by a fixed host port (absent: the default), by an allocation made or kept
   * in this compile, or by a lock entry whose manifest was not read (a partial compile keeps it).
   */
  holds?: 'allocation' | 'lock-entry';
}

export class PortOccupancy {
  /** protocol/family -> listen id -> port -> owner */
  private readonly bySide = new Map<string, Map<ListenId, Map<number, PortOwner>>>();
  /** protocol/family -> port -> owner on any listen side */
  private readonly anySide = new Map<string, Map<number, PortOwner>>();

  add(protocol: Protocol, family: Family, listen: ListenId, range: PortRange, owner: PortOwner): void {
    const group = `${protocol}/${family}`;
    let sides = this.bySide.get(group);
    if (sides === undefined) this.bySide.set(group, (sides = new Map<ListenId, Map<number, PortOwner>>()));
    let ports = sides.get(listen);
    if (ports === undefined) sides.set(listen, (ports = new Map<number, PortOwner>()));
    let any = this.anySide.get(group);
    if (any === undefined) this.anySide.set(group, (any = new Map<number, PortOwner>()));
    for (let p = range.start; p <= range.end; p++) {
      if (!ports.has(p)) ports.set(p, owner);
      if (!any.has(p)) any.set(p, owner);
    }
  }

  /** The owner of the first taken port of the block on an overlapping listen side, or null when free. */
  takenBy(protocol: Protocol, family: Family, listen: ListenId, range: PortRange): PortOwner | null {
    const group = `${protocol}/${family}`;
    const sides = this.bySide.get(group);
    if (sides === undefined) return null;
    const maps: Map<number, PortOwner>[] = [];
    if (listen === EVERY_ADDRESS) {
      const any = this.anySide.get(group);
      if (any !== undefined) maps.push(any);
    } else {
      const own = sides.get(listen);
      const every = sides.get(EVERY_ADDRESS);
      if (own !== undefined) maps.push(own);
      if (every !== undefined) maps.push(every);
    }
    for (let p = range.start; p <= range.end; p++) {
      for (const map of maps) {
        const owner = map.get(p);
        if (owner !== undefined) return owner;
      }
    }
    return null;
  }
}
