// jls(8)'s answer read as data, the adapter against the jls stand-in, and the stale-address guard.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseJlsJson, type Jail } from '../../src/apply/jls-api.js';
import { checkContainers, containersOf, withheldExposures } from '../../src/apply/check-containers.js';
import type { ContainerJail } from '../../src/compile/options.js';
import { createJls, resolveJlsProgram } from '../../src/host/jls.js';
import { createJlsSim, JLS_SIM, type JlsSim } from '../jls-sim/jls-control.js';
import { exposureOf as exposure } from '../helpers/builders.js';

const jail = (name: string, ip4: string[] = [], extra: Partial<Jail> = {}): Jail => ({
  jid: 1,
  name,
  vnet: false,
  ip4,
  ip6: [],
  ...extra,
});
const SPAN = { file: 'web.yaml', line: 3, column: 3, endLine: 3, endColumn: 6 };
const container = (name: string, ip: string | null, extra: Partial<ContainerJail> = {}): ContainerJail => ({
  container: name,
  jail: name,
  ip,
  ip6: null,
  source: SPAN,
  ...extra,
});

describe('parseJlsJson', () => {
  it.each([
    [
      'named parameters (what pfexpose asks)',
      '{"__version": "2", "jail-information": {"jail": [{"jid": "3", "name": "web", "vnet": "inherit", "ip4.addr": ["10.0.0.2", "10.0.0.4"], "ip6.addr": ["FD00:0:0::2"]}, {"jid": "1", "name": "db", "vnet": "new", "ip4.addr": [], "ip6.addr": []}]}}',
      [
        { jid: 1, name: 'db', vnet: true, ip4: [], ip6: [] },
        { jid: 3, name: 'web', vnet: false, ip4: ['10.0.0.2', '10.0.0.4'], ip6: ['fd00::2'] },
      ],
    ],
    [
      'jls -v layout',
      '{"__version": "2", "jail-information": {"jail": [{"jid": 2, "hostname": "w", "path": "/j/w", "name": "web", "state": "ACTIVE", "cpusetid": 3, "ipv4_addrs": ["10.0.0.2"], "ipv6_addrs": []}]}}',
      [{ jid: 2, name: 'web', vnet: false, ip4: ['10.0.0.2'], ip6: [] }],
    ],
    [
      'leaf lists nested in objects, comma-separated strings',
      '{"jail-information": {"jail": [{"jid": 5, "name": "a", "ip4.addr": [{"ipv4_addr": ["10.0.0.5"]}], "ip6.addr": "fd00::5,fd00::6"}]}}',
      [{ jid: 5, name: 'a', vnet: false, ip4: ['10.0.0.5'], ip6: ['fd00::5', 'fd00::6'] }],
    ],
    ['no jail runs', '{"__version": "2", "jail-information": {"jail": []}}', []],
  ])('%s', (_name, text, jails) => {
    expect(parseJlsJson(text)).toEqual({ kind: 'ok', jails });
  });

  it.each([
    ['not JSON', 'JID  IP Address', 'jls printed no JSON'],
    ['no list', '{"x": 1}', 'without a "jail-information" list'],
    ['a jail without a name', '{"jail-information": {"jail": [{"jid": 1}]}}', 'without a name or jid'],
    [
      'an address that is not one',
      '{"jail-information": {"jail": [{"jid": 1, "name": "a", "ip4.addr": ["10.0.0.300"]}]}}',
      'not one: 10.0.0.300',
    ],
    [
      'an IPv6 address in ip4.addr',
      '{"jail-information": {"jail": [{"jid": 1, "name": "a", "ip4.addr": ["::1"]}]}}',
      'not one: ::1',
    ],
  ])('refuses %s', (_name, text, message) => {
    const parsed = parseJlsJson(text);
    expect(parsed.kind).toBe('failed');
    expect(parsed.kind === 'failed' ? parsed.message : '').toContain(message);
  });

  it('never throws on any text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        parseJlsJson(text);
      }),
    );
  });
});

