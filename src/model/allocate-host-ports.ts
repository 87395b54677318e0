// Chooses host ports for dynamic entries so that they never move: a valid lock entry is kept as is;
// new requests are served most constrained first, lowest free block first, around every fixed
// exposure and every allocation kept. Which lock entries are kept, adopted or dropped is decided here too.
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import type { Family, PortRange, Protocol } from '../ports/port-spec.js';
import { formatRange, formatSpan } from './spans.js';
import { located } from '../diagnostics/diagnostic.js';
import type { AllocationKey, LockEntry, Lockfile } from './lockfile.js';
import {
  allocationBaseId,
  allocationKeyId,
  allocationKeyIdWithoutHost,
  compareAllocationKeys,
  compareLockEntries,
  lockfilesEqual,
} from './lockfile.js';
import { EVERY_ADDRESS, SideIndex } from './port-occupancy.js';
import type { ListenId, PortOccupancy, PortOwner } from './port-occupancy.js';

export interface DynamicRequest {
  /** The entry's identity; for a pick entry the allocator adds `range` itself. */
  key: AllocationKey;
  /** Where to choose from: the host's pool, or the entry's own range (Docker's pick-one form). */
  range: PortRange;
  /** Human name of `range` for messages, e.g. "the pool 49000-49900". */
  rangeName: string;
  families: readonly Family[];
  listen: ListenId;
  source: SourceSpan;
}

export interface AllocationInput {
  host: string | null;
  requests: DynamicRequest[];
  /** Already holds every fixed exposure of the host; allocations are added to it. */
  occupancy: PortOccupancy;
  lock: Lockfile;
  frozen: boolean;
  lockFileName: string;
  /** Every host the manifests name, with the names of its containers; empty: the anonymous host. */
  hosts: ReadonlyMap<string, ReadonlySet<string>>;
  /** The selected host's containers in the manifests read, with or without dynamic entries. */
  containers: ReadonlySet<string>;
  /**
   * True when some manifest under the lock's directory was not read (a subset of files was given):
   * lock entries of containers that appear in no manifest read are then kept, holding their ports.
   */
  partialLoad: boolean;
}

export interface AllocationResult {
  /** Host ports per request, in the order of input.requests; null when the range was full or the port is in conflict. */
  hostPorts: (PortRange | null)[];
  lock: Lockfile;
  lockChanged: boolean;
  diagnostics: Diagnostic[];
}

const FROZEN_HINT = 'run `pfexpose compile` without --frozen to update the lock file, then commit it';

function describeListen(key: Pick<AllocationKey, 'interface' | 'hostAddress'>): string {
  return key.interface !== null
    ? `on ${key.interface}`
    : key.hostAddress !== null
      ? `on ${key.hostAddress}`
      : 'on every address';
}

function describeKey(key: AllocationKey): string {
  const kind = key.kind === 'pick' && key.range != null ? `pick from ${formatRange(key.range)}` : key.kind;
  return `${key.container} ${formatRange(key.containerPort)}/${key.protocol} ${describeListen(key)} (${kind})`;
}

function describeHost(host: string | null): string {
  return host === null ? 'the anonymous host (no host named)' : `host ${host}`;
}

function describeEntry(entry: LockEntry): string {
  return `${entry.host === null ? '' : `${entry.host}: `}${describeKey(entry)} -> ${formatRange(entry.hostPort)}`;
}

function contains(outer: PortRange, inner: PortRange): boolean {
  return inner.start >= outer.start && inner.end <= outer.end;
}

/** The families a lock entry can hold ports in when its container was not read: its address's, else both. */
function entryFamilies(entry: LockEntry): Family[] {
  if (entry.hostAddress === null) return ['inet', 'inet6'];
  return entry.hostAddress.includes(':') ? ['inet6'] : ['inet'];
}

function entryListen(entry: LockEntry): ListenId {
  if (entry.interface !== null) return `i:${entry.interface}`;
  if (entry.hostAddress === null || entry.hostAddress === '0.0.0.0' || entry.hostAddress === '::') return EVERY_ADDRESS;
  return `a:${entry.hostAddress}`;
}

