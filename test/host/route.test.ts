// The route adapter against the route stand-in, spawned for real.
import { afterEach, describe, it, expect } from 'vitest';
import { createRouteTable } from '../../src/host/route.js';
import { createSim, ROUTE_SIM, type Sim } from '../pfctl-sim/sim-control.js';

let sim: Sim | undefined;
afterEach(async () => {
  await sim?.cleanup();
  sim = undefined;
});

describe('defaultRoute', () => {
  it('finds the IPv4 and IPv6 gateway interfaces', async () => {
    sim = await createSim({ routeIf: 'em0', route6If: 'em1' });
    const route = createRouteTable({ program: ROUTE_SIM, env: sim.env });
    expect(await route.defaultRoute('inet')).toEqual({ kind: 'found', interface: 'em0', gateway: '192.0.2.1' });
    expect(await route.defaultRoute('inet6')).toMatchObject({ kind: 'found', interface: 'em1' });
    expect((await sim.calls()).map((call) => call.argv)).toEqual([
      ['route', '-n', 'get', 'default'],
      ['route', '-n', 'get', '-inet6', 'default'],
    ]);
  });

  it('reports a host without a default route as such', async () => {
    sim = await createSim({ routeIf: 'em0' });
    const route = createRouteTable({ program: ROUTE_SIM, env: sim.env });
    expect(await route.defaultRoute('inet6')).toMatchObject({ kind: 'no-route', family: 'inet6' });
  });

  it('reports a missing program and a hanging one', async () => {
    sim = await createSim({ routeIf: 'em0' });
    expect((await createRouteTable({ program: '/nonexistent/route' }).defaultRoute('inet')).kind).toBe('not-found');
    const slow = createRouteTable({
      program: ROUTE_SIM,
      env: { ...sim.env, PFCTL_SIM_ROUTE_HANG_MS: '60000' },
      timeoutMs: 500,
    });
    expect(await slow.defaultRoute('inet')).toMatchObject({ kind: 'timed-out' });
  });
});

describe('defaultRoute: route printing garbage', () => {
  const answer = (iface: string): string =>
    [
      '   route to: default',
      'destination: default',
      '    gateway: 192.0.2.1',
      `  interface: ${iface}`,
      '      flags: <UP,GATEWAY,DONE,STATIC>',
      '',
    ].join('\n');
  const b64 = (text: string | Buffer): string => Buffer.from(text).toString('base64');

  it.each([
    ['self (pf: every address of the host)', b64(answer('self')), /"self" is a word of pf's rule grammar/],
    ['any', b64(answer('any')), /"any" is a word of pf's rule grammar/],
    ['dnpipe', b64(answer('dnpipe')), /"dnpipe" is a word of pf's rule grammar/],
    ['a semicolon', b64(answer('em0;')), /contains ";"/],
    ['24 characters', b64(answer('abcdefghijklmnopqrstuvwx')), /longer than pf's limit of 15 characters/],
    ['a leading digit', b64(answer('0em')), /must start with a letter/],
    [
      'binary',
      b64(Buffer.concat([Buffer.from('  interface: em\u001b[31m'), Buffer.from([0xff, 0xfe]), Buffer.from('\n')])),
      /contains/,
    ],
  ])("%s is refused as an invalid interface, naming route's answer", async (_name, output, why) => {
    sim = await createSim({ routeIf: 'em0' });
    const route = createRouteTable({ program: ROUTE_SIM, env: { ...sim.env, PFCTL_SIM_ROUTE_OUTPUT_B64: output } });
    const found = await route.defaultRoute('inet');
    expect(found.kind).toBe('invalid-interface');
    if (found.kind !== 'invalid-interface') return;
    expect(found.message).toMatch(/^\S+ -n get default answered with an interface pfexpose cannot put in a pf rule: /);
    expect(found.message).toMatch(why);
    // Never a raw control character in a message.
    // eslint-disable-next-line no-control-regex
    expect(found.message).not.toMatch(/[\u0000-\u001f\u007f]/);
  });

  it.each([
    ['empty output', b64('')],
    ['an empty interface line', b64('  interface: \n')],
    ['no interface line at all', b64('route to: default\ngateway: 192.0.2.1\n')],
    ['two words', b64('  interface: em0 em1\n')],
  ])('%s is a failure that says route printed no usable interface line', async (_name, output) => {
    sim = await createSim({ routeIf: 'em0' });
    const route = createRouteTable({ program: ROUTE_SIM, env: { ...sim.env, PFCTL_SIM_ROUTE_OUTPUT_B64: output } });
    expect(await route.defaultRoute('inet')).toMatchObject({
      kind: 'failed',
      message: expect.stringMatching(/printed no "interface:" line/) as unknown,
    });
  });
});
