// Everything a client's links give it, as `pfexpose env` prints it: per link the address it uses,
// Docker's variables and the /etc/hosts lines. The links come in alias order (Docker walks a map, so
// its own order changes from run to run); the same server linked under two aliases gets both sets.
import type { Family } from '../ports/port-spec.js';
import { compareStrings } from '../text/compare-strings.js';
import type { LinkedPort, LinkVariable } from './link-env.js';
import { linkEnvironment } from './link-env.js';
import type { HostsLine } from './link-hosts.js';
import { linkHostsLines } from './link-hosts.js';

export interface ClientLinksInput {
  /** The client container's name. */
  container: string;
  /** The families the client has an address in: the only ones it can reach a server by. */
  families: readonly Family[];
  links: readonly ClientLinkInput[];
}

export interface ClientLinkInput {
  alias: string;
  server: string;
  /** The server's hostname, when known; null: its /etc/hosts lines carry the alias and name only. */
  hostname: string | null;
  /** The server's addresses, canonical; null where it has none in that family. */
  serverAddresses: { inet: string | null; inet6: string | null };
  /** The server's exposed ports. */
  ports: readonly LinkedPort[];
}

export interface ClientLink {
  alias: string;
  server: string;
  /**
   * The address the variables use: the server's IPv4 address when both have IPv4 (Docker's links
   * only ever use IPv4), else its IPv6 address; null when they share no family, and then the link
   * has no variables and no hosts lines (a manifest check should have refused it).
   */
  address: string | null;
  variables: LinkVariable[];
  hosts: HostsLine[];
}

export interface ClientLinks {
  container: string;
  links: ClientLink[];
}

export function describeClientLinks(input: ClientLinksInput): ClientLinks {
  const links = [...input.links]
    .sort((a, b) => compareStrings(a.alias, b.alias) || compareStrings(a.server, b.server))
    .map((link): ClientLink => {
      const addresses = (['inet', 'inet6'] as const).flatMap((family) => {
        const address = link.serverAddresses[family];
        return address !== null && input.families.includes(family) ? [address] : [];
      });
      const address = addresses[0] ?? null;
      return {
        alias: link.alias,
        server: link.server,
        address,
        variables:
          address === null
            ? []
            : linkEnvironment({
                client: input.container,
                alias: link.alias,
                server: link.server,
                address,
                ports: link.ports,
              }),
        hosts: linkHostsLines({ alias: link.alias, server: link.server, hostname: link.hostname, addresses }),
      };
    });
  return { container: input.container, links };
}

/**
 * Variable names that more than one link sets, sorted: aliases that differ only in case or in `-`
 * against `_` (`db-1`, `DB_1`), the same alias twice, or an alias that spells another link's
 * variable. Docker would give the client whichever came last; a caller should refuse them.
 */
export function duplicateLinkVariables(links: ClientLinks): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const link of links.links) {
    for (const { name } of link.variables) {
      if (seen.has(name)) duplicates.add(name);
      seen.add(name);
    }
  }
  return [...duplicates].sort(compareStrings);
}
