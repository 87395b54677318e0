// What one published-port entry means, whatever syntax wrote it. The grammars in this folder turn
// text (or a long-form object) into a PortSpec; the model turns PortSpecs into exposures.
import type { PortCode } from '../diagnostics/codes-ports.js';

export type Protocol = 'tcp' | 'udp' | 'sctp';
export type Family = 'inet' | 'inet6';
export type PortSyntax = 'kleene' | 'docker' | 'long';

/** An inclusive range of ports; a single port has start === end. */
export interface PortRange {
  start: number;
  end: number;
}

export interface PortSpec {
  syntax: PortSyntax;
  protocol: Protocol;
  /** Container side; always present. */
  containerPort: PortRange;
  /**
   * Host side. null: the compiler chooses the host port(s) (Docker's ephemeral forms).
   * When hostPortIsPool is true the range is a pool to pick ONE port from (Docker `8000-8010:80`);
   * otherwise it has the container range's length and maps one-to-one.
   */
  hostPort: PortRange | null;
  hostPortIsPool: boolean;
  /** Interfaces to listen on (Kleene's first field, long form `interface(s)`); empty: the default. */
  interfaces: readonly string[];
  /** Host address to listen on (Docker's first field, long form `host_ip`), canonical text; null: none. */
  hostAddress: string | null;
  /** Source networks allowed to use the exposure (long form `from`); empty: any source. */
  from: readonly string[];
  /** Restricts the exposure to one address family (long form `family`); null: every family the container has. */
  family: Family | null;
  /** Optional name from the long form (Compose's `name`), safe for pf labels. */
  name: string | null;
}

/**
 * A problem inside a port spec string. Offsets are 0-based UTF-16 offsets into the spec text
 * (end exclusive), so the manifest layer can map them onto file positions.
 * For long-form objects, `key` names the property at fault; offsets are then within that
 * property's string value (or String() of a number), and 0 when the whole value is at fault.
 */
export interface PortSpecError {
  /** One of the port codes in the registry (diagnostics/codes-ports.ts). */
  code: PortCode;
  message: string;
  start: number;
  end: number;
  key?: string;
  /** For an item of a list-valued key (`from`, `interfaces`): its 0-based index in the list. */
  index?: number;
}

export type PortSpecResult = { ok: true; spec: PortSpec } | { ok: false; errors: PortSpecError[] };

/** The empty list every spec without interfaces or sources shares (tens of thousands of entries). */
export const NO_TEXTS: readonly string[] = Object.freeze([]);
