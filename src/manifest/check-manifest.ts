// Checks on a whole manifest set that need no host: names declared twice, `host:` values naming no
// declared host (once any host is declared), port entries that need
// an address family the container has no address of, SCTP entries that would change the port (pf
// never does), and loopback entries checked against the container's declared network stack.
// Pure: data in, diagnostics out.
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import { located } from '../diagnostics/diagnostic.js';
import { compareStrings } from '../text/compare-strings.js';
import { isLoopbackAddress, parseAddress, parseNetwork } from '../ports/address.js';
import type { Family } from '../ports/port-spec.js';
import { quoteText } from '../text/quote-text.js';
import { sctpPortProblem } from '../ports/sctp-ports.js';
import { didYouMean } from '../text/did-you-mean.js';
import type { DeclaredStack, ManifestContainer, ManifestPortEntry, ManifestSet } from './manifest.js';

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
  const stackOf = hostStacks(set);
  const diagnostics = [...checkDuplicateContainers(set), ...checkDuplicateHosts(set), ...checkUndeclaredHosts(set)];
  // Pushed one by one: most containers have nothing to report, and arrays spread per container
  // were most of this stage's cost in large repositories.
  const add = (found: readonly Diagnostic[]): void => {
    for (const d of found) diagnostics.push(d);
  };
  for (const document of set.documents) {
    for (const container of document.containers) {
      add(checkFamilies(container, sources));
      add(checkSctpPorts(container));
      add(checkLoopback(container, stackOf(container)));
    }
  }
  return diagnostics;
}

function where(span: SourceSpan): string {
  return `${span.file}:${span.line}:${span.column}`;
}

function checkDuplicateContainers(set: ManifestSet): Diagnostic[] {
  const groups = new Map<string, ManifestContainer[]>();
  for (const document of set.documents) {
    for (const container of document.containers) {
      const key = `${container.host ?? ''}\u0000${container.name}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [container]);
      else group.push(container);
    }
  }
  const diagnostics: Diagnostic[] = [];
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    for (const container of group) {
      const others = group.filter((c) => c !== container).map((c) => where(c.source));
      const forHost = container.host === null ? '' : ` for host ${container.host}`;
      diagnostics.push(
        located(
          'duplicate-container',
          container.source,
          `container ${container.name} is declared more than once${forHost} (also at ${others.join(', ')}): rename one or remove the other`,
        ),
      );
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
      diagnostics.push(
        located(
          'duplicate-host',
          span,
          `host ${name} is declared more than once (also at ${others.join(', ')}): keep one declaration`,
        ),
      );
    }
  }
  return diagnostics;
}

/**
 * Once any `hosts:` declares a host, every `host:` must name a declared one: a typo (`db3` for
 * `db1`) would otherwise make a host of its own, and the container would silently leave the
 * ruleset of the host it was meant for. Repositories that declare no host keep free host names.
 * Reported at the `host:` value: a document's once (its containers inherit it), a container's own.
 */
function checkUndeclaredHosts(set: ManifestSet): Diagnostic[] {
  const declared = [...new Set(set.documents.flatMap((d) => d.hosts.map((h) => h.name)))].sort(compareStrings);
  if (declared.length === 0) return [];
  const diagnostics: Diagnostic[] = [];
  const check = (name: string, span: SourceSpan | undefined, fallback: SourceSpan): void => {
    if (declared.includes(name)) return;
    const suggestion = didYouMean(name, declared);
    const list = declared.length === 1 ? `host ${declared[0] ?? ''}` : `hosts ${declared.join(', ')}`;
    diagnostics.push(
      located(
        'host-undeclared',
        span ?? fallback,
        `host ${name} is not declared: the manifests declare ${list} under \`hosts:\`${suggestion === null ? '' : `; ${suggestion}`}`,
        `name a declared host, or declare \`hosts.${name}\` if ${name} is a new host`,
      ),
    );
  };
  for (const document of set.documents) {
    if (document.host !== null)
      check(document.host, document.hostSource, { file: document.file, line: 1, column: 1, endLine: 1, endColumn: 1 });
    for (const container of document.containers) {
      // A container without a `host:` of its own inherits its document's, reported above.
      const own = container.hostSource !== undefined || container.host !== document.host;
      if (container.host !== null && own) check(container.host, container.hostSource, container.source);
    }
  }
  return diagnostics;
}

const FAMILY_WORD: Record<Family, string> = { inet: 'IPv4', inet6: 'IPv6' };
const FAMILY_KEY: Record<Family, string> = { inet: 'ip', inet6: 'ip6' };

