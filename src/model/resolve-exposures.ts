// Turns validated manifests plus host facts into the sorted exposures of one host: selects the host,
// expands each port entry per listen side and family, chooses dynamic host ports (kept stable by the
// lock file), labels every exposure and refuses conflicts.
import type { Diagnostic, SourceSpan } from '../diagnostics/diagnostic.js';
import { sortDiagnostics } from '../diagnostics/diagnostic.js';
import { compareStrings } from '../text/compare-strings.js';
import type { DeclaredNetwork, HostDeclaration, ManifestContainer, ManifestSet } from '../manifest/manifest.js';
import { compareNetworks, familyOfAddress, parseNetwork } from '../ports/address.js';
import type { ParsedNetwork } from '../ports/address.js';
import type { Family, PortRange, PortSpec, Protocol } from '../ports/port-spec.js';
import { sctpPortProblem } from '../ports/sctp-ports.js';
import { quoteText } from '../text/quote-text.js';
import { allocateHostPorts } from './allocate-host-ports.js';
import type { DynamicRequest } from './allocate-host-ports.js';
import { assignLabels } from './assign-labels.js';
import type { LabelRequest } from './assign-labels.js';
import { compareExposures } from './compare-exposures.js';
import type { Exposure } from './exposure.js';
import { findConflicts } from './find-conflicts.js';
import type { Reach } from './reach.js';
import { resolveReaches } from './resolve-reaches.js';
import { EVERY_ADDRESS_TEXT } from './format-listen.js';
import { formatRange, formatSpan } from './spans.js';
import { atCommandLine, located } from '../diagnostics/diagnostic.js';
import type { AllocationKey, AllocationKind, Lockfile } from './lockfile.js';
import { LOCKFILE_NAME } from './lockfile.js';
import { EVERY_ADDRESS, PortOccupancy } from './port-occupancy.js';
import type { ListenId } from './port-occupancy.js';
import { selectHost } from './select-host.js';

/**
 * The gateway's name while it is unknown (see gatewayFoundLater). Not an interface name (it has a
 * space), so it never equals one an entry names; it reads well in messages ("on the gateway").
 */
export const GATEWAY_STAND_IN = 'the gateway';

/** Docker's documented pool for `-P` (49000-49900). */
export const DEFAULT_POOL: PortRange = { start: 49000, end: 49900 };

export interface ResolveOptions {
  /** --host: which host of a multi-host repository to compile. */
  host?: string | undefined;
  /** --gateway: overrides the host's declared gateway interface. */
  gateway?: string | undefined;
  /**
   * The default route's interface (route(8)): the gateway only when neither --gateway nor the host
   * names one. The agent keeps it between cycles, so a gateway the manifests declare later must win.
   */
  routeGateway?: string | undefined;
  /**
   * True for checks without the host (validate): when neither `gateway` nor the manifests name the
   * gateway, apply would ask route(8), so entries on the gateway are not `gateway-missing`; they are
   * checked against one another on a stand-in interface (GATEWAY_STAND_IN) that no entry can name,
   * and what depends on which interface it turns out to be (the allowlist, a clash with an entry
   * naming that interface) is left to the commands that know it.
   */
  gatewayFoundLater?: boolean | undefined;
  /** --pool: overrides the host's declared pool of dynamic host ports. */
  pool?: PortRange | undefined;
  /** The parsed lock file, possibly empty. */
  lock: Lockfile;
  /** When true, any change the lock would need is an error instead. */
  frozen: boolean;
  /** Where the lock lives, for diagnostics about entries that would be dropped; default pfexpose.lock.json. */
  lockFileName?: string | undefined;
  /**
   * True when some manifest under the lock's directory was not read: lock entries of containers
   * that appear in no manifest read are kept (and keep their host ports) instead of dropped.
   */
  partialLoad?: boolean | undefined;
}

