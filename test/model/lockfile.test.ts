import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LockEntry, Lockfile } from '../../src/model/lockfile.js';
import { compareLockEntries, emptyLockfile, parseLockfile, serializeLockfile } from '../../src/model/lockfile.js';

const entry = (over: Partial<LockEntry> = {}): LockEntry => ({
  host: null,
  container: 'web',
  protocol: 'tcp',
  interface: null,
  hostAddress: null,
  kind: 'ephemeral',
  containerPort: { start: 80, end: 80 },
  hostPort: { start: 49000, end: 49000 },
  ...over,
});

const arbitraryEntry: fc.Arbitrary<LockEntry> = fc
  .record({
    host: fc.option(fc.string({ minLength: 1, maxLength: 6 }), { nil: null }),
    container: fc.string({ minLength: 1, maxLength: 8 }),
    protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const),
    listen: fc.oneof(
      fc.constant({ interface: null, hostAddress: null }),
      fc.constantFrom('em0', 'lo0').map((i) => ({ interface: i, hostAddress: null })),
      fc.constantFrom('127.0.0.1', '::1', '0.0.0.0').map((a) => ({ interface: null, hostAddress: a })),
    ),
    kind: fc.constantFrom('ephemeral' as const, 'pick' as const, 'publish-all' as const),
    port: fc.integer({ min: 1, max: 60000 }),
    length: fc.integer({ min: 0, max: 5 }),
    hostStart: fc.integer({ min: 1, max: 60000 }),
    // A pick entry's own range around its host port; absent in locks written before ranges were recorded.
    pickRange: fc.option(fc.tuple(fc.nat(100), fc.nat(100)), { nil: null }),
  })
  .map((x): LockEntry => ({
    host: x.host,
    container: x.container,
    protocol: x.protocol,
    ...x.listen,
    kind: x.kind,
    ...(x.kind === 'pick' && x.pickRange !== null
      ? {
          range: {
            start: Math.max(1, x.hostStart - x.pickRange[0]),
            end: Math.min(65535, x.hostStart + x.length + x.pickRange[1]),
          },
        }
      : {}),
    containerPort: { start: x.port, end: x.port + x.length },
    hostPort: { start: x.hostStart, end: x.hostStart + x.length },
  }));

describe('serializeLockfile', () => {
  it('is deterministic: sorted entries, fixed key order, 2-space JSON, trailing newline', () => {
    const a = entry({ container: 'b' });
    const b = entry({ container: 'a', hostPort: { start: 49001, end: 49001 } });
    const text = serializeLockfile({ version: 1, entries: [a, b] });
    expect(text).toBe(serializeLockfile({ version: 1, entries: [b, a] }));
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toBe(
      `{
  "version": 1,
  "entries": [
    {
      "host": null,
      "container": "a",
      "protocol": "tcp",
      "interface": null,
      "hostAddress": null,
      "kind": "ephemeral",
      "containerPort": {
        "start": 80,
        "end": 80
      },
      "hostPort": {
        "start": 49001,
        "end": 49001
      }
    },
    {
      "host": null,
      "container": "b",
      "protocol": "tcp",
      "interface": null,
      "hostAddress": null,
      "kind": "ephemeral",
      "containerPort": {
        "start": 80,
        "end": 80
      },
      "hostPort": {
        "start": 49000,
        "end": 49000
      }
    }
  ]
}
`,
    );
  });

  it('parse(serialize(lock)) gives the lock back, whatever the entry order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(arbitraryEntry, { selector: (e) => JSON.stringify({ ...e, hostPort: 0 }) }),
        (entries) => {
          const lock: Lockfile = { version: 1, entries };
          const text = serializeLockfile(lock);
          const parsed = parseLockfile(text, 'pfexpose.lock.json');
          expect(parsed.diagnostics).toEqual([]);
          expect(parsed.lock).toEqual({ version: 1, entries: [...entries].sort(compareLockEntries) });
          expect(serializeLockfile({ version: 1, entries: [...entries].reverse() })).toBe(text);
        },
      ),
    );
  });
});