function checkFamilies(container: ManifestContainer, sources: ManifestSources): Diagnostic[] {
  if (sources.containers.get(container)?.addressInvalid === true) return [];
  // The container's families, without a set per container (this runs for every container).
  const has = (family: Family): boolean => (family === 'inet' ? container.ip !== null : container.ip6 !== null);
  const familyCount = (container.ip !== null ? 1 : 0) + (container.ip6 !== null ? 1 : 0);
  const publishes = container.ports.length > 0 || (container.publishAll && container.expose.length > 0);
  if (!publishes) return [];
  if (familyCount === 0) {
    const what = container.ports.length > 0 ? 'publishes ports' : 'publishes its expose ports (publishAll)';
    return [
      located(
        'missing-address',
        container.source,
        `container ${container.name} ${what} but has no address to redirect them to: add ip (IPv4) and/or ip6 (IPv6)`,
      ),
    ];
  }
  const diagnostics: Diagnostic[] = [];
  for (const entry of container.ports) {
    const { spec } = entry;
    if (spec.family !== null && !has(spec.family)) {
      diagnostics.push(
        located(
          'missing-address',
          sources.ports.get(entry)?.family ?? entry.source,
          `this entry is for family ${spec.family} but container ${container.name} has no ${FAMILY_KEY[spec.family]} address: add ${FAMILY_KEY[spec.family]} to the container or change family`,
        ),
      );
      continue;
    }
    const hostFamily = spec.hostAddress === null ? null : (parseAddress(spec.hostAddress)?.family ?? null);
    if (hostFamily !== null && !has(hostFamily)) {
      const other: Family = hostFamily === 'inet' ? 'inet6' : 'inet';
      diagnostics.push(
        located(
          'family-mismatch',
          sources.ports.get(entry)?.hostAddress ?? entry.source,
          `host address ${spec.hostAddress ?? ''} is ${FAMILY_WORD[hostFamily]} but container ${container.name} has no ${FAMILY_KEY[hostFamily]} address; ` +
            `pf cannot redirect ${FAMILY_WORD[hostFamily]} to ${FAMILY_WORD[other]}, so this entry makes no rule: add ${FAMILY_KEY[hostFamily]} to the container or use an ${FAMILY_WORD[other]} host address`,
          undefined,
          'warning',
        ),
      );
      continue;
    }
    // With both families every source network matches one of them: nothing to report.
    if (familyCount === 2) continue;
    const spans = sources.ports.get(entry);
    if (spec.from.length === 0 && (spans === undefined || spans.from.size === 0)) continue;
    const written = [...(spans?.from.keys() ?? [])];
    const fromTexts = written.length > 0 ? written : spec.from;
    for (const text of [...fromTexts].sort(compareStrings)) {
      const family = parseNetwork(text)?.family;
      if (family === undefined || has(family)) continue;
      diagnostics.push(
        located(
          'family-mismatch',
          spans?.from.get(text) ?? entry.source,
          `source network ${quoteText(text)} is ${FAMILY_WORD[family]} but container ${container.name} has no ${FAMILY_KEY[family]} address, so it can never match: remove it or add ${FAMILY_KEY[family]} to the container`,
          undefined,
          'warning',
        ),
      );
    }
  }
  return diagnostics;
}

function checkSctpPorts(container: ManifestContainer): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const entry of container.ports) {
    const problem = sctpPortProblem(entry.spec);
    if (problem === null) continue;
    diagnostics.push(located('port-sctp-translation', entry.source, problem.message, problem.hint));
  }
  return diagnostics;
}

/** The stack a container's host declares, keyed by host name; one named host takes unassigned containers. */
function hostStacks(set: ManifestSet): (container: ManifestContainer) => HostStack {
  const names = new Set<string>();
  const stacks = new Map<string, DeclaredStack>();
  for (const document of set.documents) {
    if (document.host !== null) names.add(document.host);
    for (const container of document.containers) if (container.host !== null) names.add(container.host);
    for (const declaration of document.hosts) {
      names.add(declaration.name);
      // A host declared twice is a duplicate-host error already; the first stack stated counts.
      if (declaration.stack !== null && !stacks.has(declaration.name)) stacks.set(declaration.name, declaration.stack);
    }
  }
  const only = names.size === 1 ? ([...names][0] as string) : null;
  return (container) => {
    const host = container.host ?? only;
    return { host, stack: host === null ? null : (stacks.get(host) ?? null) };
  };
}

/** A container's host (null: the anonymous host) and the stack that host declares. */
interface HostStack {
  host: string | null;
  stack: DeclaredStack | null;
}

/**
 * A loopback entry becomes `rdr on lo0`: the redirected packet keeps its loopback source, which a
 * container on the host's own stack accepts and a VNET container drops (IPv4 refuses a loopback
 * source arriving on a non-loopback interface; ::1 never leaves its node in IPv6).
 */
function checkLoopback(container: ManifestContainer, hostStack: HostStack): Diagnostic[] {
  const declared = container.stack ?? hostStack.stack;
  if (declared?.value === 'shared') return [];
  const diagnostics: Diagnostic[] = [];
  for (const entry of container.ports) {
    const address = entry.spec.hostAddress;
    if (address === null || !isLoopbackAddress(address)) continue;
    const family = parseAddress(address)?.family;
    // An entry of a family the container lacks makes no rule (family-mismatch says so).
    if (family === undefined || (family === 'inet' ? container.ip : container.ip6) === null) continue;
    if (declared === null) {
      const hostKey = `hosts.${hostStack.host ?? 'NAME'}.stack`;
      diagnostics.push(
        located(
          'loopback-shared-stack',
          entry.source,
          `this entry listens on the loopback address ${address}, so pf redirects it on lo0 and the packet keeps its loopback source: ` +
            `it reaches container ${container.name} only if the container shares the host's network stack (an address aliased on the host); a VNET container drops a packet from a loopback source`,
          `declare \`stack: shared\` on container ${container.name} (or \`${hostKey}\`) if it shares the host's stack; for a VNET container publish on an interface or a host address that is not loopback`,
          'warning',
        ),
      );
    } else {
      const whose =
        container.stack !== null
          ? `container ${container.name} is declared \`stack: vnet\``
          : `container ${container.name} runs on host ${hostStack.host ?? ''}, declared \`stack: vnet\``;
      diagnostics.push(
        located(
          'loopback-vnet',
          entry.source,
          `this entry listens on the loopback address ${address} (redirected on lo0, the packet keeps its loopback source), but ${whose} at ${where(declared.source)}: ` +
            `a VNET container drops a packet from a loopback source, so this entry can never reach it`,
          'publish on an interface (Kleene `em0:8080:80`, long form `interface: em0`) or on a host address that is not loopback',
        ),
      );
    }
  }
  return diagnostics;
}
