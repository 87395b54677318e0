// Each phase of allocateHostPorts alone, on plain objects.
import { describe, expect, it } from 'vitest';
import type { SourceSpan } from '../../src/diagnostics/diagnostic.js';
import {
  buildNewLock,
  claimLockEntries,
  findFreeBlocks,
  holdUnreadEntries,
  keepClaimedEntries,
  RequestGroups,
  sortLockEntries,
  sortUnclaimedEntries,
  takeFreeBlocks,
  type DynamicRequest,
} from '../../src/model/allocate-host-ports.js';
import type { LockEntry } from '../../src/model/lockfile.js';
import { EVERY_ADDRESS, PortOccupancy } from '../../src/model/port-occupancy.js';
import type { PortRange } from '../../src/ports/port-spec.js';

const r = (start: number, end = start): PortRange => ({ start, end });
const at = (line: number): SourceSpan => ({ file: 'm.yaml', line, column: 1, endLine: line, endColumn: 2 });
const POOL = r(49000, 49003);

function request(container: string, port: number, over: Partial<DynamicRequest> = {}): DynamicRequest {
  return {
    key: {
      host: null,
      container,
      protocol: 'tcp',
      interface: null,
      hostAddress: null,
      containerPort: r(port),
      kind: 'ephemeral',
    },
    range: POOL,
    rangeName: 'the pool 49000-49003',
    families: ['inet'],
    listen: EVERY_ADDRESS,
    source: at(port),
    ...over,
  };
}

function entry(container: string, port: number, hostPort: number, over: Partial<LockEntry> = {}): LockEntry {
  return {
    host: null,
    container,
    protocol: 'tcp',
    interface: null,
    hostAddress: null,
    kind: 'ephemeral',
    containerPort: r(port),
    hostPort: r(hostPort),
    ...over,
  };
}

const hostsInput = (over: Partial<Parameters<typeof sortLockEntries>[0]> = {}) => ({
  host: null,
  hosts: new Map<string, Set<string>>(),
  containers: new Set(['a', 'b']),
  partialLoad: false,
  ...over,
});

describe('RequestGroups', () => {
  it('groups identical requests into one allocation, in key order, and keeps each request its group', () => {
    const groups = new RequestGroups([request('b', 80), request('a', 80), request('b', 80, { families: ['inet6'] })]);
    expect(groups.ids).toHaveLength(2);
    expect(groups.ids.map((id) => groups.key(id).container)).toEqual(['a', 'b']);
    expect(groups.requestIds[0]).toBe(groups.requestIds[2]);
    expect(groups.requests(groups.requestIds[0] as string)).toHaveLength(2);
    expect(groups.families(groups.requestIds[0] as string)).toEqual(['inet', 'inet6']);
  });
});

describe('sortLockEntries', () => {
  it("keeps another named host's entries apart, adopts an orphan one host of the manifests has, and orphans the rest", () => {
    const input = hostsInput({
      host: 'web',
      hosts: new Map([
        ['web', new Set(['a'])],
        ['db', new Set(['b'])],
      ]),
      containers: new Set(['a']),
    });
    const own = entry('a', 80, 49000, { host: 'web' });
    const other = entry('b', 80, 49001, { host: 'db' });
    const adopted = entry('a', 81, 49002, { host: null });
    const orphan = entry('c', 80, 49003, { host: 'gone' });
    const sorted = sortLockEntries(input, [adopted, orphan, other, own]);
    expect(sorted.foreign).toEqual([other]);
    expect(sorted.candidates).toEqual([own, adopted]);
    expect(sorted.orphans).toEqual([orphan]);
  });
});

