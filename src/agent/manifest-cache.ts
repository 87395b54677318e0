// Keeps the text of every manifest file between the agent's cycles, so that a change re-reads only
// the files whose identity (inode, size, modification and change time) moved. A file that changes
// while it is read makes the snapshot unstable: the agent waits for the writer and reads again.
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { compareStrings } from '../text/compare-strings.js';
import { readLockText } from '../host/lock-file.js';
import { decodeManifestBytes } from '../manifest/decode-manifest-bytes.js';
import { findManifestFiles, readManifestFile } from '../manifest/find-manifest-files.js';
import type { ManifestFile } from '../manifest/find-manifest-files.js';
import { parseYamlDocuments } from '../manifest/parse-yaml-documents.js';
import type { YamlFile } from '../manifest/parse-yaml-documents.js';
import { createHash } from 'node:crypto';

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
  /**
   * False when a file changed while it was being read, or a new or changed file has not yet been
   * seen unchanged across the settle period: then the snapshot must not be compiled.
   */
  stable: boolean;
  /** Files not settled yet (new or changed, or changing while read), sorted. */
  unsettled: string[];
  /** When unstable: milliseconds until the first unsettled file may have settled (look again then). */
  settleInMs: number | null;
}

export interface ManifestCacheOptions {
  cwd: string;
  /** The lock file of dynamic host ports, relative to cwd or absolute. */
  lockPath: string;
  /**
   * How long a new or changed file must stay the same (identity and content digest, read twice
   * this far apart) before it counts. 0: one read whose identity did not move while reading.
   */
  settleMs?: number;
  /** The monotonic clock in milliseconds (tests replace it); default performance.now(). */
  now?: () => number;
}

interface CachedFile {
  identity: string;
  result: { ok: true; text: string; parsed: YamlFile } | { ok: false; diagnostic: Diagnostic };
}

/** A file seen in a new state, waiting to be seen in the same state again after the settle period. */
interface Candidate {
  identity: string;
  digest: string;
  /** Monotonic time of the first read that found this state. */
  since: number;
  cached: CachedFile;
}

type Refreshed =
  | { cached: CachedFile; reread: boolean; stable: true }
  | { cached: CachedFile; reread: true; stable: false; waitMs: number };

/**
 * Settling (issue 9, C2): a new or changed file counts only once two reads of it, at least
 * `settleMs` apart on the monotonic clock, found the same identity and the same SHA-256 of its
 * content. Until then the snapshot is unstable and says when to look again, so that a file a
 * writer has only half written (scp, `rsync --inplace`, `cat > file`, with a pause) never reaches
 * the compile unless it stayed unchanged for the whole settle period.
 */
export class ManifestCache {
  private readonly files = new Map<string, CachedFile>();
  /** Files read in a state that has not yet lasted the settle period. */
  private readonly candidates = new Map<string, Candidate>();
  /** Files prefetch read since the last read(): read() still reports them as reread. */
  private readonly prefetched = new Set<string>();
  private readonly paths: readonly string[];
  private readonly options: ManifestCacheOptions;
  private readonly settleMs: number;
  private readonly now: () => number;

  constructor(paths: readonly string[], options: ManifestCacheOptions) {
    this.paths = paths.length > 0 ? paths : ['.'];
    this.options = options;
    this.settleMs = options.settleMs ?? 0;
    this.now = options.now ?? (() => performance.now());
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
    const unsettled: string[] = [];
    let settleInMs: number | null = null;
    const seen = new Set<string>();
    for (const file of found.files) {
      seen.add(file.absolute);
      const fresh = await this.refresh(file);
      if (!fresh.stable) {
        unsettled.push(file.file);
        settleInMs = Math.min(settleInMs ?? fresh.waitMs, fresh.waitMs);
      }
      if (fresh.reread || this.prefetched.has(file.file)) reread.push(file.file);
      const cached = fresh.cached;
      if (cached.result.ok) {
        sources.push({ file: file.file, text: cached.result.text });
        parsed.push(cached.result.parsed);
      } else diagnostics.push(cached.result.diagnostic);
    }
    const removed: string[] = [];
    for (const absolute of [...this.files.keys()]) {
      if (seen.has(absolute)) continue;
      removed.push(absolute);
      this.files.delete(absolute);
    }
    for (const absolute of [...this.candidates.keys()]) if (!seen.has(absolute)) this.candidates.delete(absolute);
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
      stable: unsettled.length === 0,
      unsettled: unsettled.sort(compareStrings),
      settleInMs,
    };
  }

  /**
   * The cached file, read and parsed again when its identity moved. A file in a new state is a
   * candidate until a read at least settleMs after the first finds the same identity and digest.
   */
  private async refresh(file: ManifestFile): Promise<Refreshed> {
    // A file listed but not there to stat (a dangling link) is a state too: it settles into the
    // read's diagnostic, rather than keeping the agent waiting for ever.
    const before = (await identityOf(file.absolute)) ?? 'missing';
    const known = this.files.get(file.absolute);
    if (known !== undefined && known.identity === before) return { cached: known, reread: false, stable: true };
    // Whatever happens below, the old state is gone: never serve it again.
    this.files.delete(file.absolute);
    const read = await readManifestFile(file);
    const after = (await identityOf(file.absolute)) ?? 'missing';
    const digest = read.ok
      ? createHash('sha256').update(read.bytes).digest('hex')
      : `unreadable:${read.diagnostic.code}:${read.diagnostic.message}`;
    const candidate = this.candidates.get(file.absolute);
    const same = candidate !== undefined && candidate.identity === after && candidate.digest === digest;
    // Parsed once per state: a second read that agrees reuses the first one's result.
    const cached: CachedFile = same ? candidate.cached : { identity: after, result: this.decode(file, read) };
    if (after !== before) {
      // Caught mid-write: nothing from this read counts, and the settle period starts over.
      this.candidates.delete(file.absolute);
      return { cached, reread: true, stable: false, waitMs: Math.max(this.settleMs, 1) };
    }
    const now = this.now();
    if (this.settleMs === 0 || (same && now - candidate.since >= this.settleMs)) {
      this.candidates.delete(file.absolute);
      this.files.set(file.absolute, cached);
      return { cached, reread: true, stable: true };
    }
    if (same)
      return {
        cached,
        reread: true,
        stable: false,
        waitMs: Math.max(1, Math.ceil(candidate.since + this.settleMs - now)),
      };
    this.candidates.set(file.absolute, { identity: after, digest, since: now, cached });
    return { cached, reread: true, stable: false, waitMs: this.settleMs };
  }

  private decode(file: ManifestFile, read: Awaited<ReturnType<typeof readManifestFile>>): CachedFile['result'] {
    const decoded = !read.ok ? read : decodeManifestBytes(read.bytes, file.file, read.size);
    return decoded.ok ? { ...decoded, parsed: parseYamlDocuments(decoded.text, file.file) } : decoded;
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
