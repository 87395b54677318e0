// Hands pfctl a ruleset that is complete before pfctl reads a byte of it: a file written in full
// and fsynced in a private directory, then `pfctl -f FILE`. Fed through a pipe instead, pfctl reads
// to EOF and loads what it got, so a pfexpose killed mid-write left a prefix loaded (issue 9, C1).
import { constants } from 'node:fs';
import { lstat, mkdtemp, open, readdir, rmdir, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from './run-command.js';

/** Each load gets its own directory, `<base>/pfexpose-load-<pid>-XXXXXX` (mode 0700). */
export const LOAD_DIR_PREFIX = 'pfexpose-load-';
/** The one file in a load directory. */
export const RULESET_FILE_NAME = 'ruleset.conf';

const LOAD_DIR = /^pfexpose-load-(\d+)-[A-Za-z0-9]{6}$/;

export interface RulesetFile {
  /** The file to give pfctl with -f. */
  readonly path: string;
  /** Removes the file and its directory; never throws (a file already gone is fine). */
  remove(): Promise<void>;
}

export interface RulesetFileOptions {
  /** Where the private load directory is made. Default os.tmpdir() ($TMPDIR, else /tmp). */
  baseDir?: string;
  /** Tests replace the liveness probe used to find load directories of processes that are gone. */
  isAlive?: (pid: number) => boolean;
}

/**
 * Writes `text` to a new file, created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600) in a new
 * directory only this user can enter, and fsyncs it. Load directories left by pfexpose processes
 * that are gone (a kill -9 between the write and the removal) are removed first. Throws when the
 * file cannot be written; the caller then loads nothing.
 */
export async function writeRulesetFile(text: string, options: RulesetFileOptions = {}): Promise<RulesetFile> {
  const base = options.baseDir ?? tmpdir();
  await checkBaseDir(base);
  await removeStaleLoadDirs(base, options.isAlive ?? isProcessAlive);
  // mkdtemp creates the directory with mode 0700 and a name nobody could have guessed in advance.
  const dir = await mkdtemp(join(base, `${LOAD_DIR_PREFIX}${process.pid}-`));
  const path = join(dir, RULESET_FILE_NAME);
  const remove = async (): Promise<void> => {
    await unlink(path).catch(() => undefined);
    await rmdir(dir).catch(() => undefined);
  };
  try {
    await writeNewFile(path, text);
  } catch (error) {
    await remove();
    throw error;
  }
  return { path, remove };
}

/**
 * Creates `path` (it must not exist: neither a file nor a symbolic link is ever opened in its
 * place), mode 0600, writes `text` and fsyncs it before closing.
 */
export async function writeNewFile(path: string, text: string): Promise<void> {
  const handle = await open(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    // The mode given to open is narrowed by the umask: make it exactly 0600.
    await handle.chmod(0o600);
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A base directory that others may write to without the sticky bit would let them rename the load
 * directory away and put their own in its place between the write and pfctl's open: refused.
 */
async function checkBaseDir(base: string): Promise<void> {
  const info = await stat(base);
  if (!info.isDirectory()) throw new Error(`${base} is not a directory`);
  if ((info.mode & 0o022) !== 0 && (info.mode & 0o1000) === 0) {
    throw new Error(
      `${base} is writable by others and not sticky (mode ${(info.mode & 0o7777).toString(8)}): set TMPDIR to a safe directory`,
    );
  }
}

/**
 * Removes the load directories of this user's pfexpose processes that no longer run. Only
 * directories named like ours, owned by this user and not symbolic links are looked at, and only
 * the ruleset file in them is removed; anything else keeps the directory (rmdir fails). Best
 * effort: a directory that cannot be removed now is tried again by the next load.
 */
export async function removeStaleLoadDirs(
  base: string,
  isAlive: (pid: number) => boolean = isProcessAlive,
): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(base);
  } catch {
    return [];
  }
  const uid = process.geteuid?.();
  const removed: string[] = [];
  for (const name of names) {
    const match = LOAD_DIR.exec(name);
    const pid = Number(match?.[1]);
    if (match === null || !Number.isSafeInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    const dir = join(base, name);
    try {
      const info = await lstat(dir);
      if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) continue;
      await unlink(join(dir, RULESET_FILE_NAME)).catch(() => undefined);
      await rmdir(dir);
      removed.push(dir);
    } catch {
      /* gone already, or not empty: left alone */
    }
  }
  return removed;
}
