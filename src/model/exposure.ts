// An exposure: one listen side (interface or host address, family, protocol, host port range)
// redirected to one container address and port range. The compiler's unit of work.
import type { Family, PortRange, Protocol } from '../ports/port-spec.js';

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface Exposure {
  container: string;
  protocol: Protocol;
  family: Family;
  /** Interface the exposure listens on, or null when it listens on a host address or on every address. */
  interface: string | null;
  /** Host address the exposure listens on, or null. Both null: every address of the host (`(self)`). */
  hostAddress: string | null;
  hostPort: PortRange;
  containerAddress: string;
  /** Same length as hostPort (one-to-one). */
  containerPort: PortRange;
  /** Allowed source networks of this family, canonical and sorted; empty: any source. */
  from: string[];
  /** pf label of the exposure's pass rule: unique per host, at most 63 characters, safe characters only. */
  label: string;
  /** True when the host port was chosen by the allocator (and is recorded in the lock file). */
  dynamic: boolean;
  source: SourceLocation;
}