describe('claimLockEntries', () => {
  it('claims by the recorded key, then a pick entry by the range that holds its host port', () => {
    const pickRange = r(8000, 8010);
    const groups = new RequestGroups([
      request('a', 80),
      request('a', 81, {
        key: { ...request('a', 81).key, kind: 'pick' },
        range: pickRange,
      }),
    ]);
    const exact = entry('a', 80, 49001);
    const legacyPick = entry('a', 81, 8005, { kind: 'pick' });
    const { claims, claimed } = claimLockEntries(groups, [exact, legacyPick]);
    expect(claims.get(groups.requestIds[0] as string)).toBe(exact);
    expect(claims.get(groups.requestIds[1] as string)).toBe(legacyPick);
    expect(claimed.size).toBe(2);
  });
});

describe('sortUnclaimedEntries', () => {
  it('drops what belongs to no entry, and keeps (holding its ports) what a manifest not read may claim', () => {
    const gone = entry('a', 99, 49000);
    const unread = entry('z', 80, 49001);
    const claimedOne = entry('a', 80, 49002);
    const full = sortUnclaimedEntries(hostsInput(), [gone, unread, claimedOne], new Set([claimedOne]));
    expect(full).toEqual({ kept: [], held: [], dropped: [gone, unread] });
    const partial = sortUnclaimedEntries(hostsInput({ partialLoad: true }), [gone, unread], new Set());
    expect(partial).toEqual({ kept: [unread], held: [unread], dropped: [gone] });
  });
});

describe('holdUnreadEntries', () => {
  it('holds the ports of entries not read, and reports a fixed port on one as a conflict', () => {
    const occupancy = new PortOccupancy();
    occupancy.add('tcp', 'inet', EVERY_ADDRESS, r(49001), { container: 'fixed', source: at(3) });
    const diagnostics = holdUnreadEntries([entry('z', 80, 49001), entry('y', 80, 49002)], occupancy, 'pfexpose.lock');
    expect(diagnostics.map((d) => [d.code, d.line])).toEqual([['port-conflict', 3]]);
    expect(occupancy.takenBy('tcp', 'inet6', EVERY_ADDRESS, r(49002))).toMatchObject({
      container: 'y',
      holds: 'lock-entry',
    });
  });
});

describe('keepClaimedEntries', () => {
  it('keeps a valid claim, displaces one outside the range or on another allocation, and reports a fixed port on one', () => {
    const groups = new RequestGroups([request('a', 80), request('b', 80), request('c', 80), request('d', 80)]);
    const [a, b, c, d] = groups.requestIds as [string, string, string, string];
    const occupancy = new PortOccupancy();
    occupancy.add('tcp', 'inet', EVERY_ADDRESS, r(49001), { container: 'fixed', source: at(9) });
    occupancy.add('tcp', 'inet', EVERY_ADDRESS, r(49002), { container: 'x', source: at(8), holds: 'allocation' });
    const claims = new Map([
      [a, entry('a', 80, 49000)],
      [b, entry('b', 80, 50000)],
      [c, entry('c', 80, 49001)],
      [d, entry('d', 80, 49002)],
    ]);
    const chosen = new Map<string, PortRange>();
    const kept = keepClaimedEntries(groups, claims, occupancy, chosen, 'pfexpose.lock');
    expect(chosen).toEqual(new Map([[a, r(49000)]]));
    expect(kept.pending).toEqual([b, d]);
    expect(kept.displaced.get(b)).toEqual({ from: r(50000), by: null });
    expect(kept.displaced.get(d)?.by?.container).toBe('x');
    expect([...kept.conflicted]).toEqual([c]);
    expect(kept.diagnostics.map((x) => [x.code, x.line])).toEqual([
      ['port-conflict', 9],
      ['port-conflict', 80],
    ]);
  });
});

