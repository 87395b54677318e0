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

/** The protocol/family keys, made once: a key built per call was hashed anew on every lookup. */
const GROUP_KEYS: Readonly<Record<Protocol, Readonly<Record<Family, string>>>> = {
  tcp: { inet: 'tcp/inet', inet6: 'tcp/inet6' },
  udp: { inet: 'udp/inet', inet6: 'udp/inet6' },
  sctp: { inet: 'sctp/inet', inet6: 'sctp/inet6' },
};

/**
 * Values by port number (0-65535), with the part of Map's interface SideIndex's users need: a slot
 * per port in a typed array (0: none; else the value's place + 1) instead of a hash map, which a
 * large repository grew (and rehashed) to tens of thousands of entries per side.
 */
export class PortMap<V> {
  private readonly slots = new Int32Array(65536);
  private readonly values: V[] = [];

  get(port: number): V | undefined {
    const slot = this.slots[port] ?? 0;
    return slot === 0 ? undefined : this.values[slot - 1];
  }

  has(port: number): boolean {
    return (this.slots[port] ?? 0) !== 0;
  }

  set(port: number, value: V): void {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port ${port} is not 0-65535`);
    const slot = this.slots[port] ?? 0;
    if (slot !== 0) this.values[slot - 1] = value;
    else this.slots[port] = this.values.push(value);
  }
}

/**
 * Per-port values by protocol/family and listen side, and for each protocol/family also over all
 * sides together: what PortOccupancy (owners) and the allocator's plan (counts) both keep.
 */
export class SideIndex<V> {
  /** protocol/family -> listen id -> port -> value */
  private readonly bySide = new Map<string, Map<ListenId, PortMap<V>>>();
  /** protocol/family -> port -> value on any listen side */
  private readonly anySide = new Map<string, PortMap<V>>();

  /** The port maps of one listen side and of all sides of its protocol/family, made on first use. */
  slot(protocol: Protocol, family: Family, listen: ListenId): { side: PortMap<V>; any: PortMap<V> } {
    const group = GROUP_KEYS[protocol][family];
    let sides = this.bySide.get(group);
    if (sides === undefined) this.bySide.set(group, (sides = new Map<ListenId, PortMap<V>>()));
    let side = sides.get(listen);
    if (side === undefined) sides.set(listen, (side = new PortMap<V>()));
    let any = this.anySide.get(group);
    if (any === undefined) this.anySide.set(group, (any = new PortMap<V>()));
    return { side, any };
  }

  /**
   * The maps a block on this listen side must be checked against: every side when it listens on
   * every address; else its own side and every-address.
   */
  overlapping(protocol: Protocol, family: Family, listen: ListenId): PortMap<V>[] {
    const group = GROUP_KEYS[protocol][family];
    const candidates =
      listen === EVERY_ADDRESS
        ? [this.anySide.get(group)]
        : [this.bySide.get(group)?.get(listen), this.bySide.get(group)?.get(EVERY_ADDRESS)];
    return candidates.filter((map): map is PortMap<V> => map !== undefined);
  }
}

export class PortOccupancy {
  private readonly index = new SideIndex<PortOwner>();

  add(protocol: Protocol, family: Family, listen: ListenId, range: PortRange, owner: PortOwner): void {
    const { side, any } = this.index.slot(protocol, family, listen);
    for (let p = range.start; p <= range.end; p++) {
      if (!side.has(p)) side.set(p, owner);
      if (!any.has(p)) any.set(p, owner);
    }
  }

  /** The owner of the first taken port of the block on an overlapping listen side, or null when free. */
  takenBy(protocol: Protocol, family: Family, listen: ListenId, range: PortRange): PortOwner | null {
    const maps = this.index.overlapping(protocol, family, listen);
    if (maps.length === 0) return null;
    for (let p = range.start; p <= range.end; p++) {
      for (const map of maps) {
        const owner = map.get(p);
        if (owner !== undefined) return owner;
      }
    }
    return null;
  }
}
