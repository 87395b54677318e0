// The file a load hands pfctl: complete, private, exclusive, and gone afterwards; and the load
// directories of killed runs cleaned up by the next load, never anything else.
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LOAD_DIR_PREFIX,
  RULESET_FILE_NAME,
  removeStaleLoadDirs,
  writeNewFile,
  writeRulesetFile,
} from '../../src/host/ruleset-file.js';

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'pfexpose-ruleset-file-'));
});
afterEach(async () => {
  await chmod(base, 0o700).catch(() => undefined);
  await rm(base, { recursive: true, force: true });
});

const TEXT = 'pass in quick on em0 inet proto tcp from any to 10.0.0.2 port = 80 label "pfexpose:web"\n'.repeat(2000);
const alive = (): boolean => true;
const dead = (): boolean => false;

describe('writeRulesetFile', () => {
  it('writes the whole text to a 0600 file in a new 0700 directory of its own, and removes both', async () => {
    const file = await writeRulesetFile(TEXT, { baseDir: base, isAlive: alive });
    const dir = join(file.path, '..');
    expect(file.path).toBe(join(dir, RULESET_FILE_NAME));
    expect(dir.startsWith(join(base, `${LOAD_DIR_PREFIX}${process.pid}-`))).toBe(true);
    expect(await readFile(file.path, 'utf8')).toBe(TEXT);
    expect((await stat(file.path)).mode & 0o7777).toBe(0o600);
    expect((await lstat(dir)).mode & 0o7777).toBe(0o700);
    expect(await readdir(dir)).toEqual([RULESET_FILE_NAME]);
    await file.remove();
    expect(existsSync(file.path)).toBe(false);
    expect(await readdir(base)).toEqual([]);
    // removing twice is fine
    await file.remove();
  });

  it('is 0600 whatever the umask', async () => {
    const before = process.umask(0o077);
    try {
      const file = await writeRulesetFile(TEXT, { baseDir: base });
      expect((await stat(file.path)).mode & 0o7777).toBe(0o600);
      await file.remove();
    } finally {
      process.umask(before);
    }
  });

  it('gives every load a directory of its own, so two loads never share a file', async () => {
    const [a, b] = await Promise.all([
      writeRulesetFile('a\n', { baseDir: base, isAlive: alive }),
      writeRulesetFile('b\n', { baseDir: base, isAlive: alive }),
    ]);
    expect(a.path).not.toBe(b.path);
    expect(await readFile(a.path, 'utf8')).toBe('a\n');
    expect(await readFile(b.path, 'utf8')).toBe('b\n');
    await a.remove();
    expect(await readFile(b.path, 'utf8')).toBe('b\n');
    await b.remove();
  });

  it('refuses a base directory others can write to without the sticky bit', async () => {
    const open = join(base, 'open');
    await mkdir(open);
    await chmod(open, 0o777);
    await expect(writeRulesetFile(TEXT, { baseDir: open })).rejects.toThrow(/writable by others and not sticky/);
    expect(await readdir(open)).toEqual([]);
    await chmod(open, 0o1777);
    const file = await writeRulesetFile(TEXT, { baseDir: open });
    expect(await readFile(file.path, 'utf8')).toBe(TEXT);
    await file.remove();
  });

  it('fails (and leaves nothing behind) when the base directory is missing or not a directory', async () => {
    await expect(writeRulesetFile(TEXT, { baseDir: join(base, 'missing') })).rejects.toThrow(/ENOENT/);
    await writeFile(join(base, 'plain'), '');
    await expect(writeRulesetFile(TEXT, { baseDir: join(base, 'plain') })).rejects.toThrow(/not a directory/);
    expect(await readdir(base)).toEqual(['plain']);
  });
});