describe('findFreeBlocks and takeFreeBlocks', () => {
  it('serves the most constrained range first, lowest free block first, without taking anything', () => {
    const groups = new RequestGroups([
      request('a', 80),
      request('b', 80, { range: r(49001, 49001), rangeName: 'the range 49001' }),
    ]);
    const [a, b] = groups.requestIds as [string, string];
    const occupancy = new PortOccupancy();
    const found = findFreeBlocks(groups, [a, b], occupancy);
    expect(found.order).toEqual([b, a]);
    expect(found.blocks).toEqual(
      new Map([
        [b, r(49001)],
        [a, r(49000)],
      ]),
    );
    expect(occupancy.takenBy('tcp', 'inet', EVERY_ADDRESS, r(49000, 49001))).toBeNull();

    const chosen = new Map<string, PortRange>();
    expect(takeFreeBlocks(groups, found, new Map(), occupancy, chosen, false)).toEqual([]);
    expect(chosen.get(a)).toEqual(r(49000));
    expect(occupancy.takenBy('tcp', 'inet', EVERY_ADDRESS, r(49001))?.container).toBe('b');
  });

  it('fits blocks of different lengths on overlapping listen sides next to each other', () => {
    // a takes two ports on every address, so b (on em0, which every address covers) goes above it.
    const groups = new RequestGroups([
      request('a', 80, {
        key: { ...request('a', 80).key, containerPort: r(80, 81) },
        range: r(49000, 49002),
      }),
      request('b', 80, { range: r(49000, 49002), listen: 'i:em0' }),
    ]);
    const [a, b] = groups.requestIds as [string, string];
    const found = findFreeBlocks(groups, groups.ids, new PortOccupancy());
    expect(found.blocks.get(a)).toEqual(r(49000, 49001));
    expect(found.blocks.get(b)).toEqual(r(49002));
  });

  it('says pool-full where no block is left, and what a frozen lock would record', () => {
    const groups = new RequestGroups([request('a', 80, { range: r(49000, 49000) })]);
    const [a] = groups.requestIds as [string];
    const occupancy = new PortOccupancy();
    occupancy.add('tcp', 'inet', EVERY_ADDRESS, r(49000), { container: 'fixed', source: at(1) });
    const full = findFreeBlocks(groups, [a], occupancy);
    expect(full.blocks.get(a)).toBeNull();
    expect(takeFreeBlocks(groups, full, new Map(), occupancy, new Map(), false).map((d) => d.code)).toEqual([
      'pool-full',
    ]);

    const free = findFreeBlocks(groups, [a], new PortOccupancy());
    const frozen = takeFreeBlocks(groups, free, new Map(), new PortOccupancy(), new Map(), true);
    expect(frozen.map((d) => d.code)).toEqual(['lock-frozen']);
    expect(frozen[0]?.message).toContain('it would record 49000');
  });
});

describe('buildNewLock', () => {
  const input = { ...hostsInput(), frozen: false, lockFileName: 'pfexpose.lock' };

  it('records the ports chosen, carries the others over, and sorts the entries', () => {
    const groups = new RequestGroups([request('b', 80), request('a', 80)]);
    const [b, a] = groups.requestIds as [string, string];
    const other = entry('z', 80, 49003, { host: 'db' });
    const { lock, diagnostics } = buildNewLock({
      input,
      requests: groups,
      claims: new Map([[a, entry('a', 80, 49000)]]),
      kept: { conflicted: new Set(), displaced: new Map() },
      chosenPorts: new Map([
        [a, r(49000)],
        [b, r(49001)],
      ]),
      carried: [other],
      dropped: [],
    });
    expect(diagnostics).toEqual([]);
    expect(lock.entries.map((e) => `${e.host ?? '-'} ${e.container} ${e.hostPort.start}`)).toEqual([
      '- a 49000',
      '- b 49001',
      'db z 49003',
    ]);
  });

  it('frozen, says every entry it would drop', () => {
    const { lock, diagnostics } = buildNewLock({
      input: { ...input, frozen: true },
      requests: new RequestGroups([]),
      claims: new Map(),
      kept: { conflicted: new Set(), displaced: new Map() },
      chosenPorts: new Map(),
      carried: [],
      dropped: [entry('a', 99, 49000)],
    });
    expect(lock.entries).toEqual([]);
    expect(diagnostics.map((d) => [d.code, d.file])).toEqual([['lock-frozen', 'pfexpose.lock']]);
    expect(diagnostics[0]?.message).toContain('belongs to no entry any more; it would be dropped');
  });
});