export interface ResolvedHost {
  /** null: the anonymous host of a repository that names none. */
  name: string | null;
  gateway: string | null;
  pool: PortRange;
  /** The declared allowlist of interfaces, or null when the host declares none. */
  interfaces: string[] | null;
}

export interface ResolveResult {
  host: ResolvedHost;
  /** Sorted by compareExposures. */
  exposures: Exposure[];
  /** Links and network reaches (reach.ts), sorted by compareReaches. */
  reaches: Reach[];
  /** The names of the host's containers, sorted. */
  containers: string[];
  /**
   * The lock with this host's allocations brought up to date: entries of other hosts the manifests
   * name are kept as they were; entries of hosts they no longer name are adopted or dropped.
   */
  lock: Lockfile;
  lockChanged: boolean;
  diagnostics: Diagnostic[];
}

interface HostFacts {
  networks: DeclaredNetwork[] | null;
  gateway: string | null;
  interfaces: string[] | null;
  pool: PortRange | null;
  gatewaySource: SourceSpan | null;
}

/** Merges the facts of every declaration of a host; facts two declarations both state must agree. */
function mergeHostFacts(name: string, declarations: readonly HostDeclaration[], diagnostics: Diagnostic[]): HostFacts {
  const facts: HostFacts = { gateway: null, interfaces: null, pool: null, gatewaySource: null, networks: null };
  const fact = <T>(label: string, read: (d: HostDeclaration) => T | null, show: (v: T) => string): T | null => {
    const stated = declarations.flatMap((d) => {
      const value = read(d);
      return value === null ? [] : [{ d, value, text: show(value) }];
    });
    for (const s of stated) {
      const differing = stated.filter((o) => o.text !== s.text);
      if (differing.length === 0) continue;
      diagnostics.push(
        located(
          'host-fact-conflict',
          s.d.source,
          `host ${name} declares ${label} ${s.text} here but ${differing.map((o) => `${o.text} at ${formatSpan(o.d.source)}`).join(', ')}; declarations of one host must agree`,
        ),
      );
    }
    return stated[0]?.value ?? null;
  };
  facts.gateway = fact(
    'gateway',
    (d) => d.gateway,
    (v) => v,
  );
  facts.gatewaySource = declarations.find((d) => d.gateway !== null)?.source ?? null;
  facts.interfaces = fact(
    'interfaces',
    (d) => (d.interfaces === null ? null : [...new Set(d.interfaces)].sort(compareStrings)),
    (v) => `[${v.join(', ')}]`,
  );
  facts.pool = fact(
    'pool',
    (d) => d.pool,
    (v) => formatRange(v),
  );
  facts.networks = fact(
    'networks',
    (d) => (d.networks === undefined || d.networks === null ? null : d.networks),
    (v) => `[${v.map((n) => n.text).join(', ')}]`,
  );
  return facts;
}

function isValidRange(range: PortRange): boolean {
  return (
    Number.isInteger(range.start) &&
    Number.isInteger(range.end) &&
    range.start >= 1 &&
    range.start <= range.end &&
    range.end <= 65535
  );
}

/** One entry on one listen side, before families are split and dynamic ports chosen. */
interface Request {
  container: ManifestContainer;
  protocol: Protocol;
  interface: string | null;
  /** As written, `0.0.0.0` and `::` included. */
  hostAddress: string | null;
  families: readonly Family[];
  from: ReadonlyMap<Family, string[]>;
  containerPort: PortRange;
  /** Fixed host ports, or null when dynamic. */
  hostPort: PortRange | null;
  dynamic: { kind: AllocationKind; range: PortRange; rangeName: string } | null;
  /**
   * An SCTP entry whose host port the compiler would choose: it gets the container port itself (pf
   * never rewrites SCTP ports), if that port is free on its listen side; hostPort is then set.
   */
  sctpSamePort: boolean;
  source: SourceSpan;
}

