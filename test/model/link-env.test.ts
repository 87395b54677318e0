// Docker's link variables: held against the table of moby's own tests (daemon/links/links_test.go),
// against the order moby's ToEnv appends them in, and through every output format of `pfexpose env`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClientLinkInput, ClientLinksInput } from '../../src/model/client-links.js';
import { describeClientLinks, duplicateLinkVariables } from '../../src/model/client-links.js';
import type { LinkedPort, LinkEnvInput } from '../../src/model/link-env.js';
import { linkEnvironment, sortLinkedPorts } from '../../src/model/link-env.js';
import { clientLinksJson, formatClientLinks, namesShellCannotSet } from '../../src/model/link-env-format.js';
import { linkHostsLines } from '../../src/model/link-hosts.js';
import { quoteShellWord } from '../../src/text/quote-shell.js';

function port(text: string): LinkedPort {
  const [number, protocol] = text.split('/');
  return { port: Number(number), protocol: (protocol ?? 'tcp') as LinkedPort['protocol'] };
}

function envLines(input: LinkEnvInput): string[] {
  return linkEnvironment(input).map(({ name, value }) => `${name}=${value}`);
}

// moby's tests call EnvVars(parentIP, childIP, "/db/<alias>", env, ports): the client is `db`, the
// server is at 172.0.17.2. They compare sorted lists (the order is not their concern); their
// `DOCKER_ENV_PASSWORD=gordon` comes from the server's environment, which a manifest has not, so it
// is the one expected line left out here.
describe('linkEnvironment: the table of moby daemon/links/links_test.go', () => {
  it.each<[string, { alias: string; ports: string[]; want: string[] }]>([
    [
      'TestLinkNaming: a hyphen in the alias becomes _',
      {
        alias: 'docker-1',
        ports: ['6379/tcp'],
        want: [
          'DOCKER_1_NAME=/db/docker-1',
          'DOCKER_1_PORT=tcp://172.0.17.2:6379',
          'DOCKER_1_PORT_6379_TCP=tcp://172.0.17.2:6379',
          'DOCKER_1_PORT_6379_TCP_ADDR=172.0.17.2',
          'DOCKER_1_PORT_6379_TCP_PORT=6379',
          'DOCKER_1_PORT_6379_TCP_PROTO=tcp',
        ],
      },
    ],
    [
      'TestLinkEnv: one port (without the server environment)',
      {
        alias: 'docker',
        ports: ['6379/tcp'],
        want: [
          'DOCKER_NAME=/db/docker',
          'DOCKER_PORT=tcp://172.0.17.2:6379',
          'DOCKER_PORT_6379_TCP=tcp://172.0.17.2:6379',
          'DOCKER_PORT_6379_TCP_ADDR=172.0.17.2',
          'DOCKER_PORT_6379_TCP_PORT=6379',
          'DOCKER_PORT_6379_TCP_PROTO=tcp',
        ],
      },
    ],
    [
      'TestLinkMultipleEnv: a tcp range between two udp ports (without the server environment)',
      {
        alias: 'docker',
        ports: ['6300/udp', '6379/tcp', '6380/tcp', '6381/tcp', '6382/udp'],
        want: [
          'DOCKER_NAME=/db/docker',
          'DOCKER_PORT=tcp://172.0.17.2:6379',

          'DOCKER_PORT_6300_UDP=udp://172.0.17.2:6300',
          'DOCKER_PORT_6300_UDP_ADDR=172.0.17.2',
          'DOCKER_PORT_6300_UDP_PORT=6300',
          'DOCKER_PORT_6300_UDP_PROTO=udp',

          'DOCKER_PORT_6379_TCP=tcp://172.0.17.2:6379',
          'DOCKER_PORT_6379_TCP_ADDR=172.0.17.2',
          'DOCKER_PORT_6379_TCP_END=tcp://172.0.17.2:6381',
          'DOCKER_PORT_6379_TCP_PORT=6379',
          'DOCKER_PORT_6379_TCP_PORT_END=6381',
          'DOCKER_PORT_6379_TCP_PORT_START=6379',
          'DOCKER_PORT_6379_TCP_PROTO=tcp',
          'DOCKER_PORT_6379_TCP_START=tcp://172.0.17.2:6379',

          'DOCKER_PORT_6380_TCP=tcp://172.0.17.2:6380',
          'DOCKER_PORT_6380_TCP_ADDR=172.0.17.2',
          'DOCKER_PORT_6380_TCP_PORT=6380',
          'DOCKER_PORT_6380_TCP_PROTO=tcp',

          'DOCKER_PORT_6381_TCP=tcp://172.0.17.2:6381',
          'DOCKER_PORT_6381_TCP_ADDR=172.0.17.2',
          'DOCKER_PORT_6381_TCP_PORT=6381',
          'DOCKER_PORT_6381_TCP_PROTO=tcp',

          'DOCKER_PORT_6382_UDP=udp://172.0.17.2:6382',
          'DOCKER_PORT_6382_UDP_ADDR=172.0.17.2',
          'DOCKER_PORT_6382_UDP_PORT=6382',
          'DOCKER_PORT_6382_UDP_PROTO=udp',
        ],
      },
    ],
  ])('%s', (_name, { alias, ports, want }) => {
    const got = envLines({ client: 'db', alias, server: 'server', address: '172.0.17.2', ports: ports.map(port) });
    expect([...got].sort()).toEqual(want);
  });

  it('TestSortPorts: tcp first, then the other protocols by name, each by number', () => {
    const given = ['6379/tcp', '6376/udp', '6380/tcp', '6376/sctp', '6381/tcp', '6381/udp', '6375/udp', '6375/sctp'];
    const want = ['6379/tcp', '6380/tcp', '6381/tcp', '6375/sctp', '6376/sctp', '6375/udp', '6376/udp', '6381/udp'];
    expect(sortLinkedPorts(given.map(port))).toEqual(want.map(port));
  });
});

