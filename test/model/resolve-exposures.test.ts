import { describe, expect, it } from 'vitest';
import type { ManifestSet } from '../../src/manifest/manifest.js';
import type { Exposure } from '../../src/model/exposure.js';
import { formatListen } from '../../src/model/format-listen.js';
import { emptyLockfile } from '../../src/model/lockfile.js';
import type { ResolveOptions } from '../../src/model/resolve-exposures.js';
import { resolveExposures } from '../../src/model/resolve-exposures.js';
import {
  container,
  docker,
  documentOf,
  hostDeclaration,
  kleene,
  manifestSet,
  r,
  single,
  spec,
} from './build-manifest.js';

function resolve(set: ManifestSet, options: Partial<ResolveOptions> = {}) {
  return resolveExposures(set, { lock: emptyLockfile(), frozen: false, ...options });
}

function range(p: { start: number; end: number }): string {
  return p.start === p.end ? `${p.start}` : `${p.start}-${p.end}`;
}

/** One line per exposure: what a reviewer wants to see at a glance. */
function view(e: Exposure): string {
  const listen = e.interface === null && e.hostAddress === null ? `*${formatListen(e)}` : formatListen(e);
  const from = e.from.length === 0 ? '' : ` from ${e.from.join(',')}`;
  return `${e.container} ${e.family} ${e.protocol} ${listen}:${range(e.hostPort)} -> ${e.containerAddress}:${range(e.containerPort)}${from}${e.dynamic ? ' dyn' : ''}`;
}

function codes(result: { diagnostics: { code: string; file: string; line: number; column: number }[] }): string[] {
  return result.diagnostics.map((d) => `${d.code} ${d.file}:${d.line}:${d.column}`);
}

const dual = { ip: '10.0.0.2', ip6: 'fd00::2' };