/** How many blocks the search for an assignment that serves every new request may try. */
const SEARCH_BUDGET = 100_000;

/**
 * Blocks planned for new requests, overlapping on listen sides as PortOccupancy's do (equal sides,
 * or one of them every address), and counted so that a plan can be taken back.
 */
class PlannedBlocks {
  /** How many planned blocks hold each port, per side and over all sides. */
  private readonly index = new SideIndex<number>();

  count(protocol: Protocol, families: readonly Family[], listen: ListenId, range: PortRange, delta: 1 | -1): void {
    for (const family of families) {
      const { side, any } = this.index.slot(protocol, family, listen);
      for (let p = range.start; p <= range.end; p++) {
        side.set(p, (side.get(p) ?? 0) + delta);
        any.set(p, (any.get(p) ?? 0) + delta);
      }
    }
  }

  overlaps(protocol: Protocol, families: readonly Family[], listen: ListenId, range: PortRange): boolean {
    for (const family of families) {
      const maps = this.index.overlapping(protocol, family, listen);
      for (let p = range.start; p <= range.end; p++) {
        if (maps.some((map) => (map.get(p) ?? 0) > 0)) return true;
      }
    }
    return false;
  }
}

/**
 * The dynamic requests grouped by allocation key: identical requests (the same entry written
 * twice) share one allocation, and the conflict check reports them. Ids are in key order.
 */
export class RequestGroups {
  /** Every group's id, in allocation-key order. */
  readonly ids: string[];
  /** The group id of each input request, in input order. */
  readonly requestIds: string[];
  private readonly groups = new Map<string, { key: AllocationKey; requests: DynamicRequest[]; families: Family[] }>();

  constructor(requests: readonly DynamicRequest[]) {
    // A pick entry is known by its own range as well: two of one container port are two allocations.
    const keys = requests.map((request): AllocationKey => ({
      ...request.key,
      range: request.key.kind === 'pick' ? request.range : null,
    }));
    this.requestIds = keys.map((key) => allocationKeyId(key));
    requests.forEach((request, i) => {
      const id = this.requestIds[i] as string;
      const group = this.groups.get(id);
      if (group === undefined)
        this.groups.set(id, { key: keys[i] as AllocationKey, requests: [request], families: [] });
      else group.requests.push(request);
    });
    for (const group of this.groups.values())
      group.families = [...new Set(group.requests.flatMap((r) => r.families))].sort();
    this.ids = [...this.groups.keys()].sort((a, b) => compareAllocationKeys(this.key(a), this.key(b)));
  }

  private group(id: string): { key: AllocationKey; requests: DynamicRequest[]; families: Family[] } {
    const group = this.groups.get(id);
    if (group === undefined) throw new Error(`no allocation request ${id}`);
    return group;
  }

  key(id: string): AllocationKey {
    return this.group(id).key;
  }

  first(id: string): DynamicRequest {
    return this.group(id).requests[0] as DynamicRequest;
  }

  requests(id: string): DynamicRequest[] {
    return this.group(id).requests;
  }

  families(id: string): Family[] {
    return this.group(id).families;
  }

  /** The width of the range to choose from, less one. */
  width(id: string): number {
    const { range } = this.first(id);
    return range.end - range.start;
  }

  /** The block's length less one: as many host ports as container ports. */
  length(id: string): number {
    const { containerPort } = this.key(id);
    return containerPort.end - containerPort.start;
  }

  /** Requests of one shape can trade places, so each takes a higher block than the one before it. */
  shape(id: string): string {
    const { listen, range } = this.first(id);
    return `${this.key(id).protocol}|${listen}|${this.families(id).join(',')}|${range.start}-${range.end}|${this.length(id)}`;
  }

