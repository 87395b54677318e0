// Resolves the reaches of one host (see reach.ts): each container's `links:` against the host's
// containers, and the host's container networks against its published ports. Problems with a link
// are located diagnostics at the link; nothing here opens anything the manifests do not name.
import { createHash } from 'node:crypto';
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import { located } from '../diagnostics/diagnostic.js';
import type { DeclaredNetwork, ManifestContainer, ManifestSet } from '../manifest/manifest.js';
import { parseNetwork } from '../ports/address.js';
import type { Family, PortRange, Protocol } from '../ports/port-spec.js';
import { compareStrings } from '../text/compare-strings.js';
import { didYouMean } from '../text/did-you-mean.js';
import { MAX_LABEL_LENGTH } from './assign-labels.js';
import type { Exposure } from './exposure.js';
import { linkVariablePrefix } from './link-env.js';
import type { Reach } from './reach.js';
import { compareReaches } from './reach.js';
import { formatRange, formatSpan } from './spans.js';

export interface ReachInput {
  manifests: ManifestSet;
  /** The selected host's name (null: the anonymous host). */
  host: string | null;
  /** The selected host's containers (selectHost). */
  containers: readonly ManifestContainer[];
  /** The host's container networks, or null when it declares none. */
  networks: readonly DeclaredNetwork[] | null;
  /** The host's exposures (their labels are taken; network reaches follow their container ports). */
  exposures: readonly Exposure[];
}

export interface ReachResult {
  /** Sorted by compareReaches. */
  reaches: Reach[];
  diagnostics: Diagnostic[];
}

const FAMILIES: readonly Family[] = ['inet', 'inet6'];
const PROTOCOL_ORDER: Record<Protocol, number> = { tcp: 0, udp: 1, sctp: 2 };

export function resolveReaches(input: ReachInput): ReachResult {
  const diagnostics: Diagnostic[] = [];
  const byName = new Map(input.containers.map((c) => [c.name, c]));
  const reaches: Reach[] = [];
  for (const client of input.containers) {
    const aliases = new Map<string, { alias: string; source: SourceSpan }>();
    for (const link of client.links ?? []) {
      const alias = link.alias ?? link.container;
      // Docker's variables are named after the alias upper-cased with `-` as `_`: `db-1` and `DB_1`
      // would set the same ones, so they count as the same alias.
      const variables = linkVariablePrefix(alias);
      const seen = aliases.get(variables);
      if (seen !== undefined) {
        const same =
          seen.alias === alias
            ? `the alias ${alias}`
            : `the alias ${seen.alias}, whose variables (${variables}_*) ${alias} would set again,`;
        diagnostics.push(
          located(
            'link-alias-duplicate',
            link.source,
            `container ${client.name} already links under ${same} at ${formatSpan(seen.source)}; each link of a container needs its own alias`,
            `write SERVER:ALIAS with another alias, or remove one of the two links`,
          ),
        );
        continue;
      }
      aliases.set(variables, { alias, source: link.source });
      if (link.container === client.name) {
        diagnostics.push(
          located(
            'link-to-itself',
            link.source,
            `container ${client.name} links to itself; a container reaches its own ports without a link`,
            'remove the link, or name the container it should reach',
          ),
        );
        continue;
      }
      const server = byName.get(link.container);
      if (server === undefined) {
        diagnostics.push(unknownServer(input, client, link.container, link.source));
        continue;
      }
      const families = FAMILIES.filter((f) => addressOf(client, f) !== null && addressOf(server, f) !== null);
      if (families.length === 0) {
        diagnostics.push(
          located(
            'link-no-common-family',
            link.source,
            `container ${client.name} (${describeFamilies(client)}) and ${server.name} (${describeFamilies(server)}) share no address family, so the link can open nothing`,
            'give both containers an address of one family (ip or ip6)',
          ),
        );
        continue;
      }
      const runs = exposedRuns(server);
      if (runs.length === 0) {
        diagnostics.push(
          located(
            'link-nothing-exposed',
            link.source,
            `container ${server.name} exposes no port (no \`expose\` entry and no published entry), so the link from ${client.name} opens nothing`,
            `add the ports ${server.name} serves to its \`expose\` list`,
            'warning',
          ),
        );
        continue;
      }
      const source = position(link.source);
      for (const run of runs) {
        const label = linkLabel(client.name, alias, run.protocol, run.port);
        for (const family of families) {
          reaches.push({
            kind: 'link',
            label,
            family,
            protocol: run.protocol,
            from: addressOf(client, family) as string,
            container: server.name,
            containerAddress: addressOf(server, family) as string,
            port: run.port,
            client: client.name,
            alias,
            source,
          });
        }
      }
    }
  }
  if (input.networks !== null && input.networks.length > 0) reaches.push(...networkReaches(input, input.networks));
  return { reaches: distinctFromExposures(reaches, input.exposures).sort(compareReaches), diagnostics };
}

