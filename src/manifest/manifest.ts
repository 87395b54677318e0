// The validated manifest: what the YAML files say once they passed the schema and the port
// grammars, with the source position of everything later stages may need to point at.
import type { SourceSpan } from '../diagnostics/diagnostic.js';
import type { Family, PortRange, PortSpec, PortSyntax, Protocol } from '../ports/port-spec.js';

export type ShortSyntax = Exclude<PortSyntax, 'long'>;

export interface ManifestPortEntry {
  spec: PortSpec;
  /** The list item (for a string entry, the scalar itself). */
  source: SourceSpan;
}

export interface ManifestExpose {
  port: PortRange;
  protocol: Protocol;
  source: SourceSpan;
}

/** Docker's `--link SERVER[:ALIAS]`: a container this one reaches. */
export interface ManifestLink {
  /** The server's container name. */
  container: string;
  /** The alias as written, or null (then the server's name is the alias). */
  alias: string | null;
  /** The list item. */
  source: SourceSpan;
}

/** A container network of a host (`hosts.NAME.networks`), canonical. */
export interface DeclaredNetwork {
  /** Canonical CIDR text (network address and prefix). */
  text: string;
  source: SourceSpan;
}

/** Whose network stack a container uses: the host's (an aliased address) or its own (VNET). */
export type Stack = 'shared' | 'vnet';

/** A `stack:` as written, with where, so diagnostics can name the declaration they rely on. */
export interface DeclaredStack {
  value: Stack;
  source: SourceSpan;
}

export interface ManifestContainer {
  name: string;
  /** Host this container belongs to (its own `host:`, else its document's), null when neither says. */
  host: string | null;
  /**
   * Where the container's own `host:` value is written; absent when it has none (it inherits its
   * document's, or names no host) and in hand-built sets.
   */
  hostSource?: SourceSpan;
  /** Canonical text of the IPv4 address, or null. */
  ip: string | null;
  /** Canonical (RFC 5952) text of the IPv6 address, or null. */
  ip6: string | null;
  syntax: ShortSyntax;
  ports: ManifestPortEntry[];
  /** Docker's --expose / EXPOSE: declared, published only when publishAll is true. */
  expose: ManifestExpose[];
  /** Docker's --link, as written (absent in hand-built sets: no links). */
  links?: ManifestLink[];
  /** Docker's -P: publish every `expose` entry on a host port the compiler chooses. */
  publishAll: boolean;
  /** The jail the container runs as (`jail:`), or null: the jail named like the container. */
  jail?: string | null;
  /** The container's own `stack:`, or null (then its host's counts). */
  stack: DeclaredStack | null;
  /** Position of the container's key under `containers:`. */
  source: SourceSpan;
}

export interface HostDeclaration {
  name: string;
  /** Gateway interface used by entries that name no interface (Kleene's default). */
  gateway: string | null;
  /** When set, entries may only name these interfaces. */
  interfaces: string[] | null;
  /** Where dynamic host ports are chosen from; null: the default pool. */
  pool: PortRange | null;
  /** The stack of the host's containers (`stack:`), or null when the declaration says nothing. */
  stack: DeclaredStack | null;
  /** The host's container networks (`networks:`); absent or null when the declaration says nothing. */
  networks?: DeclaredNetwork[] | null;
  /** Position of the host's key under `hosts:`. */
  source: SourceSpan;
}

export interface ManifestDocument {
  file: string;
  /** 0-based index of the document inside its file. */
  index: number;
  host: string | null;
  /** Where the document's `host:` value is written; absent when it has none, and in hand-built sets. */
  hostSource?: SourceSpan;
  hosts: HostDeclaration[];
  containers: ManifestContainer[];
}

export interface ManifestSet {
  /** Every file that was read, in sorted order, as the user named them. */
  files: string[];
  documents: ManifestDocument[];
}

export type { Family };