  /** Who holds any of the ports on the request's sides, or null when they are free. */
  blocker(occupancy: PortOccupancy, id: string, ports: PortRange): PortOwner | null {
    const request = this.first(id);
    for (const family of this.families(id)) {
      const owner = occupancy.takenBy(request.key.protocol, family, request.listen, ports);
      if (owner !== null) return owner;
    }
    return null;
  }

  /** Records the allocation in the occupancy and in `chosen`. */
  take(occupancy: PortOccupancy, chosen: Map<string, PortRange>, id: string, ports: PortRange): void {
    const request = this.first(id);
    chosen.set(id, ports);
    for (const family of this.families(id)) {
      occupancy.add(request.key.protocol, family, request.listen, ports, {
        container: request.key.container,
        source: request.source,
        holds: 'allocation',
      });
    }
  }
}

type HostsInput = Pick<AllocationInput, 'host' | 'hosts' | 'containers' | 'partialLoad'>;

function isOwn(input: HostsInput, entry: LockEntry): boolean {
  return entry.host === input.host;
}

function otherHostsWith(input: HostsInput, container: string): number {
  return [...input.hosts].filter(([host, containers]) => host !== input.host && containers.has(container)).length;
}

export interface SortedLockEntries {
  /** Other hosts' entries: never touched. */
  foreign: LockEntry[];
  /** Entries of a host the manifests no longer name, which this host does not adopt. */
  orphans: LockEntry[];
  /** This host's entries, then those it adopts, each in lock order: what requests may claim. */
  candidates: LockEntry[];
}

/**
 * Phase 1, the lock's entries by host: this host's; other hosts' (never touched); and orphans,
 * recorded for a host the manifests no longer name (the anonymous host once a host is declared, a
 * renamed or removed host). An orphan is taken to be the same entry under an older host name when
 * exactly one host of the manifests has its container: that host adopts it, so declaring, renaming
 * or undeclaring the host of a one-host repository moves nothing, and a repository that grows from
 * one host to several keeps every allocation. A subset of files may not mention every host: then
 * only the anonymous host on either side makes an orphan.
 */
export function sortLockEntries(input: HostsInput, entries: readonly LockEntry[]): SortedLockEntries {
  const isCurrentHost = (host: string | null): boolean =>
    host === null ? input.hosts.size === 0 : input.hosts.has(host);
  const isForeign = (entry: LockEntry): boolean =>
    !isOwn(input, entry) &&
    (isCurrentHost(entry.host) || (input.partialLoad && entry.host !== null && input.host !== null));
  const adoptable = (entry: LockEntry): boolean =>
    input.containers.has(entry.container) && otherHostsWith(input, entry.container) === 0;
  const sorted: SortedLockEntries = { foreign: [], orphans: [], candidates: [] };
  for (const entry of entries) {
    if (isForeign(entry)) sorted.foreign.push(entry);
    else if (isOwn(input, entry) || adoptable(entry)) sorted.candidates.push(entry);
    else sorted.orphans.push(entry);
  }
  sorted.candidates.sort((a, b) => Number(!isOwn(input, a)) - Number(!isOwn(input, b)) || compareLockEntries(a, b));
  return sorted;
}

export interface Claims {
  /** The lock entry each request group claimed. */
  claims: Map<string, LockEntry>;
  claimed: Set<LockEntry>;
}

/**
 * Phase 2, claims: first by the recorded key; then a pick entry whose range changed (or was
 * written before ranges were recorded) is found by the range that holds its host port, narrowest
 * range first.
 */
