// The one path from manifests to a ruleset that every command shares (compile, ls, port, plan,
// apply, watch): load and check the manifests, resolve them for one host with the lock file, and
// render pf text. validate takes the same path up to the ruleset, for every host (check.ts), so
// the two can never disagree. Only compilePaths touches the file system (through read-inputs.ts);
// compileSources and compileParsed work on given texts.
import { createHash } from 'node:crypto';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { hasErrors, sortDiagnostics } from '../diagnostics/diagnostic.js';
import { compareStrings } from '../text/compare-strings.js';
import type { LoadCache, LoadResult } from '../manifest/load-manifests.js';
import { loadManifestDocuments } from '../manifest/load-manifests.js';
import { parseYamlDocuments } from '../manifest/parse-yaml-documents.js';
import type { YamlFile } from '../manifest/parse-yaml-documents.js';
import type { Lockfile } from '../model/lockfile.js';
import { emptyLockfile, LOCKFILE_NAME, parseLockfile } from '../model/lockfile.js';
import type { ResolvedHost } from '../model/resolve-exposures.js';
import { resolveExposures } from '../model/resolve-exposures.js';
import { renderRuleset } from '../pf/render-ruleset.js';
import type { CompileOptions, CompileOutcome, ContainerJail } from './options.js';
import type { ManifestSet } from '../manifest/manifest.js';
import type { Exposure } from '../model/exposure.js';
import { resolveOptions } from './options.js';
import { readInputs } from './read-inputs.js';

/** Manifests and lock given as texts (e.g. read from git objects); no file system access. */
export function compileSources(
  sources: readonly { file: string; text: string }[],
  options: CompileOptions,
  lockText: string | null,
): CompileOutcome {
  return compileParsed(
    sources.map((s) => parseManifestText(s.text, s.file)),
    options,
    lockText,
  );
}

/** One file's text parsed as YAML documents (a leading BOM dropped); what compileParsed takes. */
export function parseManifestText(text: string, file: string): YamlFile {
  return parseYamlDocuments(text.startsWith('\ufeff') ? text.slice(1) : text, file);
}

/**
 * Already parsed files (the agent keeps them between cycles and parses only what changed); no
 * file system access. With a cache, files seen before (the same YamlFile objects) are not
 * validated and built again.
 */
export function compileParsed(
  files: readonly YamlFile[],
  options: CompileOptions,
  lockText: string | null,
  cache: LoadCache | null = null,
): CompileOutcome {
  const sorted = [...files].sort((a, b) => compareStrings(a.file, b.file));
  const load = loadManifestDocuments(sorted, cache);
  const lockPath = options.lockPath ?? LOCKFILE_NAME;
  const lock = lockText === null ? { lock: emptyLockfile(), diagnostics: [] } : parseLockfile(lockText, lockPath);
  return compileLoaded(
    { ...load, manifests: { ...load.manifests, files: sorted.map((f) => f.file) } },
    lock,
    options,
    lockPath,
  );
}

/** Reads the manifests under paths and their lock file, then compiles. Never writes. */
export async function compilePaths(paths: readonly string[], options: CompileOptions): Promise<CompileOutcome> {
  const input = await readInputs(paths, options);
  return compileLoaded(input.load, input.lock, { ...options, partialLoad: input.partialLoad }, input.lockPath);
}

function compileLoaded(
  load: LoadResult,
  lock: { lock: Lockfile; diagnostics: Diagnostic[] },
  options: CompileOptions,
  lockPath: string,
): CompileOutcome {
  const manifestDigest = digestManifests(load);
  const failed = (diagnostics: Diagnostic[], host: ResolvedHost | null = null): CompileOutcome => ({
    ok: false,
    diagnostics: sortDiagnostics(diagnostics),
    exposures: [],
    reaches: [],
    containerNames: [],
    ruleset: '',
    files: load.manifests.files,
    manifestDigest,
    host,
    lock: lock.lock,
    lockChanged: false,
    lockPath,
    texts: load.texts,
  });
  const early = [...load.diagnostics, ...lock.diagnostics];
  if (hasErrors(early)) return failed(early);
  const resolved = resolveExposures(load.manifests, resolveOptions(options, lock.lock, lockPath));
  const diagnostics = [...early, ...resolved.diagnostics];
  if (hasErrors(diagnostics)) return failed(diagnostics, resolved.host);
  const ruleset = renderRuleset(resolved.exposures, {
    dialect: options.dialect,
    anchor: options.anchor,
    reaches: resolved.reaches,
  });
  return {
    ok: true,
    diagnostics: sortDiagnostics(diagnostics),
    exposures: resolved.exposures,
    reaches: resolved.reaches,
    containerNames: resolved.containers,
    ruleset,
    files: load.manifests.files,
    manifestDigest,
    host: resolved.host,
    lock: resolved.lock,
    lockChanged: resolved.lockChanged,
    lockPath,
    texts: load.texts,
    containers: containerJails(load.manifests, resolved.exposures, resolved.host.name),
  };
}

/** The containers of this host that have exposures, each with its jail (see CompileOutcome.containers). */
function containerJails(manifests: ManifestSet, exposures: readonly Exposure[], host: string | null): ContainerJail[] {
  const exposed = new Set(exposures.map((exposure) => exposure.container));
  const found = new Map<string, ContainerJail>();
  for (const container of manifests.documents.flatMap((document) => document.containers)) {
    if (!exposed.has(container.name) || (host !== null && container.host !== host)) continue;
    found.set(container.name, {
      container: container.name,
      jail: container.jail ?? container.name,
      ip: container.ip,
      ip6: container.ip6,
      source: container.source,
    });
  }
  return [...found.values()].sort((a, b) => compareStrings(a.container, b.container));
}

function digestManifests(load: LoadResult): string {
  const hash = createHash('sha256');
  for (const file of [...load.texts.keys()].sort(compareStrings)) {
    // The same bytes as hashing `${file}\0${text}\0`, without copying each text into a new string.
    hash.update(`${file}\0`);
    hash.update(load.texts.get(file) ?? '');
    hash.update('\0');
  }
  return hash.digest('hex');
}