describe('resolveExposures: each syntax and listen side', () => {
  const cases: [string, { given: ManifestSet; options?: Partial<ResolveOptions>; want: string[] }][] = [
    [
      'kleene 8080 listens on the gateway, both families',
      {
        given: single([container({ name: 'web', ...dual, ports: [kleene(8080)] })]),
        options: { gateway: 'em0' },
        want: ['web inet tcp em0:8080 -> 10.0.0.2:8080', 'web inet6 tcp em0:8080 -> fd00::2:8080'],
      },
    ],
    [
      'kleene with an interface and udp',
      {
        given: single([
          container({ name: 'dns', ports: [kleene(53, 5353, { interfaces: ['em1'], protocol: 'udp' })] }),
        ]),
        want: ['dns inet udp em1:53 -> 10.0.0.2:5353'],
      },
    ],
    [
      'one-to-one range',
      {
        given: single([container({ name: 'web', ports: [kleene(r(9000, 9010), r(9100, 9110))] })]),
        options: { gateway: 'em0' },
        want: ['web inet tcp em0:9000-9010 -> 10.0.0.2:9100-9110'],
      },
    ],
    [
      'long form with two interfaces and sources of both families',
      {
        given: single([
          container({
            name: 'web',
            ...dual,
            ports: [
              spec({
                syntax: 'long',
                hostPort: r(5000),
                containerPort: r(5000),
                protocol: 'udp',
                interfaces: ['em1', 'em0'],
                from: ['2001:db8::/32', '203.0.113.7/24'],
              }),
            ],
          }),
        ]),
        want: [
          'web inet udp em0:5000 -> 10.0.0.2:5000 from 203.0.113.0/24',
          'web inet6 udp em0:5000 -> fd00::2:5000 from 2001:db8::/32',
          'web inet udp em1:5000 -> 10.0.0.2:5000 from 203.0.113.0/24',
          'web inet6 udp em1:5000 -> fd00::2:5000 from 2001:db8::/32',
        ],
      },
    ],
    [
      'long form without interface or host_ip listens on the gateway, whatever the container syntax',
      {
        given: single([
          container({ name: 'a', ports: [spec({ syntax: 'long', hostPort: r(81), containerPort: r(80) })] }),
          container({
            name: 'b',
            line: 20,
            syntax: 'docker',
            ports: [spec({ syntax: 'long', hostPort: r(82), containerPort: r(80) })],
          }),
        ]),
        options: { gateway: 'vtnet0' },
        want: ['a inet tcp vtnet0:81 -> 10.0.0.2:80', 'b inet tcp vtnet0:82 -> 10.0.0.2:80'],
      },
    ],
    [
      'long form with host_ip 0.0.0.0 listens on every IPv4 address',
      {
        given: single([
          container({
            name: 'a',
            ...dual,
            ports: [spec({ syntax: 'long', hostPort: r(81), containerPort: r(80), hostAddress: '0.0.0.0' })],
          }),
        ]),
        want: ['a inet tcp *any:81 -> 10.0.0.2:80'],
      },
    ],
    [
      'docker host address: that address only, its family only',
      {
        given: single([
          container({
            name: 'legacy',
            ...dual,
            syntax: 'docker',
            ports: [docker(8081, 80, { hostAddress: '127.0.0.1' })],
          }),
        ]),
        want: ['legacy inet tcp 127.0.0.1:8081 -> 10.0.0.2:80'],
      },
    ],
    [
      'docker without host address: every address, both families',
      {
        given: single([container({ name: 'legacy', ...dual, syntax: 'docker', ports: [docker(80, 8080)] })]),
        want: ['legacy inet tcp *any:80 -> 10.0.0.2:8080', 'legacy inet6 tcp *any:80 -> fd00::2:8080'],
      },
    ],
    [
      '0.0.0.0 is every IPv4 address only; :: every IPv6 address only',
      {
        given: single([
          container({
            name: 'a',
            ...dual,
            syntax: 'docker',
            ports: [docker(80, 80, { hostAddress: '0.0.0.0' }), docker(81, 81, { hostAddress: '::' })],
          }),
        ]),
        want: ['a inet tcp *any:80 -> 10.0.0.2:80', 'a inet6 tcp *any:81 -> fd00::2:81'],
      },
    ],
    [
      'docker bracketed IPv6 host address',
      {
        given: single([
          container({
            name: 'a',
            ...dual,
            syntax: 'docker',
            ports: [docker(53, 53, { hostAddress: '::1', protocol: 'udp' })],
          }),
        ]),
        want: ['a inet6 udp [::1]:53 -> fd00::2:53'],
      },
    ],
    [
      'spec.family narrows to one family',
      {
        given: single([
          container({ name: 'a', ...dual, syntax: 'docker', ports: [docker(80, 80, { family: 'inet6' })] }),
        ]),
        want: ['a inet6 tcp *any:80 -> fd00::2:80'],
      },
    ],
    [
      'from with only IPv4 sources narrows a dual-stack container to IPv4 (never open to all on IPv6)',
      {
        given: single([
          container({
            name: 'a',
            ...dual,
            ports: [kleene(80, 80, { interfaces: ['em0'], from: ['192.0.2.1', '192.0.2.1/32', '10.9.0.0/16'] })],
          }),
        ]),
        want: ['a inet tcp em0:80 -> 10.0.0.2:80 from 10.9.0.0/16,192.0.2.1'],
      },
    ],
    [
      'a zero-length prefix admits every source of its family, written as any (as pfctl prints it)',
      {
        given: single([
          container({
            name: 'a',
            ...dual,
            ports: [kleene(80, 80, { interfaces: ['em0'], from: ['0.0.0.0/0', '10.9.0.0/16', '2001:db8::/32'] })],
          }),
        ]),
        want: ['a inet tcp em0:80 -> 10.0.0.2:80', 'a inet6 tcp em0:80 -> fd00::2:80 from 2001:db8::/32'],
      },
    ],
    [
      'expose + publishAll: every address, from the pool',
      {
        given: single([
          container({ name: 'app', ...dual, expose: [{ port: 80 }, { port: 53, protocol: 'udp' }], publishAll: true }),
        ]),
        want: [
          'app inet tcp *any:49000 -> 10.0.0.2:80 dyn',
          'app inet udp *any:49000 -> 10.0.0.2:53 dyn',
          'app inet6 tcp *any:49000 -> fd00::2:80 dyn',
          'app inet6 udp *any:49000 -> fd00::2:53 dyn',
        ],
      },
    ],
    [
      'publishAll skips exposed ports that a `ports` entry binds (same port and protocol), as docker -P does',
      {
        given: single([
          container({
            name: 'app',
            syntax: 'docker',
            ports: [docker(8080, 80), docker(null, 53, { protocol: 'udp' }), docker(9005, 8005)],
            expose: [{ port: 80 }, { port: 53 }, { port: 53, protocol: 'udp' }, { port: r(8000, 8010) }],
            publishAll: true,
          }),
        ]),
        want: [
          'app inet tcp *any:8080 -> 10.0.0.2:80',
          'app inet tcp *any:9005 -> 10.0.0.2:8005',
          'app inet tcp *any:49000 -> 10.0.0.2:53 dyn',
          'app inet tcp *any:49001-49005 -> 10.0.0.2:8000-8004 dyn',
          'app inet tcp *any:49006-49010 -> 10.0.0.2:8006-8010 dyn',
          'app inet udp *any:49000 -> 10.0.0.2:53 dyn',
        ],
      },
    ],
    [
      'expose without publishAll publishes nothing',
      { given: single([container({ name: 'app', expose: [{ port: 80 }] })]), want: [] },
    ],
  ];
  it.each(cases)('%s', (_name, { given, options, want }) => {
    const result = resolve(given, options);
    expect(result.diagnostics).toEqual([]);
    expect(result.exposures.map(view)).toEqual(want);
  });

  it('keeps the entry position as the exposure source and fills labels', () => {
    const result = resolve(
      single([container({ name: 'web', line: 10, ports: [kleene(1), kleene(8080, 80, { interfaces: ['em0'] })] })]),
      { gateway: 'em0' },
    );
    expect(result.exposures.map((e) => [e.source, e.label])).toEqual([
      [{ file: 'a.yaml', line: 12, column: 9 }, 'web:tcp:em0:1'],
      [{ file: 'a.yaml', line: 13, column: 9 }, 'web:tcp:em0:8080'],
    ]);
  });

  it('formatListen', () => {
    const base = { interface: null, hostAddress: null } as const;
    // One spelling of every address for both families (issue 11), as plan, ls, port and labels write it.
    expect(formatListen(base)).toBe('any');
    expect(formatListen({ ...base, hostAddress: '127.0.0.1' })).toBe('127.0.0.1');
    expect(formatListen({ ...base, hostAddress: '::1' })).toBe('[::1]');
    expect(formatListen({ ...base, interface: 'em0' })).toBe('em0');
  });
});

