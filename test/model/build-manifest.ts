// Builders for hand-made ManifestSets in model tests: every container and entry gets a predictable
// position (container at LINE:3, its port entries at LINE+2+i:9, expose items after them).
import { portSpec } from '../helpers/builders.js';
import type { SourceSpan } from '../../src/diagnostics/diagnostic.js';
import type {
  HostDeclaration,
  ManifestContainer,
  ManifestDocument,
  ManifestSet,
  ShortSyntax,
} from '../../src/manifest/manifest.js';
import type { PortRange, PortSpec, Protocol } from '../../src/ports/port-spec.js';

export function r(start: number, end = start): PortRange {
  return { start, end };
}

export function span(file: string, line: number, column: number, length = 4): SourceSpan {
  return { file, line, column, endLine: line, endColumn: column + length };
}

export function spec(over: Partial<PortSpec> = {}): PortSpec {
  return portSpec(over);
}

/** Kleene `[IF:]HOST:CONTAINER` (one port or a one-to-one range). */
export function kleene(
  host: PortRange | number,
  container?: PortRange | number,
  over: Partial<PortSpec> = {},
): PortSpec {
  const h = typeof host === 'number' ? r(host) : host;
  const c = container === undefined ? h : typeof container === 'number' ? r(container) : container;
  return spec({ syntax: 'kleene', hostPort: h, containerPort: c, ...over });
}

/** Docker `[ADDR:][HOST:]CONTAINER`; host null = ephemeral. */
export function docker(
  host: PortRange | number | null,
  container: PortRange | number,
  over: Partial<PortSpec> = {},
): PortSpec {
  const h = typeof host === 'number' ? r(host) : host;
  const c = typeof container === 'number' ? r(container) : container;
  return spec({ syntax: 'docker', hostPort: h, containerPort: c, ...over });
}

/** Docker's pick-one form `START-END:PORT`. */
export function dockerPick(pool: PortRange, container: number, over: Partial<PortSpec> = {}): PortSpec {
  return spec({ syntax: 'docker', hostPort: pool, hostPortIsPool: true, containerPort: r(container), ...over });
}

export interface ContainerInput {
  name: string;
  file?: string;
  line?: number;
  ip?: string | null;
  ip6?: string | null;
  host?: string | null;
  syntax?: ShortSyntax;
  ports?: PortSpec[];
  expose?: { port: PortRange | number; protocol?: Protocol }[];
  publishAll?: boolean;
}

export function container(input: ContainerInput): ManifestContainer {
  const file = input.file ?? 'a.yaml';
  const line = input.line ?? 3;
  const ports = (input.ports ?? []).map((s, i) => ({ spec: s, source: span(file, line + 2 + i, 9) }));
  const expose = (input.expose ?? []).map((e, i) => ({
    port: typeof e.port === 'number' ? r(e.port) : e.port,
    protocol: e.protocol ?? 'tcp',
    source: span(file, line + 3 + ports.length + i, 9),
  }));
  return {
    name: input.name,
    host: input.host ?? null,
    ip: input.ip === undefined ? '10.0.0.2' : input.ip,
    ip6: input.ip6 ?? null,
    syntax: input.syntax ?? 'kleene',
    ports,
    expose,
    publishAll: input.publishAll ?? false,
    stack: null,
    source: span(file, line, 3, input.name.length),
  };
}

export function hostDeclaration(
  name: string,
  facts: { gateway?: string; interfaces?: string[]; pool?: PortRange; file?: string; line?: number } = {},
): HostDeclaration {
  return {
    name,
    gateway: facts.gateway ?? null,
    interfaces: facts.interfaces ?? null,
    pool: facts.pool ?? null,
    stack: null,
    source: span(facts.file ?? 'hosts.yaml', facts.line ?? 3, 3, name.length),
  };
}

export function documentOf(
  file: string,
  containers: ManifestContainer[],
  extra: { host?: string; hosts?: HostDeclaration[]; index?: number } = {},
): ManifestDocument {
  return { file, index: extra.index ?? 0, host: extra.host ?? null, hosts: extra.hosts ?? [], containers };
}

export function manifestSet(...documents: ManifestDocument[]): ManifestSet {
  const files = [...new Set(documents.map((d) => d.file))].sort();
  return { files, documents };
}

/** A single-document set whose containers all live in a.yaml. */
export function single(
  containers: ManifestContainer[],
  extra: { host?: string; hosts?: HostDeclaration[] } = {},
): ManifestSet {
  return manifestSet(documentOf('a.yaml', containers, extra));
}