const server = { client: 'client', alias: 'db-docker', server: 'server', address: '172.0.17.2' };

// The issue's case, exactly: what Docker's daemon gives `client` for `--link server:db-docker` when
// `server` (172.0.17.2) exposes 6379-6381/tcp and 53/udp.
const ISSUE_ENV =
  [
    'DB_DOCKER_PORT=tcp://172.0.17.2:6379',
    'DB_DOCKER_PORT_6379_TCP=tcp://172.0.17.2:6379',
    'DB_DOCKER_PORT_6379_TCP_ADDR=172.0.17.2',
    'DB_DOCKER_PORT_6379_TCP_PORT=6379',
    'DB_DOCKER_PORT_6379_TCP_PROTO=tcp',
    'DB_DOCKER_PORT_6380_TCP=tcp://172.0.17.2:6380',
    'DB_DOCKER_PORT_6380_TCP_ADDR=172.0.17.2',
    'DB_DOCKER_PORT_6380_TCP_PORT=6380',
    'DB_DOCKER_PORT_6380_TCP_PROTO=tcp',
    'DB_DOCKER_PORT_6381_TCP=tcp://172.0.17.2:6381',
    'DB_DOCKER_PORT_6381_TCP_ADDR=172.0.17.2',
    'DB_DOCKER_PORT_6381_TCP_PORT=6381',
    'DB_DOCKER_PORT_6381_TCP_PROTO=tcp',
    'DB_DOCKER_PORT_53_UDP=udp://172.0.17.2:53',
    'DB_DOCKER_PORT_53_UDP_ADDR=172.0.17.2',
    'DB_DOCKER_PORT_53_UDP_PORT=53',
    'DB_DOCKER_PORT_53_UDP_PROTO=udp',
    'DB_DOCKER_PORT_6379_TCP_START=tcp://172.0.17.2:6379',
    'DB_DOCKER_PORT_6379_TCP_PORT_START=6379',
    'DB_DOCKER_PORT_6379_TCP_END=tcp://172.0.17.2:6381',
    'DB_DOCKER_PORT_6379_TCP_PORT_END=6381',
    'DB_DOCKER_NAME=/client/db-docker',
  ].join('\n') + '\n';

