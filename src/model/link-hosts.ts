// The /etc/hosts lines a Docker link adds to the client, as moby's daemon writes them when it sets up
// legacy links (addLegacyLinks, then libnetwork's etchosts.Record: `ADDRESS<TAB>NAMES`): the alias,
// the server's hostname and the server's name, for each address family the client can use.

export interface LinkHostsInput {
  alias: string;
  /** The server container's name. */
  server: string;
  /** The server's hostname when it is known (Docker always has one; a manifest declares none). */
  hostname: string | null;
  /** The server's addresses the client can use, canonical, IPv4 first: at most one per family. */
  addresses: readonly string[];
}

export interface HostsLine {
  address: string;
  names: string[];
}

/**
 * One line per address, IPv4 before IPv6 (Docker adds the IPv4 entry first, then the global IPv6
 * one, and drops IPv6 entries when the client has no IPv6). Names in Docker's order: the alias, the
 * hostname, the server's name. Docker leaves out the name when it equals the alias; a name that
 * repeats an earlier one is left out here too (the hostname, when it is the alias or the name).
 */
export function linkHostsLines(input: LinkHostsInput): HostsLine[] {
  const names: string[] = [];
  for (const name of [input.alias, input.hostname, input.server]) {
    if (name !== null && !names.includes(name)) names.push(name);
  }
  const ordered = [...input.addresses].sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')));
  return ordered.map((address) => ({ address, names: [...names] }));
}

/** The line as Docker writes it into /etc/hosts (without the newline). */
export function formatHostsLine(line: HostsLine): string {
  return `${line.address}\t${line.names.join(' ')}`;
}
