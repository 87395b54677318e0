// The watcher reports changes inside the roots and never follows a link out of them.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchManifests } from '../../src/agent/manifest-watcher.js';

const TIMEOUT = 60_000;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function tree(): { root: string; manifests: string; outside: string } {
  const root = mkdtempSync(join(tmpdir(), 'pfexpose-watcher-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const manifests = join(root, 'm');
  const outside = join(root, 'outside');
  mkdirSync(manifests);
  mkdirSync(outside);
  return { root, manifests, outside };
}

async function watching(paths: string[], cwd: string): Promise<string[]> {
  const seen: string[] = [];
  const watcher = watchManifests(paths, cwd, { onChange: (_event, path) => seen.push(path), onError: () => undefined });
  cleanups.push(() => watcher.close());
  await watcher.ready;
  return seen;
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((done) => setTimeout(done, 25));
  }
  return check();
}

describe('watchManifests', () => {
  it(
    'reports a manifest written inside the roots',
    async () => {
      const { manifests, root } = tree();
      const seen = await watching(['m'], root);
      writeFileSync(join(manifests, 'web.yaml'), 'version: 1\n');
      expect(await until(() => seen.some((path) => path.endsWith('web.yaml')), 20_000)).toBe(true);
    },
    TIMEOUT,
  );

  it(
    'does not follow a linked directory out of the roots',
    async () => {
      const { manifests, outside, root } = tree();
      symlinkSync(outside, join(manifests, 'elsewhere'));
      const seen = await watching(['m'], root);
      writeFileSync(join(outside, 'secret.yaml'), 'version: 1\n');
      // A marker inside the roots proves the watcher is live before the absence is judged.
      writeFileSync(join(manifests, 'marker.yaml'), 'version: 1\n');
      expect(await until(() => seen.some((path) => path.endsWith('marker.yaml')), 20_000)).toBe(true);
      await new Promise((done) => setTimeout(done, 500));
      expect(seen.filter((path) => path.includes('secret'))).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'watches a root given as a link where it really is',
    async () => {
      const { manifests, root } = tree();
      symlinkSync(manifests, join(root, 'current'));
      const seen = await watching(['current'], root);
      writeFileSync(join(manifests, 'web.yaml'), 'version: 1\n');
      expect(await until(() => seen.some((path) => path.endsWith('web.yaml')), 20_000)).toBe(true);
    },
    TIMEOUT,
  );

  it(
    'does not report hidden paths or what the root .pfexposeignore names; re-reads the rules when that file changes',
    async () => {
      const { manifests, root } = tree();
      mkdirSync(join(manifests, '.github', 'workflows'), { recursive: true });
      mkdirSync(join(manifests, 'vendor'));
      writeFileSync(join(manifests, '.pfexposeignore'), 'docker-compose.yml\nvendor/\n');
      const seen = await watching(['m'], root);
      writeFileSync(join(manifests, 'docker-compose.yml'), 'services: {}\n');
      writeFileSync(join(manifests, 'vendor', 'lib.yaml'), 'x: 1\n');
      mkdirSync(join(manifests, 'vendor', 'deeper'));
      writeFileSync(join(manifests, '.pre-commit-config.yaml'), 'repos: []\n');
      writeFileSync(join(manifests, '.github', 'workflows', 'ci.yml'), 'on: push\n');
      writeFileSync(join(manifests, 'marker.yaml'), 'version: 1\n');
      expect(await until(() => seen.some((path) => path.endsWith('marker.yaml')), 20_000)).toBe(true);
      await new Promise((done) => setTimeout(done, 500));
      expect(seen.map((path) => path.slice(manifests.length + 1))).toEqual(['marker.yaml']);

      writeFileSync(join(manifests, '.pfexposeignore'), 'vendor/\n');
      expect(await until(() => seen.some((path) => path.endsWith('.pfexposeignore')), 20_000)).toBe(true);
      writeFileSync(join(manifests, 'docker-compose.yml'), 'services: {x: 1}\n');
      expect(await until(() => seen.some((path) => path.endsWith('docker-compose.yml')), 20_000)).toBe(true);
      expect(
        seen.filter((path) => path.includes('vendor') || path.includes('.github') || path.includes('pre-commit')),
      ).toEqual([]);
    },
    TIMEOUT,
  );
});