export function claimLockEntries(requests: RequestGroups, candidates: readonly LockEntry[]): Claims {
  const byExactId = new Map<string, LockEntry[]>();
  const byBaseId = new Map<string, LockEntry[]>();
  for (const entry of candidates) {
    const exact = allocationKeyIdWithoutHost(entry);
    byExactId.set(exact, [...(byExactId.get(exact) ?? []), entry]);
    if (entry.kind === 'pick') {
      const base = allocationBaseId(entry);
      byBaseId.set(base, [...(byBaseId.get(base) ?? []), entry]);
    }
  }
  const claims = new Map<string, LockEntry>();
  const claimed = new Set<LockEntry>();
  for (const id of requests.ids) {
    const found = (byExactId.get(allocationKeyIdWithoutHost(requests.key(id))) ?? []).find((e) => !claimed.has(e));
    if (found === undefined) continue;
    claims.set(id, found);
    claimed.add(found);
  }
  const unclaimedPicks = requests.ids.filter((id) => requests.key(id).kind === 'pick' && !claims.has(id));
  unclaimedPicks.sort(
    (a, b) => requests.width(a) - requests.width(b) || compareAllocationKeys(requests.key(a), requests.key(b)),
  );
  for (const id of unclaimedPicks) {
    const range = requests.first(id).range;
    const found = (byBaseId.get(allocationBaseId(requests.key(id))) ?? []).find(
      (e) => !claimed.has(e) && contains(range, e.hostPort),
    );
    if (found === undefined) continue;
    claims.set(id, found);
    claimed.add(found);
  }
  return { claims, claimed };
}

export interface UnclaimedEntries {
  /** Kept in the new lock as they are. */
  kept: LockEntry[];
  /** Those of kept whose manifest was not read: they hold their ports in this compile. */
  held: LockEntry[];
  dropped: LockEntry[];
}

/**
 * Phase 3, entries nobody claimed: dropped when their exposure is gone; kept, holding their ports,
 * when the manifest that could claim them was not read; an orphan whose container only one other
 * host has is kept for that host to adopt.
 */
export function sortUnclaimedEntries(
  input: HostsInput,
  entries: readonly LockEntry[],
  claimed: ReadonlySet<LockEntry>,
): UnclaimedEntries {
  const unread = (entry: LockEntry): boolean => input.partialLoad && !input.containers.has(entry.container);
  const sorted: UnclaimedEntries = { kept: [], held: [], dropped: [] };
  for (const entry of entries) {
    if (claimed.has(entry)) continue;
    if (unread(entry)) {
      sorted.kept.push(entry);
      sorted.held.push(entry);
    } else if (
      !isOwn(input, entry) &&
      !input.containers.has(entry.container) &&
      otherHostsWith(input, entry.container) === 1
    ) {
      sorted.kept.push(entry);
    } else {
      sorted.dropped.push(entry);
    }
  }
  return sorted;
}

/**
 * Phase 4: the entries of manifests not read hold their ports. A fixed exposure on one of them is
 * a conflict (the allocation never moves for it).
 */
export function holdUnreadEntries(
  held: readonly LockEntry[],
  occupancy: PortOccupancy,
  lockFileName: string,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const entry of held) {
    for (const family of entryFamilies(entry)) {
      const owner = occupancy.takenBy(entry.protocol, family, entryListen(entry), entry.hostPort);
      if (owner === null) continue;
      diagnostics.push(
        located(
          'port-conflict',
          owner.source,
          `${entry.protocol} host port ${formatRange(entry.hostPort)} ${describeListen(entry)} is allocated to ${entry.container} in ${lockFileName} (its manifest was not read in this compile); an allocation never moves for another entry`,
          `choose another host port for this entry, or delete that entry from ${lockFileName} to let the allocation move`,
        ),
      );
      break;
    }
  }
  const lockSpan = lockFileSpan(lockFileName);
  for (const entry of held) {
    for (const family of entryFamilies(entry)) {
      occupancy.add(entry.protocol, family, entryListen(entry), entry.hostPort, {
        container: entry.container,
        source: lockSpan,
        holds: 'lock-entry',
      });
    }
  }
  return diagnostics;
}

/** Where a claimed lock entry could not be kept. */
export interface Displaced {
  from: PortRange;
  /** The other allocation on its port; null: the port is outside the request's range. */
  by: PortOwner | null;
}

export interface KeptClaims {
  /** Groups still without a host port: unclaimed or displaced. */
  pending: string[];
  displaced: Map<string, Displaced>;
  /** Groups whose locked port a fixed exposure takes: reported, and kept in the lock. */
  conflicted: Set<string>;
  diagnostics: Diagnostic[];
}

