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
    const slow = createRouteTable({ program: ROUTE_SIM, env: { ...sim.env, PFCTL_SIM_ROUTE_HANG_MS: '60000' }, timeoutMs: 500 });
    expect(await slow.defaultRoute('inet')).toMatchObject({ kind: 'timed-out' });
  });
});