describe("linkEnvironment: Docker's order", () => {
  it('the issue\'s case: server exposes 6379-6381 and 53/udp, client links "server:db-docker"', () => {
    const got = envLines({ ...server, ports: ['53/udp', '6381', '6379', '6380'].map(port) });
    // The range's four variables follow 53/udp's: ToEnv learns that 6379-6381 ended at the next port.
    expect(got.map((line) => `${line}\n`).join('')).toBe(ISSUE_ENV);
  });

  // Only the run variables are shown: they are what moves.
  const runs = (ports: string[]): string[] =>
    envLines({ ...server, alias: 'a', ports: ports.map(port) })
      .filter((line) => /^A_PORT_\d+_[A-Z]+(_START|_END)?=/.test(line))
      .map((line) => line.replace('=tcp://172.0.17.2:', '=tcp:').replace('=udp://172.0.17.2:', '=udp:'));

  it.each<[string, { ports: string[]; want: string[] }]>([
    [
      'a run that reaches the last port is written right after it',
      {
        ports: ['80', '81'],
        want: [
          'A_PORT_80_TCP=tcp:80',
          'A_PORT_81_TCP=tcp:81',
          'A_PORT_80_TCP_START=tcp:80',
          'A_PORT_80_TCP_END=tcp:81',
        ],
      },
    ],
    [
      'two runs: the first is written after the port that breaks it',
      {
        ports: ['1', '2', '4', '5'],
        want: [
          'A_PORT_1_TCP=tcp:1',
          'A_PORT_2_TCP=tcp:2',
          'A_PORT_4_TCP=tcp:4',
          'A_PORT_1_TCP_START=tcp:1',
          'A_PORT_1_TCP_END=tcp:2',
          'A_PORT_5_TCP=tcp:5',
          'A_PORT_4_TCP_START=tcp:4',
          'A_PORT_4_TCP_END=tcp:5',
        ],
      },
    ],
    [
      'consecutive numbers of two protocols are no run',
      { ports: ['80/tcp', '81/udp'], want: ['A_PORT_80_TCP=tcp:80', 'A_PORT_81_UDP=udp:81'] },
    ],
    [
      'the same number in both protocols is no run either',
      { ports: ['80/udp', '80/tcp'], want: ['A_PORT_80_TCP=tcp:80', 'A_PORT_80_UDP=udp:80'] },
    ],
    [
      'a duplicated port counts once (Docker reads a set)',
      {
        ports: ['80', '80', '81', '81'],
        want: [
          'A_PORT_80_TCP=tcp:80',
          'A_PORT_81_TCP=tcp:81',
          'A_PORT_80_TCP_START=tcp:80',
          'A_PORT_80_TCP_END=tcp:81',
        ],
      },
    ],
    ['a single port has no run', { ports: ['65535'], want: ['A_PORT_65535_TCP=tcp:65535'] }],
  ])('%s', (_name, { ports, want }) => {
    expect(runs(ports)).toEqual(want);
  });

  it('a server exposing nothing gives the name only', () => {
    expect(envLines({ ...server, ports: [] })).toEqual(['DB_DOCKER_NAME=/client/db-docker']);
  });

  it('the alias is upper-cased with - turned into _, and . kept (the way Docker does)', () => {
    expect(envLines({ ...server, alias: 'My-db.2', ports: [] })).toEqual(['MY_DB.2_NAME=/client/My-db.2']);
  });

  it('an IPv6 address is bracketed in URLs and bare in _ADDR', () => {
    expect(envLines({ ...server, address: 'fd00::2', ports: [port('80')] })).toEqual([
      'DB_DOCKER_PORT=tcp://[fd00::2]:80',
      'DB_DOCKER_PORT_80_TCP=tcp://[fd00::2]:80',
      'DB_DOCKER_PORT_80_TCP_ADDR=fd00::2',
      'DB_DOCKER_PORT_80_TCP_PORT=80',
      'DB_DOCKER_PORT_80_TCP_PROTO=tcp',
      'DB_DOCKER_NAME=/client/db-docker',
    ]);
  });

  it('any order of the ports, with any duplicates, gives the same variables', () => {
    const arbPort = fc.record({
      port: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 65535 })),
      protocol: fc.constantFrom<LinkedPort['protocol']>('tcp', 'udp', 'sctp'),
    });
    fc.assert(
      fc.property(
        fc
          .array(arbPort, { maxLength: 30 })
          .chain((ports) =>
            fc.tuple(fc.constant(ports), fc.shuffledSubarray(ports, { minLength: ports.length }), fc.subarray(ports)),
          ),
        ([ports, shuffled, extra]) => {
          const want = linkEnvironment({ ...server, ports });
          expect(linkEnvironment({ ...server, ports: [...shuffled, ...extra] })).toEqual(want);
        },
      ),
    );
  });
});

describe('linkHostsLines', () => {
  it.each<[string, { alias: string; hostname: string | null; addresses: string[]; want: string[] }]>([
    ['alias and name', { alias: 'db', hostname: null, addresses: ['10.0.0.2'], want: ['10.0.0.2 db,server'] }],
    [
      'an alias equal to the name is written once',
      { alias: 'server', hostname: null, addresses: ['10.0.0.2'], want: ['10.0.0.2 server'] },
    ],
    [
      "Docker's order with a hostname: alias, hostname, name",
      { alias: 'db', hostname: 'srv1', addresses: ['10.0.0.2'], want: ['10.0.0.2 db,srv1,server'] },
    ],
    [
      'a hostname equal to the name is written once',
      { alias: 'db', hostname: 'server', addresses: ['10.0.0.2'], want: ['10.0.0.2 db,server'] },
    ],
    [
      'one line per family, IPv4 first',
      {
        alias: 'db',
        hostname: null,
        addresses: ['fd00::2', '10.0.0.2'],
        want: ['10.0.0.2 db,server', 'fd00::2 db,server'],
      },
    ],
  ])('%s', (_name, { alias, hostname, addresses, want }) => {
    const got = linkHostsLines({ alias, server: 'server', hostname, addresses });
    expect(got.map((l) => `${l.address} ${l.names.join(',')}`)).toEqual(want);
  });
});

