// The settle rule of the manifest cache (issue 9, C2): a new or changed file counts only once two
// reads at least settleMs apart (on the monotonic clock, faked here) found the same identity and
// the same content digest. Real files in a temporary directory; only the clock is fake.
import { appendFile, mkdtemp, rm, unlink, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManifestCache } from '../../src/agent/manifest-cache.js';

const FIRST_HALF = [
  'version: 1',
  'containers:',
  '  db:',
  '    ip: 10.13.37.11',
  '    ports:',
  '      - kleene: em0:5432:5432',
  '',
].join('\n');
const SECOND_HALF = '        from: [198.51.100.0/24]\n';

describe('ManifestCache settling', () => {
  let dir: string;
  let clock: number;
  let cache: ManifestCache;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pfexpose-settle-'));
    clock = 1000;
    cache = new ManifestCache([dir], { cwd: dir, lockPath: 'pfexpose.lock.json', settleMs: 2000, now: () => clock });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file = (): string => join(dir, 'db.yaml');

  it('counts a new file only when a read at least the settle period after the first finds it the same', async () => {
    await writeFile(file(), FIRST_HALF + SECOND_HALF);
    const first = await cache.read();
    expect(first.stable).toBe(false);
    expect(first.unsettled).toEqual([file()]);
    expect(first.settleInMs).toBe(2000);

    clock += 1500;
    const early = await cache.read();
    expect(early.stable).toBe(false);
    expect(early.settleInMs).toBe(500);

    clock += 500;
    const settled = await cache.read();
    expect(settled.stable).toBe(true);
    expect(settled.unsettled).toEqual([]);
    expect(settled.settleInMs).toBeNull();
    expect(settled.sources[0]?.text).toBe(FIRST_HALF + SECOND_HALF);
    // Settled files are kept: not read again while their identity holds.
    clock += 10;
    const again = await cache.read();
    expect(again.stable).toBe(true);
    expect(again.reread).toEqual([]);
  });

  it('starts the period over when the file grows in between, so a first half is never a stable snapshot', async () => {
    await writeFile(file(), FIRST_HALF);
    expect((await cache.read()).stable).toBe(false);
    clock += 1900;
    expect((await cache.read()).stable).toBe(false);
    await appendFile(file(), SECOND_HALF);
    // Past the first read's period, but the file is not what it was: a new period begins.
    clock += 200;
    const grown = await cache.read();
    expect(grown.stable).toBe(false);
    expect(grown.settleInMs).toBe(2000);
    clock += 2000;
    const whole = await cache.read();
    expect(whole.stable).toBe(true);
    expect(whole.sources.map((s) => s.text)).toEqual([FIRST_HALF + SECOND_HALF]);
  });

  it('starts over when a settled file changes, and keeps nothing of its old text meanwhile', async () => {
    await writeFile(file(), FIRST_HALF + SECOND_HALF);
    await cache.read();
    clock += 2000;
    expect((await cache.read()).stable).toBe(true);
    // Rewritten in place, same length: the identity (times) moves.
    await writeFile(file(), FIRST_HALF + SECOND_HALF.replace('198.51.100.0', '198.51.100.8'));
    clock += 5000;
    const changed = await cache.read();
    expect(changed.stable).toBe(false);
    expect(changed.unsettled).toEqual([file()]);
    clock += 2000;
    const settled = await cache.read();
    expect(settled.stable).toBe(true);
    expect(settled.sources[0]?.text).toContain('198.51.100.8');
  });

  it('needs the same content, not only the same size, across the period (same bytes rewritten: new identity, starts over)', async () => {
    await writeFile(file(), FIRST_HALF + SECOND_HALF);
    await cache.read();
    clock += 1000;
    // Same bytes again: a write all the same (ctime moves), so the period starts over.
    await new Promise((done) => setTimeout(done, 5));
    await writeFile(file(), FIRST_HALF + SECOND_HALF);
    clock += 1000;
    const rewritten = await cache.read();
    expect(rewritten.stable).toBe(false);
    expect(rewritten.settleInMs).toBe(2000);
  });

  it('takes an atomic rename like any change: settled after the period', async () => {
    await writeFile(file(), FIRST_HALF + SECOND_HALF);
    await cache.read();
    clock += 2000;
    expect((await cache.read()).stable).toBe(true);
    await writeFile(join(dir, 'db.tmp'), FIRST_HALF);
    await rename(join(dir, 'db.tmp'), file());
    expect((await cache.read()).stable).toBe(false);
    clock += 2000;
    const renamed = await cache.read();
    expect(renamed.stable).toBe(true);
    expect(renamed.sources[0]?.text).toBe(FIRST_HALF);
  });

  it('lets a removal count at once, but not while another file is unsettled', async () => {
    await writeFile(file(), FIRST_HALF + SECOND_HALF);
    await writeFile(join(dir, 'web.yaml'), 'version: 1\n');
    await cache.read();
    clock += 2000;
    expect((await cache.read()).stable).toBe(true);
    await unlink(join(dir, 'web.yaml'));
    const removed = await cache.read();
    expect(removed.stable).toBe(true);
    expect(removed.removed).toEqual([join(dir, 'web.yaml')]);
    await writeFile(join(dir, 'api.yaml'), 'version: 1\n');
    await unlink(file());
    const both = await cache.read();
    expect(both.stable).toBe(false);
    expect(both.unsettled).toEqual([join(dir, 'api.yaml')]);
  });

  it('counts a prefetch as the first read, so the cycle after the quiet period waits only what is left', async () => {
    await writeFile(file(), FIRST_HALF + SECOND_HALF);
    await cache.prefetch();
    clock += 500;
    const read = await cache.read();
    expect(read.stable).toBe(false);
    expect(read.settleInMs).toBe(1500);
    clock += 1500;
    expect((await cache.read()).stable).toBe(true);
  });

  it('with no settle period, one read that the file did not move under is enough (the old rule)', async () => {
    const quick = new ManifestCache([dir], { cwd: dir, lockPath: 'pfexpose.lock.json', now: () => clock });
    await writeFile(file(), FIRST_HALF);
    const read = await quick.read();
    expect(read.stable).toBe(true);
    expect(read.settleInMs).toBeNull();
  });
});
