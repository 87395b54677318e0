// Decides which host is being compiled and which containers belong to it: a repository that names no
// host is one anonymous host; one named host takes every unassigned container; several need --host.
import { compareStrings } from '../text/compare-strings.js';
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import { didYouMean } from '../text/did-you-mean.js';
import type { HostDeclaration, ManifestContainer, ManifestSet } from '../manifest/manifest.js';
import { compareSpans, formatSpan } from './spans.js';
import { atCommandLine, fileStart, located } from '../diagnostics/diagnostic.js';

export interface HostSelection {
  /** null: the anonymous host (no host is named anywhere), or no host could be selected. */
  name: string | null;
  /** Containers of the selected host, sorted by name then position; duplicates already removed. */
  containers: ManifestContainer[];
  /** Every `hosts:` declaration of the selected host, sorted by position. */
  declarations: HostDeclaration[];
  diagnostics: Diagnostic[];
  /** False when no host could be selected: nothing should be compiled. */
  selected: boolean;
}

/**
 * Every host the manifests name (declared, or named by a document's or container's `host:`), each
 * with its first mention. Empty: the repository names no host (one anonymous host).
 */
export function mentionedHosts(manifests: ManifestSet): Map<string, SourceSpan> {
  const firstMention = new Map<string, SourceSpan>();
  const mention = (name: string, span: SourceSpan): void => {
    const known = firstMention.get(name);
    if (known === undefined || compareSpans(span, known) < 0) firstMention.set(name, span);
  };
  for (const document of manifests.documents) {
    if (document.host !== null) mention(document.host, document.hostSource ?? fileStart(document.file));
    for (const declaration of document.hosts) mention(declaration.name, declaration.source);
    for (const container of document.containers) {
      const host = container.host ?? document.host;
      if (host !== null) mention(host, container.source);
    }
  }
  return firstMention;
}

/** The names of mentionedHosts, sorted: the hosts `--host` can select. */
export function hostNames(manifests: ManifestSet): string[] {
  return [...mentionedHosts(manifests).keys()].sort(compareStrings);
}

export function selectHost(manifests: ManifestSet, requested: string | undefined): HostSelection {
  const diagnostics: Diagnostic[] = [];
  const firstMention = mentionedHosts(manifests);
  const placed: { container: ManifestContainer; host: string | null }[] = [];
  for (const document of manifests.documents) {
    for (const container of document.containers) placed.push({ container, host: container.host ?? document.host });
  }
  const names = [...firstMention.keys()].sort(compareStrings);
  const list = names.map((n) => `${n} (${formatSpan(firstMention.get(n) as SourceSpan)})`).join(', ');
  const none = (): HostSelection => ({ name: null, containers: [], declarations: [], diagnostics, selected: false });

  let name: string | null;
  if (requested !== undefined) {
    if (!firstMention.has(requested)) {
      const suggestion = didYouMean(requested, names);
      diagnostics.push(
        atCommandLine(
          'unknown-host',
          names.length === 0
            ? `--host ${requested} names a host, but the manifests name no host at all; drop --host`
            : `--host ${requested} is not a host of these manifests; known hosts: ${list}${suggestion === null ? '' : `; ${suggestion}`}`,
        ),
      );
      return none();
    }
    name = requested;
  } else if (names.length === 0) {
    name = null;
  } else if (names.length === 1) {
    name = names[0] ?? null;
  } else {
    const where = [...firstMention.values()].sort(compareSpans)[0] as SourceSpan;
    diagnostics.push(
      located(
        'host-required',
        where,
        `these manifests describe ${names.length} hosts: ${list}; choose one with --host NAME`,
      ),
    );
    return none();
  }

  const mine: ManifestContainer[] = [];
  for (const { container, host } of placed) {
    if (host === name || (host === null && names.length <= 1)) {
      mine.push(container);
    } else if (host === null) {
      diagnostics.push(
        located(
          'container-without-host',
          container.source,
          `container ${container.name} belongs to no host, and these manifests describe several (${names.join(', ')}); add \`host:\` to the container or its document`,
        ),
      );
    }
  }
  mine.sort((a, b) => compareStrings(a.name, b.name) || compareSpans(a.source, b.source));

  // One name per host: keep the first declaration, report every place involved.
  const containers: ManifestContainer[] = [];
  for (let i = 0; i < mine.length;) {
    let j = i;
    while (j < mine.length && mine[j]?.name === mine[i]?.name) j++;
    const group = mine.slice(i, j);
    const first = group[0] as ManifestContainer;
    containers.push(first);
    if (group.length > 1) {
      for (const container of group) {
        const others = group.filter((c) => c !== container).map((c) => formatSpan(c.source));
        diagnostics.push(
          located(
            'duplicate-container',
            container.source,
            `container ${container.name} is declared more than once${name === null ? '' : ` for host ${name}`} (also at ${others.join(', ')}); rename or remove all but one`,
          ),
        );
      }
    }
    i = j;
  }

  const declarations = manifests.documents
    .flatMap((d) => d.hosts)
    .filter((h) => h.name === name)
    .sort((a, b) => compareSpans(a.source, b.source));
  return { name, containers, declarations, diagnostics, selected: true };
}