const redis: ClientLinkInput = {
  alias: 'db-docker',
  server: 'server',
  hostname: null,
  serverAddresses: { inet: '172.0.17.2', inet6: 'fd00::2' },
  ports: ['6379', '6380', '6381', '53/udp'].map(port),
};

function clientLinks(links: ClientLinkInput[], families: ClientLinksInput['families'] = ['inet', 'inet6']) {
  return describeClientLinks({ container: 'client', families, links });
}

describe('describeClientLinks', () => {
  it('links come in alias order, whatever order they were given in', () => {
    const web = { ...redis, alias: 'web', server: 'www', ports: [port('80')] };
    const cache = { ...redis, alias: 'cache', server: 'memcached', ports: [port('11211')] };
    const one = clientLinks([web, redis, cache]);
    expect(one.links.map((l) => l.alias)).toEqual(['cache', 'db-docker', 'web']);
    expect(clientLinks([cache, web, redis])).toEqual(one);
  });

  it('the same server under two aliases gives both sets', () => {
    const got = clientLinks([redis, { ...redis, alias: 'cache' }]);
    expect(got.links.map((l) => l.variables.at(-1))).toEqual([
      { name: 'CACHE_NAME', value: '/client/cache' },
      { name: 'DB_DOCKER_NAME', value: '/client/db-docker' },
    ]);
    expect(duplicateLinkVariables(got)).toEqual([]);
  });

  it('aliases that make the same variable names are reported', () => {
    const got = clientLinks([
      { ...redis, ports: [port('80')] },
      { ...redis, alias: 'DB_docker', ports: [port('80'), port('81')] },
    ]);
    expect(duplicateLinkVariables(got)).toEqual([
      'DB_DOCKER_NAME',
      'DB_DOCKER_PORT',
      'DB_DOCKER_PORT_80_TCP',
      'DB_DOCKER_PORT_80_TCP_ADDR',
      'DB_DOCKER_PORT_80_TCP_PORT',
      'DB_DOCKER_PORT_80_TCP_PROTO',
    ]);
  });

  it.each<
    [
      string,
      {
        families: ClientLinksInput['families'];
        server: ClientLinkInput['serverAddresses'];
        want: string | null;
        hosts: string[];
      },
    ]
  >([
    [
      'both families: IPv4 for the variables, a hosts line each',
      {
        families: ['inet', 'inet6'],
        server: { inet: '172.0.17.2', inet6: 'fd00::2' },
        want: '172.0.17.2',
        hosts: ['172.0.17.2', 'fd00::2'],
      },
    ],
    [
      'an IPv6-only client uses the IPv6 address',
      { families: ['inet6'], server: { inet: '172.0.17.2', inet6: 'fd00::2' }, want: 'fd00::2', hosts: ['fd00::2'] },
    ],
    [
      'an IPv4-only client gets no IPv6 hosts line',
      {
        families: ['inet'],
        server: { inet: '172.0.17.2', inet6: 'fd00::2' },
        want: '172.0.17.2',
        hosts: ['172.0.17.2'],
      },
    ],
    [
      'an IPv6-only server',
      { families: ['inet', 'inet6'], server: { inet: null, inet6: 'fd00::2' }, want: 'fd00::2', hosts: ['fd00::2'] },
    ],
    [
      'no family in common: no address, no variables',
      { families: ['inet'], server: { inet: null, inet6: 'fd00::2' }, want: null, hosts: [] },
    ],
  ])('%s', (_name, { families, server: serverAddresses, want, hosts }) => {
    const [link] = clientLinks([{ ...redis, serverAddresses }], families).links;
    expect(link?.address).toBe(want);
    expect(link?.hosts.map((h) => h.address)).toEqual(hosts);
    if (want === null) expect(link?.variables).toEqual([]);
    else expect(link?.variables.find((v) => v.name === 'DB_DOCKER_PORT_53_UDP_ADDR')?.value).toBe(want);
  });
});