/**
 * Phase 5: keep every claimed entry that is still valid, in key order. A fixed host port on a
 * locked one is a conflict, never a reason to move the allocation.
 */
export function keepClaimedEntries(
  requests: RequestGroups,
  claims: ReadonlyMap<string, LockEntry>,
  occupancy: PortOccupancy,
  chosen: Map<string, PortRange>,
  lockFileName: string,
): KeptClaims {
  const kept: KeptClaims = { pending: [], displaced: new Map(), conflicted: new Set(), diagnostics: [] };
  for (const id of requests.ids) {
    const claim = claims.get(id);
    if (claim === undefined) {
      kept.pending.push(id);
      continue;
    }
    const { range } = requests.first(id);
    const { hostPort } = claim;
    if (!contains(range, hostPort)) {
      kept.pending.push(id);
      kept.displaced.set(id, { from: hostPort, by: null });
      continue;
    }
    const owner = requests.blocker(occupancy, id, hostPort);
    if (owner === null) {
      requests.take(occupancy, chosen, id, hostPort);
    } else if (owner.holds === undefined) {
      kept.conflicted.add(id);
      const key = requests.key(id);
      const holders = requests
        .requests(id)
        .map((r) => formatSpan(r.source))
        .join(', ');
      const hint = `choose another host port for the entry of ${owner.container} at ${formatSpan(owner.source)}, or delete the lock entry of ${key.container} from ${lockFileName} to let the allocation move`;
      kept.diagnostics.push(
        located(
          'port-conflict',
          owner.source,
          `${key.protocol} host port ${formatRange(hostPort)} ${describeListen(key)} is allocated to ${key.container} at ${holders} (recorded in ${lockFileName}); an allocation never moves for another entry`,
          hint,
        ),
      );
      for (const r of requests.requests(id)) {
        kept.diagnostics.push(
          located(
            'port-conflict',
            r.source,
            `the host port ${formatRange(hostPort)} locked for ${describeKey(key)} is also claimed by ${owner.container} at ${formatSpan(owner.source)}`,
            hint,
          ),
        );
      }
    } else {
      // Another allocation holds it: two lock entries on one port, e.g. after merging two branches.
      kept.pending.push(id);
      kept.displaced.set(id, { from: hostPort, by: owner });
    }
  }
  return kept;
}

export interface FreeBlocks {
  /** The pending groups in the order they are served. */
  order: string[];
  /** The block found for each, or null where none is left. */
  blocks: ReadonlyMap<string, PortRange | null>;
}

/**
 * Phase 6, free blocks for what is left, planned before any is taken (the occupancy is only
 * read), lowest free block first, the most constrained range first, so that no request fails for
 * its container's name: by the range's last port (a pick-one range inside the pool before the
 * pool), then the narrowest range, then key order (as before among the requests of one range).
 * For one-port requests on one listen side that order finds a block for every request whenever
 * there is a way to (earliest deadline first); blocks of several ports, listen sides and families
 * that overlap only in part can still defeat it, so when it leaves a request without a block, a
 * bounded search looks for blocks that serve them all before pool-full is reported.
 */