function listenIdOfRequest(r: Pick<Request, 'interface' | 'hostAddress'>): ListenId {
  if (r.interface !== null) return `i:${r.interface}`;
  if (r.hostAddress === null || r.hostAddress === '0.0.0.0' || r.hostAddress === '::') return EVERY_ADDRESS;
  return `a:${r.hostAddress}`;
}

function familyName(family: Family): string {
  return family === 'inet' ? 'IPv4' : 'IPv6';
}

const BOTH_FAMILIES: readonly Family[] = ['inet', 'inet6'];
const INET_ONLY: readonly Family[] = ['inet'];
const INET6_ONLY: readonly Family[] = ['inet6'];
const NO_FAMILY: readonly Family[] = [];

/** The families a container has an address in (shared arrays: every entry of every container asks). */
function containerFamilies(container: ManifestContainer): readonly Family[] {
  if (container.ip !== null) return container.ip6 !== null ? BOTH_FAMILIES : INET_ONLY;
  return container.ip6 !== null ? INET6_ONLY : NO_FAMILY;
}

/** The sources of an entry without `from`: shared, never written to. */
const NO_SOURCES: ReadonlyMap<Family, string[]> = new Map();

interface ExpandContext {
  hostName: string | null;
  gateway: string | null;
  interfaces: string[] | null;
  pool: PortRange;
  poolName: string;
  diagnostics: Diagnostic[];
  /** Many entries repeat the same `from` networks: parse each text once. */
  networks: Map<string, ParsedNetwork | null>;
}

