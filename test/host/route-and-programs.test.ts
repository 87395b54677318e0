// The route adapter's parser and where each program (pfctl, route) and the state directory come
// from. pfctl's own output parsers are tested in test/pf/pfctl-output.test.ts.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { resolvePfctlProgram } from '../../src/host/pfctl.js';
import { resolveRouteProgram } from '../../src/host/route.js';
import { parseRouteGet } from '../../src/model/default-route.js';
import { resolveStateDir } from '../../src/apply/state-dir.js';

describe('parseRouteGet', () => {
  const FOUND = `   route to: default
destination: default
       mask: default
    gateway: 192.0.2.1
        fib: 0
  interface: vtnet0
      flags: <UP,GATEWAY,DONE,STATIC>
 recvpipe  sendpipe  ssthresh  rtt,msec    mtu        weight    expire
       0         0         0         0      1500         1         0
`;
  it.each([
    ['found', { given: FOUND, want: { kind: 'found', interface: 'vtnet0', gateway: '192.0.2.1' } }],
    ['netlink: no route', { given: 'route: route has not been found\n', want: { kind: 'no-route' } }],
    [
      'routing socket: no route',
      { given: 'route: writing to routing socket: No such process\n', want: { kind: 'no-route' } },
    ],
    ['old wording', { given: 'default: not in table\n', want: { kind: 'no-route' } }],
    ['garbage', { given: 'route: bad keyword: foo\n', want: { kind: 'unparsed' } }],
  ])('%s', (_name, { given, want }) => {
    expect(parseRouteGet(given)).toEqual(want);
  });

  it('never throws on any text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(['found', 'no-route', 'unparsed']).toContain(parseRouteGet(text).kind);
      }),
    );
  });
});

describe('names and programs', () => {
  it('flag, then environment, then default', () => {
    expect(resolvePfctlProgram('/opt/pfctl', { PFEXPOSE_PFCTL: '/env/pfctl' })).toBe('/opt/pfctl');
    expect(resolvePfctlProgram(undefined, { PFEXPOSE_PFCTL: '/env/pfctl' })).toBe('/env/pfctl');
    expect(resolvePfctlProgram(undefined, { PFEXPOSE_PFCTL: '' })).toBe('pfctl');
    expect(resolveRouteProgram(undefined, { PFEXPOSE_ROUTE: '/env/route' })).toBe('/env/route');
    expect(resolveRouteProgram('/r', {})).toBe('/r');
    expect(resolveRouteProgram(undefined, {})).toBe('route');
    expect(resolveStateDir(undefined, {})).toBe('/var/db/pfexpose');
    expect(resolveStateDir(undefined, { PFEXPOSE_STATE_DIR: '/tmp/s' })).toBe('/tmp/s');
    expect(resolveStateDir('/flag', { PFEXPOSE_STATE_DIR: '/tmp/s' })).toBe('/flag');
  });
});