export function findFreeBlocks(
  requests: RequestGroups,
  pending: readonly string[],
  occupancy: PortOccupancy,
): FreeBlocks {
  const isFree = (id: string, block: PortRange, planned: PlannedBlocks): boolean =>
    requests.blocker(occupancy, id, block) === null &&
    !planned.overlaps(requests.key(id).protocol, requests.families(id), requests.first(id).listen, block);
  const plan = (id: string, block: PortRange, planned: PlannedBlocks, count: 1 | -1): void =>
    planned.count(requests.key(id).protocol, requests.families(id), requests.first(id).listen, block, count);

  /**
   * Each request in turn takes the lowest free block; null where none is left. Requests of one shape
   * resume where the previous one of that shape stopped: ports only ever become taken here, so
   * nothing below that point can have become free.
   */
  const firstFit = (order: readonly string[]): Map<string, PortRange | null> => {
    const planned = new PlannedBlocks();
    const chosen = new Map<string, PortRange | null>();
    const resumeAt = new Map<string, number>();
    for (const id of order) {
      const { range } = requests.first(id);
      const length = requests.length(id);
      const shape = requests.shape(id);
      let block: PortRange | null = null;
      for (let start = resumeAt.get(shape) ?? range.start; start + length <= range.end; start++) {
        const candidate = { start, end: start + length };
        if (isFree(id, candidate, planned)) {
          block = candidate;
          break;
        }
      }
      resumeAt.set(shape, block === null ? range.end + 1 : block.start);
      if (block !== null) plan(id, block, planned, 1);
      chosen.set(id, block);
    }
    return chosen;
  };

  /**
   * A depth-first search, in the same order and lowest block first, for blocks for every request;
   * its first try is the first fit. Null when there are none, or when it gives up after
   * SEARCH_BUDGET blocks tried (proving a large pool full could take forever).
   */
  const searchAll = (order: readonly string[]): Map<string, PortRange> | null => {
    const alone = new PlannedBlocks();
    const fitsAlone = (id: string): boolean => {
      const { range } = requests.first(id);
      const length = requests.length(id);
      for (let start = range.start; start + length <= range.end; start++)
        if (isFree(id, { start, end: start + length }, alone)) return true;
      return false;
    };
    // A request with no free block even on its own fails whatever the others do.
    if (!order.every(fitsAlone)) return null;
    const lastOfShape = new Map<string, number>();
    const previous = order.map((id, i) => {
      const before = lastOfShape.get(requests.shape(id)) ?? -1;
      lastOfShape.set(requests.shape(id), i);
      return before;
    });
    const planned = new PlannedBlocks();
    const blocks: PortRange[] = [];
    const lowest = (depth: number): number => {
      const before = previous[depth] as number;
      return before < 0 ? requests.first(order[depth] as string).range.start : (blocks[before] as PortRange).start + 1;
    };
    const nextStart: number[] = [lowest(0)];
    let tried = 0;
    for (let depth = 0; depth < order.length;) {
      const id = order[depth] as string;
      const { range } = requests.first(id);
      const length = requests.length(id);
      let block: PortRange | null = null;
      for (let start = nextStart[depth] as number; start + length <= range.end; start++) {
        if (++tried > SEARCH_BUDGET) return null;
        const candidate = { start, end: start + length };
        if (isFree(id, candidate, planned)) {
          block = candidate;
          break;
        }
      }
      if (block !== null) {
        plan(id, block, planned, 1);
        blocks[depth] = block;
        nextStart[depth] = block.start + 1;
        depth++;
        if (depth < order.length) nextStart[depth] = lowest(depth);
        continue;
      }
      // No block for this request with the earlier ones where they are: move the one before it.
      depth--;
      if (depth < 0) return null;
      plan(order[depth] as string, blocks[depth] as PortRange, planned, -1);
    }
    return new Map(order.map((id, i) => [id, blocks[i] as PortRange]));
  };

  const order = [...pending].sort(
    (a, b) =>
      requests.first(a).range.end - requests.first(b).range.end ||
      requests.width(a) - requests.width(b) ||
      compareAllocationKeys(requests.key(a), requests.key(b)),
  );
  const fitted = firstFit(order);
  const blocks: ReadonlyMap<string, PortRange | null> = [...fitted.values()].includes(null)
    ? (searchAll(order) ?? fitted)
    : fitted;
  return { order, blocks };
}

/**
 * Phase 7: takes the blocks found, and says what has none (pool-full), what a frozen lock would
 * have to record, and which locked allocations moved.
 */