describe('resolveExposures: host selection', () => {
  const web = (over: Parameters<typeof container>[0]) =>
    container({ ports: [kleene(80, 80, { interfaces: ['em0'] })], ...over });

  it('a repository that names no host is one anonymous host', () => {
    const result = resolve(
      single([web({ name: 'a' }), web({ name: 'b', line: 9, ports: [kleene(81, 80, { interfaces: ['em0'] })] })]),
    );
    expect(result.host.name).toBeNull();
    expect(result.exposures.map((e) => e.container)).toEqual(['a', 'b']);
  });

  it('one named host takes the unassigned containers and its facts', () => {
    const set = manifestSet(
      documentOf('a.yaml', [web({ name: 'a' })]),
      documentOf('hosts.yaml', [], { hosts: [hostDeclaration('h1', { gateway: 'em0', pool: r(50000, 50010) })] }),
    );
    const result = resolve(set);
    expect(result.host).toEqual({ name: 'h1', gateway: 'em0', pool: r(50000, 50010), interfaces: null });
    expect(result.exposures).toHaveLength(1);
  });

  it('--host naming the only host keeps its unassigned containers; --host in a nameless repository is an error', () => {
    const set = manifestSet(
      documentOf('a.yaml', [
        web({ name: 'a' }),
        web({ name: 'b', line: 9, host: 'h1', ports: [kleene(81, 80, { interfaces: ['em0'] })] }),
      ]),
    );
    expect(resolve(set, { host: 'h1' }).exposures.map((e) => e.container)).toEqual(['a', 'b']);
    expect(codes(resolve(single([web({ name: 'a' })]), { host: 'h1' }))).toEqual(['unknown-host <command line>:1:1']);
  });

  it('several hosts: --host selects, other hosts are ignored', () => {
    const set = manifestSet(
      documentOf('a.yaml', [web({ name: 'a', host: 'h1' })]),
      documentOf('b.yaml', [web({ name: 'b' })], { host: 'h2' }),
    );
    expect(resolve(set, { host: 'h2' }).exposures.map((e) => e.container)).toEqual(['b']);
    expect(resolve(set, { host: 'h1' }).exposures.map((e) => e.container)).toEqual(['a']);
  });

  it('several hosts without --host is an error listing them', () => {
    const set = manifestSet(
      documentOf('a.yaml', [web({ name: 'a', host: 'h1' })]),
      documentOf('b.yaml', [web({ name: 'b', file: 'b.yaml' })], { host: 'h2' }),
    );
    const result = resolve(set);
    expect(codes(result)).toEqual(['host-required a.yaml:3:3']);
    expect(result.diagnostics[0]?.message).toContain('h1 (a.yaml:3:3), h2 (b.yaml:1:1)');
    expect(result.exposures).toEqual([]);
  });

  it('an unassigned container in a multi-host repository is located at the container', () => {
    const set = manifestSet(
      documentOf('a.yaml', [web({ name: 'a', host: 'h1' }), web({ name: 'lost', line: 20 })]),
      documentOf('b.yaml', [], { hosts: [hostDeclaration('h2', { file: 'b.yaml' })] }),
    );
    const result = resolve(set, { host: 'h1' });
    expect(codes(result)).toEqual(['container-without-host a.yaml:20:3']);
    expect(result.diagnostics[0]?.message).toContain('add `host:` to the container or its document');
    expect(result.exposures.map((e) => e.container)).toEqual(['a']);
  });

  it('--host naming an unknown host lists the known ones', () => {
    const set = manifestSet(documentOf('a.yaml', [web({ name: 'a', host: 'h1' })]));
    const result = resolve(set, { host: 'nope' });
    expect(codes(result)).toEqual(['unknown-host <command line>:1:1']);
    expect(result.diagnostics[0]?.message).toContain('h1');
  });

  it('host facts declared twice must agree: both places are reported', () => {
    const set = manifestSet(
      documentOf('a.yaml', [web({ name: 'a' })], {
        hosts: [hostDeclaration('h1', { gateway: 'em0', file: 'a.yaml', line: 30 })],
      }),
      documentOf('b.yaml', [], { hosts: [hostDeclaration('h1', { gateway: 'em1', file: 'b.yaml', line: 2 })] }),
    );
    const result = resolve(set);
    expect(codes(result)).toEqual(['host-fact-conflict a.yaml:30:3', 'host-fact-conflict b.yaml:2:3']);
    expect(result.diagnostics[0]?.message).toContain('b.yaml:2:3');
    expect(result.diagnostics[1]?.message).toContain('a.yaml:30:3');
  });

  it('a container declared twice for one host is reported at both places', () => {
    const set = manifestSet(
      documentOf('a.yaml', [web({ name: 'a' })]),
      documentOf('b.yaml', [web({ name: 'a', file: 'b.yaml', line: 7 })]),
    );
    expect(codes(resolve(set)).filter((c) => c.startsWith('duplicate'))).toEqual([
      'duplicate-container a.yaml:3:3',
      'duplicate-container b.yaml:7:3',
    ]);
  });
});

