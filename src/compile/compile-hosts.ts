// `ls` and `port` answer for a whole repository: without --host, every host its manifests name is
// compiled on its own (compile's pipeline once per host), so a multi-host repository needs no flag.
// The diagnostics of all hosts are merged, each reported once.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { hasErrors, sortDiagnostics } from '../diagnostics/diagnostic.js';
import { loadManifests } from '../manifest/load-manifests.js';
import type { Exposure } from '../model/exposure.js';
import type { Reach } from '../model/reach.js';
import { hostNames } from '../model/select-host.js';
import { compilePaths } from './compile.js';
import type { CompileOptions } from './options.js';

export interface HostExposures {
  /** null: the repository names no host (one anonymous host). */
  host: string | null;
  exposures: Exposure[];
  /** Links and network reaches (model/reach.ts). */
  reaches: Reach[];
  /** The names of the host's containers. */
  containers: string[];
}

export interface HostsOutcome {
  ok: boolean;
  /** Sorted by host name; one entry per host, or one with host null. Empty when ok is false. */
  hosts: HostExposures[];
  diagnostics: Diagnostic[];
  texts: ReadonlyMap<string, string>;
}

/**
 * With options.host: that host alone. Otherwise every host of the manifests, each compiled as
 * `compile --host NAME` would (one compile without --host when they name at most one host).
 */
export async function compileEveryHost(paths: readonly string[], options: CompileOptions): Promise<HostsOutcome> {
  let names: (string | undefined)[] = [options.host];
  if (options.host === undefined) {
    const load = await loadManifests(paths.length > 0 ? paths : ['.'], { cwd: options.cwd ?? process.cwd() });
    if (hasErrors(load.diagnostics))
      return { ok: false, hosts: [], diagnostics: sortDiagnostics(load.diagnostics), texts: load.texts };
    const found = hostNames(load.manifests);
    if (found.length > 1) names = found;
  }
  const hosts: HostExposures[] = [];
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  const texts = new Map<string, string>();
  let ok = true;
  for (const name of names) {
    const outcome = await compilePaths(paths, { ...options, host: name });
    for (const [file, text] of outcome.texts) texts.set(file, text);
    // A problem of the manifests themselves is found once per host: report it once.
    for (const d of outcome.diagnostics) {
      const key = JSON.stringify([d.code, d.severity, d.file, d.line, d.column, d.message]);
      if (seen.has(key)) continue;
      seen.add(key);
      diagnostics.push(d);
    }
    if (!outcome.ok) ok = false;
    hosts.push({
      host: outcome.host?.name ?? name ?? null,
      exposures: outcome.exposures,
      reaches: outcome.reaches,
      containers: outcome.containerNames,
    });
  }
  return { ok, hosts: ok ? hosts : [], diagnostics: sortDiagnostics(diagnostics), texts };
}