function expandPortEntry(
  container: ManifestContainer,
  spec: PortSpec,
  source: SourceSpan,
  ctx: ExpandContext,
): Request[] {
  const { diagnostics } = ctx;
  const fail = (code: Parameters<typeof located>[0], message: string, hint?: string): Request[] => {
    diagnostics.push(located(code, source, message, hint));
    return [];
  };
  const has = containerFamilies(container);

  // Listen sides.
  let listens: { interface: string | null; hostAddress: string | null }[];
  let narrowedTo: Family | null = spec.family;
  if (spec.hostAddress !== null) {
    const family = familyOfAddress(spec.hostAddress);
    if (narrowedTo !== null && narrowedTo !== family) {
      return fail(
        'family-unavailable',
        `the entry asks for family ${narrowedTo} but listens on the ${familyName(family)} address ${spec.hostAddress}; drop \`family\` or change the address`,
      );
    }
    narrowedTo = family;
    listens = [{ interface: null, hostAddress: spec.hostAddress }];
  } else if (spec.interfaces.length > 0) {
    listens = [...new Set(spec.interfaces)]
      .sort(compareStrings)
      .map((name) => ({ interface: name, hostAddress: null }));
  } else if (spec.syntax !== 'docker') {
    // Kleene entries, and long-form entries with neither interface nor host_ip (as the schema says).
    if (ctx.gateway === null) {
      const name = ctx.hostName ?? 'NAME';
      return fail(
        'gateway-missing',
        `this entry listens on the gateway interface, but no gateway is known for ${ctx.hostName === null ? 'this host' : `host ${ctx.hostName}`}`,
        `pass \`--gateway IF\`, or declare \`hosts.${name}.gateway\` in a manifest (or name an interface in the entry)`,
      );
    }
    listens = [{ interface: ctx.gateway, hostAddress: null }];
  } else {
    // Docker: no host address means every address of the host, in every family the container has.
    listens = [{ interface: null, hostAddress: null }];
  }
  if (ctx.interfaces !== null) {
    const allowed = ctx.interfaces;
    const unknown = spec.interfaces.filter((name) => !allowed.includes(name));
    if (unknown.length > 0) {
      return fail(
        'interface-not-allowed',
        `interface ${[...new Set(unknown)].join(', ')} is not among the interfaces declared for ${ctx.hostName === null ? 'this host' : `host ${ctx.hostName}`}: ${allowed.join(', ')}`,
        "use a declared interface, or add it to the host's `interfaces:`",
      );
    }
  }

  // Families: the container's, narrowed by the entry, then by its sources.
  let families = has;
  if (narrowedTo !== null) {
    if (!has.includes(narrowedTo) && spec.family === null && spec.hostAddress !== null) {
      // A Docker host address of a family the container lacks (`[::1]::53` on an IPv4-only
      // container): pf cannot redirect across families, so the entry makes no rule. The manifest
      // check reports it as a `family-mismatch` warning; nothing is exposed that was not asked for.
      return [];
    }
    if (!has.includes(narrowedTo)) {
      return fail(
        'family-unavailable',
        `the entry is ${familyName(narrowedTo)} only, but container ${container.name} has no ${familyName(narrowedTo)} address`,
        `give the container \`${narrowedTo === 'inet' ? 'ip' : 'ip6'}:\`, or change the entry`,
      );
    }
    families = [narrowedTo];
  }
  if (families.length === 0) {
    return fail(
      'family-unavailable',
      `container ${container.name} has no address (\`ip:\` or \`ip6:\`), so its ports cannot be redirected`,
    );
  }
  let from: ReadonlyMap<Family, string[]> = NO_SOURCES;
  if (spec.from.length > 0) {
    const byFamily = new Map<Family, string[]>();
    from = byFamily;
    const networks: ParsedNetwork[] = [];
    let bad = false;
    for (const text of spec.from) {
      let network = ctx.networks.get(text);
      if (network === undefined) ctx.networks.set(text, (network = parseNetwork(text)));
      if (network === null) {
        diagnostics.push(
          located(
            'invalid-network',
            source,
            `\`from\` source ${quoteText(text)} is not an IPv4 or IPv6 address or network (e.g. 203.0.113.0/24, 2001:db8::/32)`,
          ),
        );
        bad = true;
      } else {
        networks.push(network);
      }
    }
    if (bad) return [];
    networks.sort(compareNetworks);
    for (const network of networks) {
      const list = byFamily.get(network.family) ?? [];
      if (list[list.length - 1] !== network.text) list.push(network.text);
      byFamily.set(network.family, list);
    }
    // 0.0.0.0/0 and ::/0 admit every source of their family: the exposure is open to all there,
    // written `from any` (which is also how pfctl prints a zero-length prefix back).
    for (const network of networks) if (network.prefix === 0) byFamily.set(network.family, []);
    // Never let a family whose sources were all of the other family end up open to every source.
    const covered = families.filter((f) => from.has(f));
    if (covered.length === 0) {
      const listed = [...from.keys()].map(familyName).join(' and ');
      return fail(
        'from-family',
        `\`from\` lists only ${listed} sources, but this entry can only be ${families.map(familyName).join(' or ')}; it would admit nobody`,
        `add ${families.map(familyName).join(' or ')} networks to \`from\`, or give the container an address of the family its sources use`,
      );
    }
    families = covered;
  }

  const length = spec.containerPort.end - spec.containerPort.start;
  let hostPort: PortRange | null = null;
  let dynamic: Request['dynamic'] = null;
  let sctpSamePort = false;
  // The manifest check refuses these before the model runs; kept here so no caller can skip it.
  const sctp = sctpPortProblem(spec);
  if (sctp !== null) return fail('port-sctp-translation', sctp.message, sctp.hint);
  if (spec.protocol === 'sctp' && (spec.hostPort === null || spec.hostPortIsPool)) {
    // pf keeps SCTP ports: the only host port that can work is the container port.
    hostPort = spec.containerPort;
    sctpSamePort = true;
  } else if (spec.hostPort === null) {
    dynamic = { kind: 'ephemeral', range: ctx.pool, rangeName: ctx.poolName };
  } else if (spec.hostPortIsPool) {
    dynamic = { kind: 'pick', range: spec.hostPort, rangeName: `the entry's range ${formatRange(spec.hostPort)}` };
  } else {
    if (spec.hostPort.end - spec.hostPort.start !== length) {
      throw new Error(
        `port spec invariant broken: host range ${formatRange(spec.hostPort)} vs container ${formatRange(spec.containerPort)}`,
      );
    }
    hostPort = spec.hostPort;
  }
  return listens.map((listen) => ({
    container,
    protocol: spec.protocol,
    interface: listen.interface,
    hostAddress: listen.hostAddress,
    families,
    from,
    containerPort: spec.containerPort,
    hostPort,
    dynamic,
    sctpSamePort,
    source,
  }));
}

