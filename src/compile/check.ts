// validate's half of the pipeline: compile's checks for every host the manifests name, without
// rendering or writing anything. It reads what compilePaths reads, the same way, so the two can
// never disagree about the manifests.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { compareStrings, hasErrors, sortDiagnostics } from '../diagnostics/diagnostic.js';
import type { LoadResult } from '../manifest/load-manifests.js';
import { loadManifestDocuments } from '../manifest/load-manifests.js';
import type { Lockfile } from '../model/lockfile.js';
import { emptyLockfile, LOCKFILE_NAME, parseLockfile } from '../model/lockfile.js';
import { resolveExposures } from '../model/resolve-exposures.js';
import { hostNames } from '../model/select-host.js';
import { parseManifestText } from './compile.js';
import type { CheckOptions, CheckOutcome } from './options.js';
import { resolveOptions } from './options.js';
import { readInputs } from './read-inputs.js';

/** validate's checks on manifests and lock given as texts; no file system access. */
export function checkSources(
  sources: readonly { file: string; text: string }[],
  options: CheckOptions,
  lockText: string | null,
): CheckOutcome {
  const sorted = sources.map((s) => parseManifestText(s.text, s.file)).sort((a, b) => compareStrings(a.file, b.file));
  const load = loadManifestDocuments(sorted);
  const lockPath = options.lockPath ?? LOCKFILE_NAME;
  const lock = lockText === null ? { lock: emptyLockfile(), diagnostics: [] } : parseLockfile(lockText, lockPath);
  return checkLoaded(load, lock, options, lockPath);
}

/**
 * validate: reads what compilePaths reads, the same way, and runs compile's checks for every host
 * the manifests name, never writing anything (see checkLoaded).
 */
export async function checkPaths(paths: readonly string[], options: CheckOptions): Promise<CheckOutcome> {
  const input = await readInputs(paths, options);
  return checkLoaded(input.load, input.lock, { ...options, partialLoad: input.partialLoad }, input.lockPath);
}

/**
 * compile's verdict on the manifests alone, for every host at once: the same early stop (a manifest
 * or the lock file that cannot be read or parsed), then each host resolved as `compile --host NAME`
 * would (not frozen, so a missing allocation is chosen, not an error; a lock entry that would move
 * is compile's `lock-moved` warning; one that a fixed host port claims, its `port-conflict`), and
 * the union of what they report, each diagnostic once. A repository naming at most one host is
 * resolved once, as `compile` without --host. A gateway neither declared nor given is not
 * `gateway-missing` (apply asks route(8)): entries on it are checked against each other
 * (gatewayFoundLater). Nothing is rendered and the lock is never written.
 */
export function checkLoaded(
  load: LoadResult,
  lock: { lock: Lockfile; diagnostics: Diagnostic[] },
  options: CheckOptions,
  lockPath: string,
): CheckOutcome {
  const names = hostNames(load.manifests);
  const hosts: (string | null)[] = names.length > 1 ? names : [names[0] ?? null];
  const diagnostics = [...load.diagnostics, ...lock.diagnostics];
  if (!hasErrors(diagnostics)) {
    for (const host of names.length > 1 ? names : [undefined]) {
      const resolved = resolveExposures(load.manifests, {
        ...resolveOptions({ ...options, host }, lock.lock, lockPath),
        gatewayFoundLater: true,
      });
      diagnostics.push(...resolved.diagnostics);
    }
  }
  const unique = uniqueDiagnostics(sortDiagnostics(diagnostics));
  return {
    ok: !hasErrors(unique),
    diagnostics: unique,
    files: load.manifests.files,
    containers: load.manifests.documents.reduce((n, d) => n + d.containers.length, 0),
    hosts,
    texts: load.texts,
  };
}

/** Drops repeats (the same code, severity, place, message and hint), keeping the first. */
function uniqueDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = JSON.stringify([
      d.code,
      d.severity,
      d.file,
      d.line,
      d.column,
      d.endLine,
      d.endColumn,
      d.message,
      d.hint ?? null,
    ]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