describe('formatClientLinks', () => {
  const links = clientLinks([redis]);

  it("env: the issue's case as KEY=VALUE lines", () => {
    expect(formatClientLinks(links, 'env')).toBe(ISSUE_ENV);
  });

  it('sh: the same variables as export lines', () => {
    expect(formatClientLinks(links, 'sh')).toBe(ISSUE_ENV.replace(/^([A-Z0-9_]+)=(.*)$/gm, "export $1='$2'"));
  });

  it('hosts: one line per family the client can use', () => {
    expect(formatClientLinks(links, 'hosts')).toBe('172.0.17.2\tdb-docker server\nfd00::2\tdb-docker server\n');
  });

  it('json: the container, and per link its address, variables in order and hosts lines', () => {
    const text = formatClientLinks(links, 'json');
    const parsed = JSON.parse(text) as ReturnType<typeof clientLinksJson>;
    expect(Object.keys(parsed)).toEqual(['container', 'links']);
    const [link] = parsed.links;
    expect(Object.keys(link!)).toEqual(['alias', 'server', 'address', 'variables', 'hosts']);
    expect(link!.address).toBe('172.0.17.2');
    expect(Object.entries(link!.variables)).toEqual(links.links[0]!.variables.map((v) => [v.name, v.value]));
    expect(link!.hosts).toEqual([
      { address: '172.0.17.2', names: ['db-docker', 'server'] },
      { address: 'fd00::2', names: ['db-docker', 'server'] },
    ]);
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('no links: every format prints nothing, json an empty list', () => {
    const none = clientLinks([]);
    expect(['env', 'sh', 'hosts'].map((f) => formatClientLinks(none, f as 'env'))).toEqual(['', '', '']);
    expect(JSON.parse(formatClientLinks(none, 'json'))).toEqual({ container: 'client', links: [] });
  });

  it('sh leaves out the names a shell cannot set, and says which', () => {
    const dotted = clientLinks([
      { ...redis, alias: 'my.db', ports: [port('80')] },
      { ...redis, alias: 'ok', ports: [] },
    ]);
    expect(namesShellCannotSet(dotted)).toEqual([
      'MY.DB_PORT',
      'MY.DB_PORT_80_TCP',
      'MY.DB_PORT_80_TCP_ADDR',
      'MY.DB_PORT_80_TCP_PORT',
      'MY.DB_PORT_80_TCP_PROTO',
      'MY.DB_NAME',
    ]);
    expect(formatClientLinks(dotted, 'sh')).toBe("export OK_NAME='/client/ok'\n");
    expect(formatClientLinks(dotted, 'env')).toContain('MY.DB_NAME=/client/my.db\n');
  });
});

describe('sh quoting: a POSIX shell reads every value back exactly', () => {
  // One shell per test: the file exports every value, then prints them NUL-separated.
  function readBack(exports: string, names: string[]): string[] {
    const dir = mkdtempSync(join(tmpdir(), 'pfexpose-linkenv-'));
    try {
      const file = join(dir, 'env.sh');
      writeFileSync(file, exports);
      const script = `. "$1"; printf '%s\\0' ${names.map((n) => `"$${n}"`).join(' ')}`;
      const out = execFileSync('sh', ['-c', script, 'sh', file], { cwd: dir, encoding: 'utf8' });
      return out.split('\0').slice(0, -1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('hostile client names and aliases, through the sh format', () => {
    const hostile = ["it's", "'", "''", '$(touch x)', '`id`', '"$HOME"', 'a\nb', 'back\\slash', '*', ' lead', 'ü€😀'];
    const links = describeClientLinks({
      container: hostile.join(''),
      families: ['inet'],
      links: hostile.map((h, i) => ({ ...redis, alias: `a${i}`, server: h, hostname: h, ports: [port('80')] })),
    });
    const names = links.links.map((l) => l.variables.at(-1)!.name);
    expect(readBack(formatClientLinks(links, 'sh'), names)).toEqual(links.links.map((l) => l.variables.at(-1)!.value));
  });

  it('any text without a NUL', () => {
    // Any code point but NUL, ASCII (quotes, `$`, newlines) as often as the rest.
    const codePoint = fc.oneof(
      fc.integer({ min: 1, max: 0x7f }),
      fc.integer({ min: 0x80, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff),
    );
    const text = fc.array(codePoint, { maxLength: 40 }).map((cs) => String.fromCodePoint(...cs));
    const values = fc.sample(text, { numRuns: 300, seed: 13 });
    values.push("'", "\\'", "'\\''", '\n', '$', '!', '');
    const exports = values.map((v, i) => `export V${i}=${quoteShellWord(v)}\n`).join('');
    expect(
      readBack(
        exports,
        values.map((_, i) => `V${i}`),
      ),
    ).toEqual(values);
  });
});