export function takeFreeBlocks(
  requests: RequestGroups,
  found: FreeBlocks,
  displaced: ReadonlyMap<string, Displaced>,
  occupancy: PortOccupancy,
  chosenPorts: Map<string, PortRange>,
  frozen: boolean,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const id of found.order) {
    const key = requests.key(id);
    const length = requests.length(id);
    const chosen = found.blocks.get(id) ?? null;
    if (chosen === null) {
      for (const r of requests.requests(id)) {
        diagnostics.push(
          located(
            'pool-full',
            r.source,
            `no free block of ${length + 1} host port${length === 0 ? '' : 's'} is left in ${r.rangeName} for ${describeKey(key)}`,
            "widen the range (the host's `pool:`, or --pool), or give some entries fixed host ports",
          ),
        );
      }
      continue;
    }
    requests.take(occupancy, chosenPorts, id, chosen);
    const moved = displaced.get(id);
    for (const r of requests.requests(id)) {
      if (frozen) {
        diagnostics.push(
          located(
            'lock-frozen',
            r.source,
            moved === undefined
              ? `the lock file has no host port for ${describeKey(key)}; it would record ${formatRange(chosen)}`
              : `the host port ${formatRange(moved.from)} locked for ${describeKey(key)} is no longer valid${moved.by === null ? ` (outside ${r.rangeName})` : ` (also locked for ${moved.by.container} at ${formatSpan(moved.by.source)})`}; it would move to ${formatRange(chosen)}`,
            FROZEN_HINT,
          ),
        );
      } else if (moved !== undefined) {
        diagnostics.push(
          located(
            'lock-moved',
            r.source,
            moved.by === null
              ? `the host port ${formatRange(moved.from)} locked for ${describeKey(key)} is outside ${r.rangeName}; moved to ${formatRange(chosen)}`
              : `the host port ${formatRange(moved.from)} locked for ${describeKey(key)} is also locked for ${moved.by.container} at ${formatSpan(moved.by.source)}; moved to ${formatRange(chosen)}`,
            moved.by === null
              ? 'commit the updated lock file, and tell the users of the old port (a range that holds the old port would have kept it)'
              : 'commit the updated lock file, and tell the users of the old port',
            'warning',
          ),
        );
      }
    }
  }
  return diagnostics;
}

export interface NewLockInput {
  input: Pick<AllocationInput, 'host' | 'partialLoad' | 'frozen' | 'lockFileName'> & HostsInput;
  requests: RequestGroups;
  claims: ReadonlyMap<string, LockEntry>;
  kept: Pick<KeptClaims, 'conflicted' | 'displaced'>;
  chosenPorts: ReadonlyMap<string, PortRange>;
  /** Entries carried over untouched: other hosts', and the unclaimed ones kept. */
  carried: readonly LockEntry[];
  dropped: readonly LockEntry[];
}

/**
 * Phase 8, the new lock. A kept allocation is recorded under this host; a pick entry written
 * without its range keeps that form while no other pick entry of its container port could claim
 * it. Frozen, every difference from the lock read is an error.
 */