describe('checkContainers', () => {
  it.each([
    [
      'the jail holds the address',
      [container('web', '10.0.0.2')],
      [jail('web', ['10.0.0.2'])],
      { stale: [], stopped: [], unchecked: [] },
    ],
    [
      'another jail holds it',
      [container('web', '10.0.0.2')],
      [jail('web', ['10.0.0.2']), jail('db', ['10.0.0.2'])],
      { stale: ['web'], stopped: [], unchecked: [] },
    ],
    [
      'the jail no longer holds it',
      [container('web', '10.0.0.2')],
      [jail('web', ['10.0.0.9'])],
      { stale: ['web'], stopped: [], unchecked: [] },
    ],
    [
      'stopped, and nobody holds it',
      [container('web', '10.0.0.2')],
      [],
      { stale: [], stopped: ['web'], unchecked: [] },
    ],
    [
      'stopped, and another jail holds it',
      [container('web', '10.0.0.2')],
      [jail('db', ['10.0.0.2'])],
      { stale: ['web'], stopped: [], unchecked: [] },
    ],
    [
      'a VNET jail',
      [container('web', '10.0.0.2')],
      [jail('web', [], { vnet: true })],
      { stale: [], stopped: [], unchecked: ['web'] },
    ],
    [
      'a jail: key',
      [container('web', '10.0.0.2', { jail: 'www' })],
      [jail('www', ['10.0.0.2']), jail('web', ['10.0.0.7'])],
      { stale: [], stopped: [], unchecked: [] },
    ],
  ])('%s', (_name, containers, jails, want) => {
    const { stale, stopped, unchecked, diagnostics } = checkContainers(containers, jails);
    expect({ stale, stopped, unchecked }).toEqual(want);
    expect(diagnostics.map((d) => [d.code, d.severity, d.line])).toEqual([
      ...want.stale.map(() => ['address-stale', 'error', 3]),
      ...want.stopped.map(() => ['container-stopped', 'warning', 3]),
      ...want.unchecked.map(() => ['container-unchecked', 'warning', 3]),
    ]);
  });

  it('names where the container is now and who holds its address', () => {
    const [d] = checkContainers(
      [container('web', '10.0.0.2')],
      [jail('web', ['10.0.0.9']), jail('billing', ['10.0.0.2'])],
    ).diagnostics;
    expect(d?.message).toBe(
      'container "web": 10.0.0.2 is held by jail "billing" now; jail "web" no longer holds 10.0.0.2 (it holds 10.0.0.9)',
    );
  });

  it('containersOf a hand-built outcome: one per exposed container, addresses from its exposures', () => {
    const exposures = [
      exposure({ container: 'web', family: 'inet', containerAddress: '10.0.0.2' }),
      exposure({ container: 'web', family: 'inet6', containerAddress: 'fd00::2' }),
      exposure({ container: 'db', containerAddress: '10.0.0.3' }),
    ];
    expect(containersOf({ exposures }).map((c) => [c.container, c.jail, c.ip, c.ip6])).toEqual([
      ['db', 'db', '10.0.0.3', null],
      ['web', 'web', '10.0.0.2', 'fd00::2'],
    ]);
    expect(withheldExposures(exposures, ['web']).map((e) => e.container)).toEqual(['db']);
  });
});

describe('the jls adapter against the stand-in', () => {
  let sim: JlsSim;
  beforeEach(async () => {
    sim = await createJlsSim([
      { jid: 1, name: 'web', ip4: ['10.0.0.2'], ip6: ['fd00::2'] },
      { jid: 2, name: 'old', dying: true, ip4: ['10.0.0.8'] },
    ]);
  });
  afterEach(async () => {
    await sim.cleanup();
  });

  it('lists the running jails (not the dying ones)', async () => {
    const answer = await createJls({ program: JLS_SIM, env: sim.env }).list();
    expect(answer).toEqual({
      kind: 'ok',
      jails: [{ jid: 1, name: 'web', vnet: false, ip4: ['10.0.0.2'], ip6: ['fd00::2'] }],
    });
  });

  it.each([
    [
      'fails',
      { fail: 'jail_get: Operation not permitted' },
      'exited with status 1: jls: jail_get: Operation not permitted',
    ],
    ['hangs', { hangMs: 'forever' as const }, 'and was killed'],
    ['prints garbage', { output: 'JID  IP Address  Hostname  Path\n' }, 'jls printed no JSON'],
  ])('says so when jls %s', async (_name, control, message) => {
    await sim.setControl(control);
    const answer = await createJls({ program: JLS_SIM, env: sim.env, timeoutMs: 500 }).list();
    expect(answer.kind).toBe('failed');
    expect(answer.kind === 'failed' ? answer.message : '').toContain(message);
  });

  it('a program that does not exist is a failure, not a crash', async () => {
    const answer = await createJls({ program: '/nonexistent/jls' }).list();
    expect(answer.kind).toBe('failed');
  });

  it.each([
    ['--jls wins', ['/x/jls', { PFEXPOSE_JLS: '/y/jls' }, 'linux'], '/x/jls'],
    ['then PFEXPOSE_JLS', [undefined, { PFEXPOSE_JLS: '/y/jls' }, 'linux'], '/y/jls'],
    ['jls on FreeBSD', [undefined, {}, 'freebsd'], 'jls'],
    ['none elsewhere', [undefined, {}, 'linux'], null],
    ['none when told', ['none', {}, 'freebsd'], null],
  ] as const)('resolveJlsProgram: %s', (_name, [flag, env, platform], want) => {
    expect(resolveJlsProgram(flag, env, platform)).toBe(want);
  });
});