describe('resolveExposures: gateway and interfaces', () => {
  it('an entry needing the gateway when none is known is located and names both remedies', () => {
    const result = resolve(single([container({ name: 'web', line: 4, ports: [kleene(8080)] })]));
    expect(codes(result)).toEqual(['gateway-missing a.yaml:6:9']);
    expect(result.diagnostics[0]).toMatchObject({ endLine: 6, endColumn: 13 });
    expect(result.diagnostics[0]?.hint).toContain('--gateway IF');
    expect(result.diagnostics[0]?.hint).toContain('hosts.NAME.gateway');
    expect(result.exposures).toEqual([]);
  });

  it('the declared gateway is used, and --gateway overrides it', () => {
    const set = single([container({ name: 'web', ports: [kleene(8080)] })], {
      hosts: [hostDeclaration('h', { gateway: 'em0' })],
    });
    expect(resolve(set).exposures.map((e) => e.interface)).toEqual(['em0']);
    expect(resolve(set, { gateway: 'igb0' }).exposures.map((e) => e.interface)).toEqual(['igb0']);
  });

  it('interfaces an entry names must be declared when the host declares an allowlist', () => {
    const set = single(
      [
        container({
          name: 'web',
          ports: [kleene(1, 1, { interfaces: ['em0'] }), kleene(2, 2, { interfaces: ['wlan0'] })],
        }),
      ],
      { hosts: [hostDeclaration('h', { interfaces: ['em0', 'em1'] })] },
    );
    const result = resolve(set);
    expect(codes(result)).toEqual(['interface-not-allowed a.yaml:6:9']);
    expect(result.exposures.map((e) => e.hostPort.start)).toEqual([1]);
  });

  it('the gateway must be in the allowlist too: declared (located) or --gateway (command line)', () => {
    const set = single([container({ name: 'web', ports: [kleene(1)] })], {
      hosts: [hostDeclaration('h', { gateway: 'em9', interfaces: ['em0'], file: 'a.yaml', line: 40 })],
    });
    expect(codes(resolve(set))).toEqual(['interface-not-allowed a.yaml:40:3']);
    expect(codes(resolve(set, { gateway: 'em7' }))).toEqual(['interface-not-allowed <command line>:1:1']);
    expect(codes(resolve(set, { gateway: 'em0' }))).toEqual([]);
  });
});

