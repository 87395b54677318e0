// Keeps the text of every manifest file between the agent's cycles, so that a change re-reads only
// the files whose identity (inode, size, modification and change time) moved. A file that changes
// while it is read makes the snapshot unstable: the agent waits for the writer and reads again.
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { compareStrings } from '../diagnostics/diagnostic.js';
import { readLockText } from '../host/lock-file.js';
import { decodeManifestBytes } from '../manifest/decode-manifest-bytes.js';
import { findManifestFiles, readManifestFile } from '../manifest/find-manifest-files.js';
import type { ManifestFile } from '../manifest/find-manifest-files.js';
import { parseYamlDocuments } from '../manifest/parse-yaml-documents.js';
import type { YamlFile } from '../manifest/parse-yaml-documents.js';

export interface ManifestSnapshot {
  /** Every manifest file that could be read and decoded, sorted by file name. */
  sources: { file: string; text: string }[];
  /** The same files parsed as YAML: parsed once when read, reused while they do not change. */
  parsed: YamlFile[];
  /** The lock file's text, or null when it does not exist. */
  lockText: string | null;
  /** Problems finding, reading or decoding files (the compile stage adds its own). */
  diagnostics: Diagnostic[];
  /** Files read this time because they are new or changed. */
  reread: string[];
  /** Files that were known before and are gone now. */
  removed: string[];
  /** False when a file changed while it was being read. */
  stable: boolean;
}

export interface ManifestCacheOptions {
  cwd: string;
  /** The lock file of dynamic host ports, relative to cwd or absolute. */
  lockPath: string;
}

interface CachedFile {
  identity: string;
  result: { ok: true; text: string; parsed: YamlFile } | { ok: false; diagnostic: Diagnostic };
}

export class ManifestCache {
  private readonly files = new Map<string, CachedFile>();
  /** Files prefetch read since the last read(): read() still reports them as reread. */
  private readonly prefetched = new Set<string>();
  private readonly paths: readonly string[];
  private readonly options: ManifestCacheOptions;

  constructor(paths: readonly string[], options: ManifestCacheOptions) {
    this.paths = paths.length > 0 ? paths : ['.'];
    this.options = options;
  }

  /** How many files are held; for tests and logs. */
  get size(): number {
    return this.files.size;
  }

  /**
   * Reads and parses the files that changed, without reporting anything: the agent calls it while
   * it waits out a burst of events, so that the cycle after the quiet period finds them parsed.
   * Files that vanished are left for read() to notice.
   */
  async prefetch(): Promise<{ parsed: YamlFile[]; lockText: string | null }> {
    const found = await findManifestFiles(this.paths, { cwd: this.options.cwd });
    const parsed: YamlFile[] = [];
    for (const file of found.files) {
      const fresh = await this.refresh(file);
      if (fresh.reread) this.prefetched.add(file.file);
      if (fresh.cached.result.ok) parsed.push(fresh.cached.result.parsed);
    }
    parsed.sort((a, b) => compareStrings(a.file, b.file));
    return { parsed, lockText: (await this.readLock()).text };
  }

  async read(): Promise<ManifestSnapshot> {
    const found = await findManifestFiles(this.paths, { cwd: this.options.cwd });
    const diagnostics = [...found.diagnostics];
    const sources: ManifestSnapshot['sources'] = [];
    const parsed: YamlFile[] = [];
    const reread: string[] = [];
    let stable = true;
    const seen = new Set<string>();
    for (const file of found.files) {
      seen.add(file.absolute);
      const fresh = await this.refresh(file);
      if (!fresh.stable) stable = false;
      if (fresh.reread || this.prefetched.has(file.file)) reread.push(file.file);
      const cached = fresh.cached;
      if (cached.result.ok) {
        sources.push({ file: file.file, text: cached.result.text });
        parsed.push(cached.result.parsed);
      }
      else diagnostics.push(cached.result.diagnostic);
    }
    const removed: string[] = [];
    for (const absolute of [...this.files.keys()]) {
      if (seen.has(absolute)) continue;
      removed.push(absolute);
      this.files.delete(absolute);
    }
    this.prefetched.clear();
    sources.sort((a, b) => compareStrings(a.file, b.file));
    parsed.sort((a, b) => compareStrings(a.file, b.file));
    const lock = await this.readLock();
    if (lock.diagnostic !== undefined) diagnostics.push(lock.diagnostic);
    return {
      sources,
      parsed,
      lockText: lock.text,
      diagnostics,
      reread,
      removed: removed.sort(compareStrings),
      stable,
    };
  }

  /** The cached file, read and parsed again when its identity moved. */
  private async refresh(file: ManifestFile): Promise<{ cached: CachedFile; reread: boolean; stable: boolean }> {
    const before = await identityOf(file.absolute);
    const known = this.files.get(file.absolute);
    if (known !== undefined && before !== null && known.identity === before) return { cached: known, reread: false, stable: true };
    const read = await readManifestFile(file);
    const decoded = !read.ok ? read : decodeManifestBytes(read.bytes, file.file, read.size);
    const result: CachedFile['result'] = decoded.ok ? { ...decoded, parsed: parseYamlDocuments(decoded.text, file.file) } : decoded;
    const after = await identityOf(file.absolute);
    const stable = before !== null && after === before;
    const cached = { identity: after ?? '', result };
    // A file caught mid-write is not remembered: the next read must look at it again.
    if (stable) this.files.set(file.absolute, cached);
    else this.files.delete(file.absolute);
    return { cached, reread: true, stable };
  }

  private async readLock(): Promise<{ text: string | null; diagnostic?: Diagnostic }> {
    const { cwd, lockPath } = this.options;
    return readLockText(isAbsolute(lockPath) ? lockPath : resolve(cwd, lockPath), lockPath);
  }
}

/** What changes whenever the file's content may have: nanosecond times, so same-size rewrites show. */
async function identityOf(path: string): Promise<string | null> {
  try {
    const info = await stat(path, { bigint: true });
    return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
  } catch {
    return null;
  }
}
