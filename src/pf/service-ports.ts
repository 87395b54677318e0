// The port numbers behind the service names pfctl prints when it runs without -P (macOS's pfctl
// has no -P). Deliberately partial: names from FreeBSD's /etc/services that are the same for tcp
// and udp and likely to be published; an unknown name is reported, never guessed.

const serviceTable: ReadonlyArray<readonly [string, number]> = [
  ['tcpmux', 1],
  ['compressnet', 2],
  ['echo', 7],
  ['discard', 9],
  ['daytime', 13],
  ['ftp-data', 20],
  ['ftp', 21],
  ['ssh', 22],
  ['telnet', 23],
  ['smtp', 25],
  ['domain', 53],
  ['tftp', 69],
  ['gopher', 70],
  ['http', 80],
  ['pop3', 110],
  ['sunrpc', 111],
  ['nntp', 119],
  ['ntp', 123],
  ['imap', 143],
  ['snmp', 161],
  ['bgp', 179],
  ['ldap', 389],
  ['https', 443],
  ['submission', 587],
  ['ldaps', 636],
  ['imaps', 993],
  ['pop3s', 995],
  ['mysql', 3306],
  ['postgresql', 5432],
  ['http-alt', 8080],
];

const portByName = new Map<string, number>(serviceTable);
const nameByPort = new Map<number, string>(serviceTable.map(([name, port]) => [port, name]));

/** The port a service name stands for, or null when the name is not in the (partial) table. */
export function servicePort(name: string): number | null {
  return portByName.get(name) ?? null;
}

/** The name pfctl prints for a port without -P, or null to print the number. */
export function serviceName(port: number): string | null {
  return nameByPort.get(port) ?? null;
}
