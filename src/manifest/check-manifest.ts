// Checks on a whole manifest set that need no host: names declared twice, and port entries that
// need an address family the container has no address of. Pure: data in, diagnostics out.
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import { compareStrings } from '../diagnostics/diagnostic.js';
import { parseAddress, parseNetwork } from '../ports/address.js';
import type { Family } from '../ports/port-spec.js';
import { quoteText } from '../ports/quote-text.js';
import type { ManifestContainer, ManifestPortEntry, ManifestSet } from './manifest.js';

/** Finer positions the loader knows; without them diagnostics point at the entry or container. */
export interface ManifestSources {
  /** Only for entries the family checks may report on (see buildManifestDocument). */
  ports: WeakMap<ManifestPortEntry, PortEntrySources>;
  containers: WeakMap<ManifestContainer, ContainerSources>;
}

export interface PortEntrySources {
  hostAddress?: SourceSpan;
  family?: SourceSpan;
  /** Where each `from` item is written, keyed by its text as written. */
  from: Map<string, SourceSpan>;
}

export interface ContainerSources {
  /** True when ip or ip6 was written but invalid (already reported): skip the family checks. */
  addressInvalid: boolean;
}

export function createManifestSources(): ManifestSources {
  return { ports: new WeakMap(), containers: new WeakMap() };
}

export function checkManifests(set: ManifestSet, sources: ManifestSources = createManifestSources()): Diagnostic[] {
  return [...checkDuplicateContainers(set), ...checkDuplicateHosts(set), ...set.documents.flatMap((d) => d.containers.flatMap((c) => checkFamilies(c, sources)))];
}

function where(span: SourceSpan): string {
  return `${span.file}:${span.line}:${span.column}`;
}

function checkDuplicateContainers(set: ManifestSet): Diagnostic[] {
  const groups = new Map<string, ManifestContainer[]>();
  for (const document of set.documents) {
    for (const container of document.containers) {
      const key = `${container.host ?? ''}\u0000${container.name}`;
      groups.set(key, [...(groups.get(key) ?? []), container]);
    }
  }
  const diagnostics: Diagnostic[] = [];
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    for (const container of group) {
      const others = group.filter((c) => c !== container).map((c) => where(c.source));
      const forHost = container.host === null ? '' : ` for host ${container.host}`;
      diagnostics.push({
        code: 'duplicate-container',
        severity: 'error',
        message: `container ${container.name} is declared more than once${forHost} (also at ${others.join(', ')}): rename one or remove the other`,
        ...container.source,
      });
    }
  }
  return diagnostics;
}

function checkDuplicateHosts(set: ManifestSet): Diagnostic[] {
  const groups = new Map<string, SourceSpan[]>();
  for (const document of set.documents) {
    for (const host of document.hosts) groups.set(host.name, [...(groups.get(host.name) ?? []), host.source]);
  }
  const diagnostics: Diagnostic[] = [];
  for (const [name, spans] of groups) {
    if (spans.length < 2) continue;
    for (const span of spans) {
      const others = spans.filter((s) => s !== span).map(where);
      diagnostics.push({
        code: 'duplicate-host',
        severity: 'error',
        message: `host ${name} is declared more than once (also at ${others.join(', ')}): keep one declaration`,
        ...span,
      });
    }
  }
  return diagnostics;
}

const FAMILY_WORD: Record<Family, string> = { inet: 'IPv4', inet6: 'IPv6' };
const FAMILY_KEY: Record<Family, string> = { inet: 'ip', inet6: 'ip6' };

function checkFamilies(container: ManifestContainer, sources: ManifestSources): Diagnostic[] {
  if (sources.containers.get(container)?.addressInvalid === true) return [];
  const families = new Set<Family>();
  if (container.ip !== null) families.add('inet');
  if (container.ip6 !== null) families.add('inet6');
  const publishes = container.ports.length > 0 || (container.publishAll && container.expose.length > 0);
  if (!publishes) return [];
  if (families.size === 0) {
    const what = container.ports.length > 0 ? 'publishes ports' : 'publishes its expose ports (publishAll)';
    return [
      {
        code: 'missing-address',
        severity: 'error',
        message: `container ${container.name} ${what} but has no address to redirect them to: add ip (IPv4) and/or ip6 (IPv6)`,
        ...container.source,
      },
    ];
  }
  const diagnostics: Diagnostic[] = [];
  for (const entry of container.ports) {
    const { spec } = entry;
    if (spec.family !== null && !families.has(spec.family)) {
      diagnostics.push({
        code: 'missing-address',
        severity: 'error',
        message: `this entry is for family ${spec.family} but container ${container.name} has no ${FAMILY_KEY[spec.family]} address: add ${FAMILY_KEY[spec.family]} to the container or change family`,
        ...(sources.ports.get(entry)?.family ?? entry.source),
      });
      continue;
    }
    const hostFamily = spec.hostAddress === null ? null : parseAddress(spec.hostAddress)?.family ?? null;
    if (hostFamily !== null && !families.has(hostFamily)) {
      const other: Family = hostFamily === 'inet' ? 'inet6' : 'inet';
      diagnostics.push({
        code: 'family-mismatch',
        severity: 'warning',
        message:
          `host address ${spec.hostAddress ?? ''} is ${FAMILY_WORD[hostFamily]} but container ${container.name} has no ${FAMILY_KEY[hostFamily]} address; ` +
          `pf cannot redirect ${FAMILY_WORD[hostFamily]} to ${FAMILY_WORD[other]}, so this entry makes no rule: add ${FAMILY_KEY[hostFamily]} to the container or use an ${FAMILY_WORD[other]} host address`,
        ...(sources.ports.get(entry)?.hostAddress ?? entry.source),
      });
      continue;
    }
    // With both families every source network matches one of them: nothing to report.
    if (families.size === 2) continue;
    const spans = sources.ports.get(entry);
    const written = [...(spans?.from.keys() ?? [])];
    const fromTexts = written.length > 0 ? written : spec.from;
    for (const text of [...fromTexts].sort(compareStrings)) {
      const family = parseNetwork(text)?.family;
      if (family === undefined || families.has(family)) continue;
      diagnostics.push({
        code: 'family-mismatch',
        severity: 'warning',
        message: `source network ${quoteText(text)} is ${FAMILY_WORD[family]} but container ${container.name} has no ${FAMILY_KEY[family]} address, so it can never match: remove it or add ${FAMILY_KEY[family]} to the container`,
        ...(spans?.from.get(text) ?? entry.source),
      });
    }
  }
  return diagnostics;
}