function unknownServer(input: ReachInput, client: ManifestContainer, name: string, span: SourceSpan): Diagnostic {
  const elsewhere = input.manifests.documents
    .flatMap((d) => d.containers)
    .find((c) => c.name === name && c.host !== input.host);
  if (elsewhere !== undefined) {
    return located(
      'link-other-host',
      span,
      `container ${name} runs on host ${elsewhere.host ?? '(none)'} (${formatSpan(elsewhere.source)}), not on ${input.host ?? 'this host'} with ${client.name}; a link joins containers of one host`,
      `publish a port of ${name} on its host and reach it there, or move the containers onto one host`,
    );
  }
  const suggestion = didYouMean(
    name,
    input.containers.map((c) => c.name).filter((n) => n !== client.name),
  );
  return located(
    'link-unknown-container',
    span,
    `container ${client.name} links to ${name}, which no manifest declares${suggestion === null ? '' : `; ${suggestion}`}`,
    'name a container of the same host, written SERVER or SERVER:ALIAS',
  );
}

function addressOf(container: ManifestContainer, family: Family): string | null {
  return family === 'inet' ? container.ip : container.ip6;
}

function describeFamilies(container: ManifestContainer): string {
  const parts = [container.ip === null ? null : 'ip', container.ip6 === null ? null : 'ip6'].filter(
    (p): p is string => p !== null,
  );
  return parts.length === 0 ? 'no address' : `only ${parts.join(' and ')}`;
}

interface PortRun {
  protocol: Protocol;
  port: PortRange;
}

/**
 * What a server exposes to its links: its `expose` entries and the container side of every
 * published entry ("-p also exposes the port"), merged per protocol into runs of consecutive ports.
 */
export function exposedRuns(server: ManifestContainer): PortRun[] {
  const ranges = [
    ...server.expose.map((e) => ({ protocol: e.protocol, port: e.port })),
    ...server.ports.map((p) => ({ protocol: p.spec.protocol, port: p.spec.containerPort })),
  ];
  return mergeRuns(ranges);
}

/** Ranges of one protocol merged where they overlap or touch; tcp first, then udp, sctp; by port. */
function mergeRuns(ranges: readonly PortRun[]): PortRun[] {
  const sorted = [...ranges].sort(
    (a, b) =>
      PROTOCOL_ORDER[a.protocol] - PROTOCOL_ORDER[b.protocol] || a.port.start - b.port.start || a.port.end - b.port.end,
  );
  const runs: PortRun[] = [];
  for (const range of sorted) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.protocol === range.protocol && range.port.start <= last.port.end + 1) {
      if (range.port.end > last.port.end) last.port = { start: last.port.start, end: range.port.end };
      continue;
    }
    runs.push({ protocol: range.protocol, port: { ...range.port } });
  }
  return runs;
}

/**
 * Kleene's rule: every published container port is reachable from every container network of its
 * family, with the entry's own protocol (Kleene writes `proto tcp` for every entry; that is a bug).
 */
function networkReaches(input: ReachInput, networks: readonly DeclaredNetwork[]): Reach[] {
  const reaches: Reach[] = [];
  const source = position(networks[0]?.source as SourceSpan);
  const byContainer = new Map<string, Exposure[]>();
  for (const exposure of input.exposures) {
    const list = byContainer.get(exposure.container);
    if (list === undefined) byContainer.set(exposure.container, [exposure]);
    else list.push(exposure);
  }
  for (const [container, exposures] of [...byContainer].sort((a, b) => compareStrings(a[0], b[0]))) {
    for (const family of FAMILIES) {
      const ofFamily = exposures.filter((e) => e.family === family);
      const address = ofFamily[0]?.containerAddress;
      if (address === undefined) continue;
      const runs = mergeRuns(ofFamily.map((e) => ({ protocol: e.protocol, port: e.containerPort })));
      for (const network of networks) {
        const parsed = parseNetwork(network.text);
        if (parsed === null || parsed.family !== family) continue;
        for (const run of runs) {
          reaches.push({
            kind: 'network',
            label: `net:${container}:${run.protocol}:${formatRange(run.port)}`,
            family,
            protocol: run.protocol,
            from: parsed.text,
            container,
            containerAddress: address,
            port: run.port,
            client: null,
            alias: null,
            source,
          });
        }
      }
    }
  }
  return reaches;
}

const READABLE_LABEL = /^[A-Za-z0-9_.:-]+$/;

function linkLabel(client: string, alias: string, protocol: Protocol, port: PortRange): string {
  const readable = `link:${client}:${alias}:${protocol}:${formatRange(port)}`;
  if (readable.length <= MAX_LABEL_LENGTH && READABLE_LABEL.test(readable)) return readable;
  return hashedLabel('link', readable);
}

/** `KIND:~` and hex digits of the readable label's sha256: `~` never occurs in a readable label. */
function hashedLabel(kind: string, readable: string, digits = 24): string {
  return `${kind}:~${createHash('sha256').update(readable).digest('hex').slice(0, digits)}`;
}

/**
 * A reach label that an exposure happens to carry too (a container named `link` or `net` with odd
 * interface names) would merge the two in `pfctl -s labels` and `pfctl -k label`: such reaches take
 * the hashed form, which no exposure label has.
 */
function distinctFromExposures(reaches: Reach[], exposures: readonly Exposure[]): Reach[] {
  if (reaches.length === 0) return reaches;
  const taken = new Set(exposures.map((e) => e.label));
  if (!reaches.some((r) => taken.has(r.label))) return reaches;
  return reaches.map((r) =>
    taken.has(r.label) ? { ...r, label: hashedLabel(r.kind === 'link' ? 'link' : 'net', r.label) } : r,
  );
}

function position(span: SourceSpan): Reach['source'] {
  return { file: span.file, line: span.line, column: span.column };
}