describe('parseLockfile', () => {
  it('never throws, and an error always empties the lock', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const result = parseLockfile(text, 'x.json');
        if (result.diagnostics.length > 0) expect(result.lock).toEqual(emptyLockfile());
        for (const d of result.diagnostics) expect(['lock-syntax', 'lock-schema']).toContain(d.code);
      }),
    );
  });

  const valid = serializeLockfile({ version: 1, entries: [entry()] });
  const pick = serializeLockfile({
    version: 1,
    entries: [entry({ kind: 'pick', range: { start: 48990, end: 49010 } })],
  });
  const cases: [string, { given: string; want: string[] }][] = [
    ['empty', { given: '', want: ['lock-syntax 1:1'] }],
    ['not JSON', { given: '{\n  "version": 1,\n  oops\n}', want: ['lock-syntax 3:3'] }],
    ['trailing comma', { given: '{"version": 1, "entries": [],}', want: ['lock-syntax 1:30'] }],
    ['duplicate key', { given: '{"version": 1,\n "version": 1, "entries": []}', want: ['lock-syntax 2:2'] }],
    ['not an object', { given: '[]', want: ['lock-schema 1:1'] }],
    ['wrong version', { given: '{"version": 2, "entries": []}', want: ['lock-schema 1:13'] }],
    ['unknown top-level key', { given: '{"version": 1, "entries": [], "when": 5}', want: ['lock-schema 1:31'] }],
    [
      'unknown entry key',
      { given: valid.replace('"host": null,', '"host": null, "extra": 1,'), want: ['lock-schema 5:21'] },
    ],
    ['bad protocol', { given: valid.replace('"tcp"', '"icmp"'), want: ['lock-schema 7:19'] }],
    ['port out of range', { given: valid.replace('"start": 49000', '"start": 0'), want: ['lock-schema 15:19'] }],
    ['lengths differ', { given: valid.replace('"end": 49000', '"end": 49001'), want: ['lock-schema 4:5'] }],
    ['missing key', { given: valid.replace('"kind": "ephemeral",', ''), want: ['lock-schema 4:5'] }],
    [
      'a range on an entry that is not pick',
      { given: pick.replace('"pick"', '"ephemeral"'), want: ['lock-schema 11:16'] },
    ],
    [
      'a host port outside the range',
      { given: pick.replace('"end": 49010', '"end": 48995'), want: ['lock-schema 4:5'] },
    ],
    ['a reversed range', { given: pick.replace('"start": 48990', '"start": 49020'), want: ['lock-schema 11:16'] }],
    [
      'duplicate allocation',
      {
        given: JSON.stringify({ version: 1, entries: [entry(), entry({ hostPort: { start: 5, end: 5 } })] }, null, 2),
        want: ['lock-schema 20:5'],
      },
    ],
  ];
  it.each(cases)('%s', (_name, { given, want }) => {
    const result = parseLockfile(given, 'pfexpose.lock.json');
    expect(result.diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`)).toEqual(want);
    expect(result.diagnostics.every((d) => d.file === 'pfexpose.lock.json')).toBe(true);
    expect(result.lock).toEqual(emptyLockfile());
  });

  it('accepts the valid lock', () => {
    expect(parseLockfile(valid, 'l.json')).toEqual({ lock: { version: 1, entries: [entry()] }, diagnostics: [] });
  });

  it('reads a pick entry with its range, and one written without (an older lock) as it is', () => {
    expect(pick).toContain(
      '"kind": "pick",\n      "range": {\n        "start": 48990,\n        "end": 49010\n      },\n      "containerPort"',
    );
    expect(parseLockfile(pick, 'l.json').lock.entries).toEqual([
      entry({ kind: 'pick', range: { start: 48990, end: 49010 } }),
    ]);
    const older = serializeLockfile({ version: 1, entries: [entry({ kind: 'pick' })] });
    expect(older).not.toContain('"range"');
    expect(parseLockfile(older, 'l.json')).toEqual({
      lock: { version: 1, entries: [entry({ kind: 'pick' })] },
      diagnostics: [],
    });
  });

  it('two pick entries of one container port differ by their ranges', () => {
    const two = serializeLockfile({
      version: 1,
      entries: [
        entry({ kind: 'pick', range: { start: 8000, end: 8010 }, hostPort: { start: 8000, end: 8000 } }),
        entry({ kind: 'pick', range: { start: 9000, end: 9010 }, hostPort: { start: 9000, end: 9000 } }),
      ],
    });
    const parsed = parseLockfile(two, 'l.json');
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.lock.entries.map((e) => e.hostPort.start)).toEqual([8000, 9000]);
  });
});
