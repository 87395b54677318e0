// A stand-in for route(8) in the tests: `route -n get default` and `route -n get -inet6 default`
// answer from environment variables, so a test can give the host any default route, or none.
//   PFCTL_SIM_ROUTE_IF    IPv4 default route interface (unset or empty: no default route)
//   PFCTL_SIM_ROUTE6_IF   IPv6 default route interface (unset or empty: no default route)
//   PFCTL_SIM_ROUTE_HANG_MS  sleep this long first (for timeout tests)
//   PFCTL_SIM_ROUTE_OUTPUT_B64  set (even empty): print these bytes (base64) on stdout, exit 0:
//                         a route that prints garbage (`interface: self`, binary, ...)
// With PFCTL_SIM_DIR set, each run is appended to $PFCTL_SIM_DIR/calls.log like pfctl's.
import { Buffer } from 'node:buffer';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export async function main(argv) {
  const dir = process.env.PFCTL_SIM_DIR;
  if (dir !== undefined && dir !== '') {
    appendFileSync(
      join(dir, 'calls.log'),
      `${JSON.stringify({ time: new Date().toISOString(), pid: process.pid, argv: ['route', ...argv] })}\n`,
    );
  }
  const hang = Number(process.env.PFCTL_SIM_ROUTE_HANG_MS ?? 0);
  if (hang > 0) await new Promise((resolve) => setTimeout(resolve, hang));
  const args = argv.join(' ');
  const output = process.env.PFCTL_SIM_ROUTE_OUTPUT_B64;
  if (output !== undefined) {
    process.stdout.write(Buffer.from(output, 'base64'));
    return;
  }
  let family;
  if (args === '-n get default') family = 'inet';
  else if (args === '-n get -inet6 default') family = 'inet6';
  else {
    process.stderr.write(`route-sim: unsupported arguments: ${args}\n`);
    process.exitCode = 2;
    return;
  }
  const iface = process.env[family === 'inet' ? 'PFCTL_SIM_ROUTE_IF' : 'PFCTL_SIM_ROUTE6_IF'];
  if (iface === undefined || iface === '') {
    process.stderr.write('route: route has not been found\n');
    process.exitCode = 1;
    return;
  }
  const gateway = family === 'inet' ? '192.0.2.1' : 'fe80::1%' + iface;
  process.stdout.write(
    [
      '   route to: default',
      'destination: default',
      '       mask: default',
      `    gateway: ${gateway}`,
      '        fib: 0',
      `  interface: ${iface}`,
      '      flags: <UP,GATEWAY,DONE,STATIC>',
      ' recvpipe  sendpipe  ssthresh  rtt,msec    mtu        weight    expire',
      '       0         0         0         0      1500         1         0 ',
      '',
    ].join('\n'),
  );
}