describe('resolveExposures: families and sources', () => {
  it('a from-list covering no family of the container is a located error', () => {
    const result = resolve(
      single([
        container({
          name: 'a',
          ip: null,
          ip6: 'fd00::2',
          ports: [kleene(80, 80, { interfaces: ['em0'], from: ['192.0.2.0/24'] })],
        }),
      ]),
    );
    expect(codes(result)).toEqual(['from-family a.yaml:5:9']);
    expect(result.exposures).toEqual([]);
  });

  it('a from-list of the other family than the host address is an error, not an open exposure', () => {
    const result = resolve(
      single([
        container({
          name: 'a',
          ...dual,
          syntax: 'docker',
          ports: [docker(80, 80, { hostAddress: '127.0.0.1', from: ['2001:db8::/32'] })],
        }),
      ]),
    );
    expect(codes(result)).toEqual(['from-family a.yaml:5:9']);
  });

  it('a host address of a family the container lacks makes no exposure (the manifest check warns)', () => {
    const result = resolve(
      single([
        container({ name: 'a', syntax: 'docker', ports: [docker(80, 80, { hostAddress: '::1' }), docker(81, 81)] }),
      ]),
    );
    expect(codes(result)).toEqual([]);
    expect(result.exposures.map((e) => `${e.family} ${e.hostPort.start}`)).toEqual(['inet 81']);
  });

  it('an explicit family the container lacks is still an error', () => {
    const result = resolve(
      single([
        container({ name: 'a', syntax: 'docker', ports: [docker(80, 80, { hostAddress: '::1', family: 'inet6' })] }),
      ]),
    );
    expect(codes(result)).toEqual(['family-unavailable a.yaml:5:9']);
  });

  it('from networks are canonical, split per family, sorted and deduplicated', () => {
    const result = resolve(
      single([
        container({
          name: 'a',
          ...dual,
          ports: [
            kleene(80, 80, {
              interfaces: ['em0'],
              from: ['2001:DB8:0:0::1/32', '10.1.2.3/8', '9.0.0.0/8', '10.0.0.0/8'],
            }),
          ],
        }),
      ]),
    );
    expect(result.exposures.map((e) => e.from)).toEqual([['9.0.0.0/8', '10.0.0.0/8'], ['2001:db8::/32']]);
  });

  it('an invalid from network is located', () => {
    expect(
      codes(
        resolve(
          single([container({ name: 'a', ports: [kleene(80, 80, { interfaces: ['em0'], from: ['10.0.0.0/33'] })] })]),
        ),
      ),
    ).toEqual(['invalid-network a.yaml:5:9']);
  });
});