export function buildNewLock({ input, requests, claims, kept, chosenPorts, carried, dropped }: NewLockInput): {
  lock: Lockfile;
  diagnostics: Diagnostic[];
} {
  const diagnostics: Diagnostic[] = [];
  const picksByBase = new Map<string, number>();
  for (const id of requests.ids) {
    const key = requests.key(id);
    if (key.kind !== 'pick') continue;
    const base = allocationBaseId(key);
    picksByBase.set(base, (picksByBase.get(base) ?? 0) + 1);
  }
  const recordedHost = (entry: LockEntry): string | null =>
    // A subset of files that names no host says nothing about the host: keep the recorded name.
    input.partialLoad && input.host === null ? entry.host : input.host;
  const mine: LockEntry[] = [];
  for (const id of requests.ids) {
    const key = requests.key(id);
    const claim = claims.get(id);
    if (kept.conflicted.has(id) && claim !== undefined) {
      mine.push({ ...claim, host: recordedHost(claim) });
      continue;
    }
    const ports = chosenPorts.get(id);
    if (ports === undefined) continue;
    if (claim === undefined || kept.displaced.has(id)) {
      mine.push({ ...key, host: input.host, hostPort: ports });
      continue;
    }
    const keepsLegacyForm = key.kind === 'pick' && claim.range == null && picksByBase.get(allocationBaseId(key)) === 1;
    const entry: LockEntry = {
      ...key,
      host: recordedHost(claim),
      range: keepsLegacyForm ? null : (key.range ?? null),
      hostPort: ports,
    };
    mine.push(entry);
    if (input.frozen) {
      const changes: string[] = [];
      if (entry.host !== claim.host)
        changes.push(`recorded for ${describeHost(claim.host)}; it would be recorded for ${describeHost(entry.host)}`);
      const before = claim.range ?? null;
      const after = entry.range ?? null;
      if (
        before !== after &&
        (before === null || after === null || before.start !== after.start || before.end !== after.end)
      ) {
        changes.push(
          `${before === null ? 'recorded without its range' : `recorded with the range ${formatRange(before)}`}; it would record ${after === null ? 'none' : `the range ${formatRange(after)}`}`,
        );
      }
      if (changes.length > 0) {
        for (const r of requests.requests(id)) {
          diagnostics.push(
            located(
              'lock-frozen',
              r.source,
              `the lock entry of ${describeKey(key)} is ${changes.join(', and ')}, keeping host port ${formatRange(ports)}`,
              FROZEN_HINT,
            ),
          );
        }
      }
    }
  }
  const lock: Lockfile = {
    version: 1,
    entries: [...carried, ...mine].map(normalize).sort(compareLockEntries),
  };

  if (input.frozen) {
    const lockSpan = lockFileSpan(input.lockFileName);
    for (const entry of [...dropped].sort(compareLockEntries)) {
      const why =
        isOwn(input, entry) || entry.host === null
          ? 'belongs to no entry any more'
          : `is recorded for host ${entry.host}, which no manifest names any more, and no entry claims it`;
      diagnostics.push(
        located(
          'lock-frozen',
          lockSpan,
          `the lock entry ${describeEntry(entry)} ${why}; it would be dropped`,
          FROZEN_HINT,
        ),
      );
    }
  }
  return { lock, diagnostics };
}

/** The phases in order; each is exported to be tested alone. */
export function allocateHostPorts(input: AllocationInput): AllocationResult {
  const { occupancy } = input;
  const requests = new RequestGroups(input.requests);
  const chosenPorts = new Map<string, PortRange>();
  const { foreign, orphans, candidates } = sortLockEntries(input, input.lock.entries);
  const { claims, claimed } = claimLockEntries(requests, candidates);
  const unclaimed = sortUnclaimedEntries(input, [...candidates, ...orphans], claimed);
  const heldDiagnostics = holdUnreadEntries(unclaimed.held, occupancy, input.lockFileName);
  const kept = keepClaimedEntries(requests, claims, occupancy, chosenPorts, input.lockFileName);
  const found = findFreeBlocks(requests, kept.pending, occupancy);
  const takenDiagnostics = takeFreeBlocks(requests, found, kept.displaced, occupancy, chosenPorts, input.frozen);
  const { lock, diagnostics: lockDiagnostics } = buildNewLock({
    input,
    requests,
    claims,
    kept,
    chosenPorts,
    carried: [...foreign, ...unclaimed.kept],
    dropped: unclaimed.dropped,
  });
  const hostPorts = requests.requestIds.map((id) => chosenPorts.get(id) ?? null);
  return {
    hostPorts,
    lock,
    lockChanged: !lockfilesEqual(lock, input.lock),
    diagnostics: [...heldDiagnostics, ...kept.diagnostics, ...takenDiagnostics, ...lockDiagnostics],
  };
}

function lockFileSpan(lockFileName: string): SourceSpan {
  return { file: lockFileName, line: 1, column: 1, endLine: 1, endColumn: 1 };
}

/** One form per entry: `range` only on pick entries that have one. */
function normalize(entry: LockEntry): LockEntry {
  const { range, ...rest } = entry;
  return range === undefined || range === null ? rest : { ...rest, range };
}