describe('writeNewFile', () => {
  it('creates a new file exclusively: an existing file is refused and kept as it was', async () => {
    const path = join(base, 'ruleset.conf');
    await writeFile(path, 'planted\n');
    await expect(writeNewFile(path, TEXT)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(path, 'utf8')).toBe('planted\n');
  });

  it('never follows a symbolic link at its name, dangling or not', async () => {
    const target = join(base, 'target.txt');
    await writeFile(target, 'keep me\n');
    await symlink(target, join(base, 'link.conf'));
    await expect(writeNewFile(join(base, 'link.conf'), TEXT)).rejects.toHaveProperty('code');
    expect(await readFile(target, 'utf8')).toBe('keep me\n');
    await symlink(join(base, 'nowhere.txt'), join(base, 'dangling.conf'));
    await expect(writeNewFile(join(base, 'dangling.conf'), TEXT)).rejects.toHaveProperty('code');
    expect(existsSync(join(base, 'nowhere.txt'))).toBe(false);
  });
});

describe('stale load directories', () => {
  async function leftBehind(pid: number, suffix: string, content = 'pass in quick\n'): Promise<string> {
    const dir = join(base, `${LOAD_DIR_PREFIX}${pid}-${suffix}`);
    await mkdir(dir, { mode: 0o700 });
    await writeFile(join(dir, RULESET_FILE_NAME), content, { mode: 0o600 });
    return dir;
  }

  it('the next load removes those of processes that are gone, and keeps those of live ones', async () => {
    const gone = await leftBehind(999_999, 'AbC123');
    const running = await leftBehind(999_998, 'XyZ789');
    const isAlive = (pid: number): boolean => pid === 999_998;
    const file = await writeRulesetFile(TEXT, { baseDir: base, isAlive });
    expect(existsSync(gone)).toBe(false);
    expect(existsSync(join(running, RULESET_FILE_NAME))).toBe(true);
    await file.remove();
    expect(await readdir(base)).toEqual([`${LOAD_DIR_PREFIX}999998-XyZ789`]);
  });

  it("never touches its own process's directories (a load in flight), whatever the probe says", async () => {
    const own = await leftBehind(process.pid, 'Own123');
    expect(await removeStaleLoadDirs(base, dead)).toEqual([]);
    expect(existsSync(join(own, RULESET_FILE_NAME))).toBe(true);
  });

  it('leaves alone what is not exactly a load directory: other names, symbolic links, directories with more in them', async () => {
    const target = await mkdtemp(join(tmpdir(), 'pfexpose-ruleset-file-target-'));
    try {
      await writeFile(join(target, RULESET_FILE_NAME), 'precious\n');
      await symlink(target, join(base, `${LOAD_DIR_PREFIX}999999-Link12`));
      await mkdir(join(base, 'pfexpose-load-notapid-AbC123'));
      await writeFile(join(base, `${LOAD_DIR_PREFIX}999999-File12`), 'a plain file\n');
      const crowded = await leftBehind(999_999, 'More12');
      await writeFile(join(crowded, 'other'), 'not ours to remove\n');
      expect(await removeStaleLoadDirs(base, dead)).toEqual([]);
      expect(await readFile(join(target, RULESET_FILE_NAME), 'utf8')).toBe('precious\n');
      expect((await lstat(join(base, `${LOAD_DIR_PREFIX}999999-Link12`))).isSymbolicLink()).toBe(true);
      expect(await readFile(join(crowded, 'other'), 'utf8')).toBe('not ours to remove\n');
      expect((await readdir(base)).sort()).toEqual([
        `${LOAD_DIR_PREFIX}999999-File12`,
        `${LOAD_DIR_PREFIX}999999-Link12`,
        `${LOAD_DIR_PREFIX}999999-More12`,
        'pfexpose-load-notapid-AbC123',
      ]);
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });

  it("a symbolic link planted at the file's name inside a stale directory is removed as a link, its target kept", async () => {
    const target = join(base, 'target.txt');
    await writeFile(target, 'keep me\n');
    const dir = join(base, `${LOAD_DIR_PREFIX}999999-Sym123`);
    await mkdir(dir, { mode: 0o700 });
    await symlink(target, join(dir, RULESET_FILE_NAME));
    expect(await removeStaleLoadDirs(base, dead)).toEqual([dir]);
    expect(await readFile(target, 'utf8')).toBe('keep me\n');
  });
});