describe('resolveExposures: conflicts', () => {
  function conflictLines(set: ManifestSet, options: Partial<ResolveOptions> = {}) {
    return resolve(set, options).diagnostics.map((d) => `${d.code} ${d.file}:${d.line}:${d.column} ${d.message}`);
  }

  it('overlapping host port ranges across files: every location, each naming the others', () => {
    const set = manifestSet(
      documentOf('a.yaml', [
        container({ name: 'a', ports: [kleene(r(8000, 8010), r(8000, 8010), { interfaces: ['em0'] })] }),
      ]),
      documentOf('b.yaml', [
        container({ name: 'b', file: 'b.yaml', line: 10, ports: [kleene(8005, 80, { interfaces: ['em0'] })] }),
      ]),
      documentOf('c.yaml', [
        container({ name: 'c', file: 'c.yaml', ports: [kleene(8010, 80, { interfaces: ['em0'] })] }),
      ]),
      documentOf('d.yaml', [
        container({ name: 'd', file: 'd.yaml', ports: [kleene(8011, 80, { interfaces: ['em0'] })] }),
      ]),
    );
    const lines = conflictLines(set);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^port-conflict a\.yaml:5:9 .*b at b\.yaml:12:9, c at c\.yaml:5:9/);
    expect(lines[1]).toMatch(/^port-conflict b\.yaml:12:9 .*a at a\.yaml:5:9/);
    expect(lines[1]).not.toContain('c.yaml');
    expect(lines[2]).toMatch(/^port-conflict c\.yaml:5:9 .*a at a\.yaml:5:9/);
  });

  it('two entries at one position (a YAML alias repeating an entry) still conflict', () => {
    // Both containers' entries sit at a.yaml:5:9, as `ports: *p` makes them.
    const set = single([
      container({ name: 'a', ip: '10.0.0.2', ports: [kleene(8080, 80, { interfaces: ['em0'] })] }),
      container({ name: 'b', ip: '10.0.0.3', ports: [kleene(8080, 80, { interfaces: ['em0'] })] }),
    ]);
    const lines = conflictLines(set);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^port-conflict a\.yaml:5:9 .*(a|b) at a\.yaml:5:9/);
  });

  it('an every-address exposure conflicts with an interface exposure of the same family', () => {
    const set = single([
      container({ name: 'k', ports: [kleene(80, 80, { interfaces: ['em0'] })] }),
      container({ name: 'd', line: 20, syntax: 'docker', ports: [docker(80, 8080)] }),
    ]);
    expect(codes(resolve(set))).toEqual(['port-conflict a.yaml:5:9', 'port-conflict a.yaml:22:9']);
  });

  it('no conflict across protocols, families, interfaces, or interface vs host address', () => {
    const set = single([
      container({
        name: 'a',
        ...dual,
        ports: [
          kleene(80, 80, { interfaces: ['em0'] }),
          kleene(80, 80, { interfaces: ['em1'] }),
          kleene(80, 80, { interfaces: ['em0'], protocol: 'udp' }),
        ],
      }),
      container({
        name: 'b',
        line: 20,
        ...dual,
        syntax: 'docker',
        ports: [docker(80, 80, { hostAddress: '192.0.2.1' }), docker(80, 80, { hostAddress: '2001:db8::1' })],
      }),
      container({ name: 'c', line: 30, syntax: 'docker', ports: [docker(80, 80, { hostAddress: '127.0.0.1' })] }),
    ]);
    expect(resolve(set).diagnostics).toEqual([]);
  });

  it('0.0.0.0 conflicts with a docker entry without address, but :: does not conflict with IPv4', () => {
    const set = single([
      container({ name: 'a', syntax: 'docker', ports: [docker(80, 80, { hostAddress: '0.0.0.0' })] }),
      container({ name: 'b', line: 20, syntax: 'docker', ports: [docker(80, 80)] }),
      container({
        name: 'c',
        line: 30,
        ip: null,
        ip6: 'fd00::3',
        syntax: 'docker',
        ports: [docker(80, 80, { hostAddress: '::' })],
      }),
    ]);
    expect(codes(resolve(set))).toEqual(['port-conflict a.yaml:5:9', 'port-conflict a.yaml:22:9']);
  });

  it('identical duplicates inside one container conflict', () => {
    const set = single([
      container({
        name: 'a',
        ports: [kleene(80, 80, { interfaces: ['em0'] }), kleene(80, 80, { interfaces: ['em0'] })],
      }),
    ]);
    expect(codes(resolve(set))).toEqual(['port-conflict a.yaml:5:9', 'port-conflict a.yaml:6:9']);
  });

  it('identical dynamic duplicates inside one container conflict too', () => {
    const set = single([container({ name: 'a', syntax: 'docker', ports: [docker(null, 80), docker(null, 80)] })]);
    const result = resolve(set);
    expect(codes(result)).toEqual(['port-conflict a.yaml:5:9', 'port-conflict a.yaml:6:9']);
    expect(result.lock.entries).toHaveLength(1);
  });

  it('the Kleene gateway default conflicts with the same interface named explicitly', () => {
    const set = single([
      container({ name: 'a', ports: [kleene(80)] }),
      container({ name: 'b', line: 20, ports: [kleene(80, 80, { interfaces: ['em0'] })] }),
    ]);
    expect(codes(resolve(set, { gateway: 'em0' }))).toEqual(['port-conflict a.yaml:5:9', 'port-conflict a.yaml:22:9']);
    expect(codes(resolve(set, { gateway: 'em1' }))).toEqual([]);
  });
});
