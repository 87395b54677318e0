// Chooses host ports for dynamic entries so that they never move: a valid lock entry is kept as is;
// new requests are served in key order, lowest free block first, around every fixed exposure.
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import type { Family, PortRange } from '../ports/port-spec.js';
import { formatRange, formatSpan, located } from './located.js';
import type { AllocationKey, LockEntry, Lockfile } from './lockfile.js';
import { allocationKeyId, compareAllocationKeys, compareLockEntries, lockfilesEqual } from './lockfile.js';
import type { ListenId, PortOccupancy, PortOwner } from './port-occupancy.js';

export interface DynamicRequest {
  key: AllocationKey;
  /** Where to choose from: the host's pool, or the entry's own range (Docker's pick-one form). */
  range: PortRange;
  /** Human name of `range` for messages, e.g. "the pool 49000-49900". */
  rangeName: string;
  families: Family[];
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
}

export interface AllocationResult {
  /** Host ports per request, in the order of input.requests; null when the range was full. */
  hostPorts: (PortRange | null)[];
  lock: Lockfile;
  lockChanged: boolean;
  diagnostics: Diagnostic[];
}

const FROZEN_HINT = 'run `pfexpose compile` without --frozen to update the lock file, then commit it';

function describeKey(key: AllocationKey): string {
  const listen =
    key.interface !== null ? `on ${key.interface}` : key.hostAddress !== null ? `on ${key.hostAddress}` : 'on every address';
  return `${key.container} ${formatRange(key.containerPort)}/${key.protocol} ${listen} (${key.kind})`;
}

export function allocateHostPorts(input: AllocationInput): AllocationResult {
  const { occupancy } = input;
  const diagnostics: Diagnostic[] = [];
  const chosenPorts = new Map<string, PortRange>();

  // Identical requests (the same entry written twice) share one allocation; the conflict check reports them.
  const groups = new Map<string, DynamicRequest[]>();
  const requestIds = input.requests.map((request) => allocationKeyId(request.key));
  input.requests.forEach((request, i) => {
    const id = requestIds[i] as string;
    const group = groups.get(id);
    if (group === undefined) groups.set(id, [request]);
    else group.push(request);
  });
  const ids = [...groups.keys()].sort((a, b) =>
    compareAllocationKeys((groups.get(a) as DynamicRequest[])[0]!.key, (groups.get(b) as DynamicRequest[])[0]!.key),
  );
  const first = (id: string): DynamicRequest => (groups.get(id) as DynamicRequest[])[0]!;
  const familiesById = new Map<string, Family[]>();
  for (const [id, group] of groups) familiesById.set(id, [...new Set(group.flatMap((r) => r.families))].sort());
  const families = (id: string): Family[] => familiesById.get(id) ?? [];
  const blocker = (id: string, ports: PortRange): PortOwner | null => {
    const request = first(id);
    for (const family of families(id)) {
      const owner = occupancy.takenBy(request.key.protocol, family, request.listen, ports);
      if (owner !== null) return owner;
    }
    return null;
  };
  const take = (id: string, ports: PortRange): void => {
    const request = first(id);
    chosenPorts.set(id, ports);
    for (const family of families(id)) {
      occupancy.add(request.key.protocol, family, request.listen, ports, { container: request.key.container, source: request.source });
    }
  };

  const locked = new Map<string, LockEntry>();
  for (const entry of input.lock.entries) if (entry.host === input.host) locked.set(allocationKeyId(entry), entry);

  // Pass 1: keep every lock entry that is still valid, in key order.
  const pending: string[] = [];
  const displaced = new Map<string, { from: PortRange; by: PortOwner | null }>();
  for (const id of ids) {
    const entry = locked.get(id);
    if (entry === undefined) {
      pending.push(id);
      continue;
    }
    const { range } = first(id);
    const inRange = entry.hostPort.start >= range.start && entry.hostPort.end <= range.end;
    const owner = inRange ? blocker(id, entry.hostPort) : null;
    if (inRange && owner === null) {
      take(id, entry.hostPort);
    } else {
      pending.push(id);
      displaced.set(id, { from: entry.hostPort, by: owner });
    }
  }

  // Pass 2: serve what is left, lowest free block first. Requests of one shape (protocol, listen
  // side, families, range, length) resume where the previous one of that shape stopped: in this pass
  // ports only ever become taken, so nothing below that point can have become free.
  const resumeAt = new Map<string, number>();
  for (const id of pending) {
    const request = first(id);
    const length = request.key.containerPort.end - request.key.containerPort.start;
    const shape = `${request.key.protocol}|${request.listen}|${families(id).join(',')}|${request.range.start}-${request.range.end}|${length}`;
    let chosen: PortRange | null = null;
    for (let start = resumeAt.get(shape) ?? request.range.start; start + length <= request.range.end; start++) {
      const candidate = { start, end: start + length };
      if (blocker(id, candidate) === null) {
        chosen = candidate;
        break;
      }
    }
    resumeAt.set(shape, chosen === null ? request.range.end + 1 : chosen.start);
    const requests = groups.get(id) as DynamicRequest[];
    if (chosen === null) {
      for (const r of requests) {
        diagnostics.push(
          located(
            'pool-full',
            r.source,
            `no free block of ${length + 1} host port${length === 0 ? '' : 's'} is left in ${r.rangeName} for ${describeKey(r.key)}`,
            'widen the range (the host\'s `pool:`, or --pool), or give some entries fixed host ports',
          ),
        );
      }
      continue;
    }
    take(id, chosen);
    const moved = displaced.get(id);
    for (const r of requests) {
      if (input.frozen) {
        diagnostics.push(
          located(
            'lock-frozen',
            r.source,
            moved === undefined
              ? `the lock file has no host port for ${describeKey(r.key)}; it would record ${formatRange(chosen)}`
              : `the host port ${formatRange(moved.from)} locked for ${describeKey(r.key)} is no longer valid${moved.by === null ? ` (outside ${r.rangeName})` : ` (taken by ${moved.by.container} at ${formatSpan(moved.by.source)})`}; it would move to ${formatRange(chosen)}`,
            FROZEN_HINT,
          ),
        );
      } else if (moved?.by) {
        diagnostics.push(
          located(
            'lock-moved',
            r.source,
            `the host port ${formatRange(moved.from)} locked for ${describeKey(r.key)} is now taken by ${moved.by.container} at ${formatSpan(moved.by.source)}; moved to ${formatRange(chosen)}`,
            'commit the updated lock file, and tell the users of the old port',
            'warning',
          ),
        );
      }
    }
  }

  const kept = input.lock.entries.filter((e) => e.host !== input.host);
  const mine: LockEntry[] = ids.flatMap((id) => {
    const ports = chosenPorts.get(id);
    return ports === undefined ? [] : [{ ...first(id).key, hostPort: ports }];
  });
  const lock: Lockfile = { version: 1, entries: [...kept, ...mine].sort(compareLockEntries) };

  if (input.frozen) {
    for (const [id, entry] of [...locked].sort((a, b) => compareLockEntries(a[1], b[1]))) {
      if (groups.has(id)) continue;
      diagnostics.push(
        located(
          'lock-frozen',
          { file: input.lockFileName, line: 1, column: 1, endLine: 1, endColumn: 1 },
          `the lock entry ${describeKey(entry)} -> ${formatRange(entry.hostPort)} belongs to no entry any more and would be dropped`,
          FROZEN_HINT,
        ),
      );
    }
  }
  const hostPorts = requestIds.map((id) => chosenPorts.get(id) ?? null);
  return { hostPorts, lock, lockChanged: !lockfilesEqual(lock, input.lock), diagnostics };
}
