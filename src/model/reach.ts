// A reach: traffic one container may send straight to another container's port, without any
// redirect. Two kinds: a link (Docker's `--link SERVER:ALIAS`: the client's address to the server's
// exposed ports) and a network reach (Kleene's container networks: every host network declared in
// `hosts.NAME.networks` to every published container port). Each reach is one pf pass rule.
import type { Family, PortRange, Protocol } from '../ports/port-spec.js';
import { compareStrings } from '../text/compare-strings.js';
import type { SourceLocation } from './exposure.js';

export type ReachKind = 'link' | 'network';

export interface Reach {
  kind: ReachKind;
  /**
   * pf label of the rule: unique per host and never an exposure's label, at most 63 characters.
   * The v4 and v6 rules of one link, protocol and port run share it; a network reach's label is
   * shared by every network and family of one container, protocol and port run.
   */
  label: string;
  family: Family;
  protocol: Protocol;
  /** The source as pfctl prints it: the client's address (a link) or the container network. */
  from: string;
  /** The container reached (the link's server). */
  container: string;
  containerAddress: string;
  /** A run of consecutive ports, as one pf port range. */
  port: PortRange;
  /** A link's client container; null for a network reach. */
  client: string | null;
  /** A link's alias (the server's name when the link names none); null for a network reach. */
  alias: string | null;
  /** Where the link, or the host's `networks`, is written. */
  source: SourceLocation;
}

/** The order every list of reaches is kept in: by label, then family, source and port. */
export function compareReaches(a: Reach, b: Reach): number {
  return (
    compareStrings(a.label, b.label) ||
    compareStrings(a.family, b.family) ||
    compareStrings(a.from, b.from) ||
    a.port.start - b.port.start ||
    a.port.end - b.port.end ||
    compareStrings(a.containerAddress, b.containerAddress)
  );
}