function expandContainer(container: ManifestContainer, ctx: ExpandContext): Request[] {
  const requests = container.ports.flatMap((entry) => expandPortEntry(container, entry.spec, entry.source, ctx));
  if (container.publishAll) {
    const families = containerFamilies(container);
    if (families.length === 0 && container.expose.length > 0) {
      ctx.diagnostics.push(
        located(
          'family-unavailable',
          container.source,
          `container ${container.name} publishes its \`expose\` ports but has no address (\`ip:\` or \`ip6:\`)`,
        ),
      );
      return requests;
    }
    for (const item of container.expose) {
      // Docker's -P publishes only the exposed ports that no `ports` entry binds already (same
      // container port and protocol, whatever its host side), each on every address of the host.
      const bound = container.ports.filter((p) => p.spec.protocol === item.protocol).map((p) => p.spec.containerPort);
      for (const containerPort of subtractRanges(item.port, bound)) {
        const sctp = item.protocol === 'sctp';
        requests.push({
          container,
          protocol: item.protocol,
          interface: null,
          hostAddress: null,
          families,
          from: NO_SOURCES,
          containerPort,
          hostPort: sctp ? containerPort : null,
          dynamic: sctp ? null : { kind: 'publish-all', range: ctx.pool, rangeName: ctx.poolName },
          sctpSamePort: sctp,
          source: item.source,
        });
      }
    }
  }
  return requests;
}

/** The parts of `range` that none of `taken` covers, in ascending order. */
function subtractRanges(range: PortRange, taken: readonly PortRange[]): PortRange[] {
  const parts: PortRange[] = [];
  let start = range.start;
  for (const t of [...taken].sort((a, b) => a.start - b.start || a.end - b.end)) {
    if (t.end < start || t.start > range.end) continue;
    if (t.start > start) parts.push({ start, end: t.start - 1 });
    start = Math.max(start, t.end + 1);
    if (start > range.end) return parts;
  }
  if (start <= range.end) parts.push({ start, end: range.end });
  return parts;
}

/** Every host the manifests name, with the containers assigned to it (their own `host:` or their document's). */
function hostsOf(manifests: ManifestSet): Map<string, Set<string>> {
  const hosts = new Map<string, Set<string>>();
  const mention = (name: string): Set<string> => {
    let containers = hosts.get(name);
    if (containers === undefined) hosts.set(name, (containers = new Set<string>()));
    return containers;
  };
  for (const document of manifests.documents) {
    if (document.host !== null) mention(document.host);
    for (const declaration of document.hosts) mention(declaration.name);
    for (const container of document.containers) {
      const host = container.host ?? document.host;
      if (host !== null) mention(host).add(container.name);
    }
  }
  return hosts;
}

function allocationKey(hostName: string | null, r: Request, kind: AllocationKind): AllocationKey {
  return {
    host: hostName,
    container: r.container.name,
    protocol: r.protocol,
    interface: r.interface,
    hostAddress: r.hostAddress,
    containerPort: r.containerPort,
    kind,
  };
}

export function resolveExposures(manifests: ManifestSet, options: ResolveOptions): ResolveResult {
  const diagnostics: Diagnostic[] = [];
  const selection = selectHost(manifests, options.host);
  diagnostics.push(...selection.diagnostics);
  const hostName = selection.name;
  const facts = mergeHostFacts(hostName ?? '', selection.declarations, diagnostics);

  const gatewayStandsIn =
    options.gateway === undefined &&
    facts.gateway === null &&
    options.routeGateway === undefined &&
    options.gatewayFoundLater === true;
  const gateway = gatewayStandsIn
    ? GATEWAY_STAND_IN
    : (options.gateway ?? facts.gateway ?? options.routeGateway ?? null);
  let pool = DEFAULT_POOL;
  let poolName = `the default pool ${formatRange(DEFAULT_POOL)}`;
  if (options.pool !== undefined) {
    if (isValidRange(options.pool)) {
      pool = options.pool;
      poolName = `the pool ${formatRange(pool)} (--pool)`;
    } else {
      diagnostics.push(
        atCommandLine(
          'invalid-pool',
          `--pool ${formatRange(options.pool)} is not a port range within 1-65535 (e.g. 49000-49900)`,
        ),
      );
    }
  } else if (facts.pool !== null) {
    const declared = selection.declarations.find((d) => d.pool !== null) as HostDeclaration;
    if (isValidRange(facts.pool)) {
      pool = facts.pool;
      poolName = `the pool ${formatRange(pool)} of host ${hostName ?? ''}`;
    } else {
      diagnostics.push(
        located(
          'invalid-pool',
          declared.source,
          `pool ${formatRange(facts.pool)} is not a port range within 1-65535 (e.g. 49000-49900)`,
        ),
      );
    }
  }
  if (facts.interfaces !== null && gateway !== null && !gatewayStandsIn && !facts.interfaces.includes(gateway)) {
    const message = `the gateway ${gateway} is not among the interfaces declared for host ${hostName ?? ''}: ${facts.interfaces.join(', ')}`;
    const hint = "use a declared interface as the gateway, or add it to the host's `interfaces:`";
    diagnostics.push(
      options.gateway !== undefined || facts.gatewaySource === null
        ? atCommandLine('interface-not-allowed', `--gateway: ${message}`, hint)
        : located('interface-not-allowed', facts.gatewaySource, message, hint),
    );
  }
  const host: ResolvedHost = { name: hostName, gateway, pool, interfaces: facts.interfaces };
  const lockFileName = options.lockFileName ?? LOCKFILE_NAME;

  const ctx: ExpandContext = {
    hostName,
    gateway,
    interfaces: facts.interfaces,
    pool,
    poolName,
    diagnostics,
    networks: new Map(),
  };
  const requests = selection.containers.flatMap((c) => expandContainer(c, ctx));

  const occupancy = new PortOccupancy();
  for (const r of requests) {
    if (r.hostPort === null || r.sctpSamePort) continue;
    for (const family of r.families) {
      occupancy.add(r.protocol, family, listenIdOfRequest(r), r.hostPort, {
        container: r.container.name,
        source: r.source,
      });
    }
  }
  // SCTP entries without a fixed host port take the container port when it is free (after every
  // fixed entry, in request order: containers by name, entries as written); else nothing can work.
  const refused = new Set<Request>();
  for (const r of requests) {
    if (!r.sctpSamePort || r.hostPort === null) continue;
    const ports = r.hostPort;
    const listen = listenIdOfRequest(r);
    const owner =
      r.families.map((family) => occupancy.takenBy(r.protocol, family, listen, ports)).find((o) => o !== null) ?? null;
    if (owner !== null) {
      refused.add(r);
      diagnostics.push(
        located(
          'port-sctp-translation',
          r.source,
          `this sctp entry leaves its host port to the compiler, but pf never rewrites SCTP ports, so only the container port ${formatRange(ports)} can work, and sctp host port ${formatRange(ports)} ${listen === EVERY_ADDRESS ? 'on every address' : `on ${r.interface ?? r.hostAddress ?? ''}`} is already published by ${owner.container} at ${formatSpan(owner.source)}`,
          `publish one of the two on another listen side (an interface or a host address), or map the other container to another port on both sides (\`P:P/sctp\`)`,
        ),
      );
      continue;
    }
    for (const family of r.families)
      occupancy.add(r.protocol, family, listen, ports, { container: r.container.name, source: r.source });
  }
  const dynamicRequests: DynamicRequest[] = [];
  const dynamicIndex: number[] = [];
  requests.forEach((r, i) => {
    if (r.dynamic === null) return;
    dynamicIndex[i] = dynamicRequests.length;
    dynamicRequests.push({
      key: allocationKey(hostName, r, r.dynamic.kind),
      range: r.dynamic.range,
      rangeName: r.dynamic.rangeName,
      families: r.families,
      listen: listenIdOfRequest(r),
      source: r.source,
    });
  });
  let lock = options.lock;
  let lockChanged = false;
  let dynamicPorts: (PortRange | null)[] = [];
  if (selection.selected) {
    const allocation = allocateHostPorts({
      host: hostName,
      requests: dynamicRequests,
      occupancy,
      lock: options.lock,
      frozen: options.frozen,
      lockFileName,
      hosts: hostsOf(manifests),
      containers: new Set(selection.containers.map((c) => c.name)),
      partialLoad: options.partialLoad === true,
    });
    diagnostics.push(...allocation.diagnostics);
    dynamicPorts = allocation.hostPorts;
    lock = allocation.lock;
    lockChanged = allocation.lockChanged;
  }

  // Exposures, labelled per listen side and host port (the v4 and v6 twins of one entry share a label).
  const placed: { request: Request; hostPort: PortRange }[] = [];
  requests.forEach((r, i) => {
    if (refused.has(r)) return;
    const index = dynamicIndex[i];
    const hostPort = r.hostPort ?? (index === undefined ? null : dynamicPorts[index]) ?? null;
    if (hostPort !== null) placed.push({ request: r, hostPort });
  });
  const labels = assignLabels(
    placed.map(({ request: r, hostPort }): LabelRequest => ({
      container: r.container.name,
      protocol: r.protocol,
      listen: r.interface ?? r.hostAddress ?? EVERY_ADDRESS_TEXT,
      listenKind: r.interface !== null ? 'interface' : r.hostAddress !== null ? 'address' : 'self',
      hostPort,
      families: r.families,
    })),
  );
  const exposures: { exposure: Exposure; span: SourceSpan }[] = [];
  placed.forEach(({ request: r, hostPort }, index) => {
    const label = labels[index] as string;
    // The v4 and v6 twins of an entry share one position object (exposures are never mutated).
    const position = { file: r.source.file, line: r.source.line, column: r.source.column };
    for (const family of r.families) {
      const containerAddress = family === 'inet' ? r.container.ip : r.container.ip6;
      if (containerAddress === null) continue;
      const everyAddress = r.hostAddress === '0.0.0.0' || r.hostAddress === '::';
      exposures.push({
        span: r.source,
        exposure: {
          container: r.container.name,
          protocol: r.protocol,
          family,
          interface: r.interface,
          hostAddress: everyAddress ? null : r.hostAddress,
          hostPort,
          containerAddress,
          containerPort: r.containerPort,
          from: r.from.get(family) ?? [],
          label,
          dynamic: r.dynamic !== null,
          source: position,
        },
      });
    }
  });
  diagnostics.push(...findConflicts(exposures));
  const sorted = exposures.map((e) => e.exposure).sort(compareExposures);
  const reached = resolveReaches({
    manifests,
    host: hostName,
    containers: selection.containers,
    networks: facts.networks,
    exposures: sorted,
  });
  diagnostics.push(...reached.diagnostics);

  return {
    host,
    exposures: sorted,
    reaches: reached.reaches,
    containers: [...new Set(selection.containers.map((c) => c.name))].sort(compareStrings),
    lock,
    lockChanged,
    diagnostics: sortDiagnostics(diagnostics),
  };
}
