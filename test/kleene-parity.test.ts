// Kleene's rule shapes (kleened's network.ex, as described in shared/reference/kleene.md) and
// pfexpose's for the same container: the same redirects and the same passes, minus Kleene's bugs.
// Both sides go through pfctl's load-and-print normalisation, so the comparison is what pf sees.
import { describe, expect, it } from 'vitest';
import { compileSources } from '../src/compile/compile.js';
import { normalizeAsLoaded, parsePfctlOutput, printRule } from '../src/pf/parse-pfctl.js';

function loaded(text: string): string[] {
  const parsed = parsePfctlOutput(text);
  expect(parsed.diagnostics).toEqual([]);
  return normalizeAsLoaded(parsed.rules).map((r) => printRule(r, { ports: 'numeric' }));
}

function compiled(manifest: string): string[] {
  const outcome = compileSources(
    [{ file: 'm.yaml', text: manifest }],
    { dialect: 'freebsd', frozen: false, anchor: 'pfexpose' },
    null,
  );
  expect(outcome.diagnostics).toEqual([]);
  return loaded(outcome.ruleset);
}

/**
 * pfexpose's rules differ from Kleene's in four deliberate ways: pass rules match inbound
 * traffic only (`in`) and carry a label for per-exposure counters, rdr rules tag what they
 * redirect while pass rules admit only tagged packets (so a pass rule never lets through traffic
 * sent to the container's address directly), and each pass in rule has a `pass out` twin for the
 * forwarded leg towards the container (compared apart). Remove these to compare the rest.
 */
function withoutDeliberateDifferences(line: string): string {
  return line
    .replace(/^pass in quick /, 'pass quick ')
    .replace(/ label "[^"]*" tagged pfexpose$/, '')
    .replace(/ tag pfexpose -> /, ' -> ');
}

/**
 * Kleene's third rule (`pass quick on $kleenet_network_interfaces ...`, here with its macro
 * expanded to kleene0) lets containers of every Kleene network reach the container port directly.
 * Without `hosts.NAME.networks` pfexpose writes no such rule: the manifests name no container
 * network. With it, the rule is there (see the second describe below).
 */
const CROSS_NETWORK = /^pass quick on kleene0 /;

const cases: [string, { manifest: string; kleene: string }][] = [
  [
    'em0 8080 -> 80/tcp (the reference example)',
    {
      manifest: 'version: 1\ncontainers:\n  web:\n    ip: 10.13.37.2\n    ports: [em0:8080:80]\n',
      kleene: [
        'rdr on em0 inet proto tcp from any to (em0) port 8080 -> 10.13.37.2 port 80',
        'pass quick on em0 inet proto tcp from any to 10.13.37.2 port 80',
        'pass quick on kleene0 inet proto tcp from any to 10.13.37.2 port 80',
      ].join('\n'),
    },
  ],
  [
    'udp',
    {
      manifest: 'version: 1\ncontainers:\n  dns:\n    ip: 10.13.37.3\n    ports: [em0:5353:53/udp]\n',
      kleene: [
        'rdr on em0 inet proto udp from any to (em0) port 5353 -> 10.13.37.3 port 53',
        'pass quick on em0 inet proto udp from any to 10.13.37.3 port 53',
        // Kleene's cross-network rule hard-codes tcp, even for a udp port.
        'pass quick on kleene0 inet proto tcp from any to 10.13.37.3 port 53',
      ].join('\n'),
    },
  ],
  [
    'a one-to-one range (Kleene API: host 8080:8090, container 80:*)',
    {
      manifest: 'version: 1\ncontainers:\n  web:\n    ip: 10.13.37.2\n    ports: [em0:8080-8090:80-90]\n',
      kleene: [
        'rdr on em0 inet proto tcp from any to (em0) port 8080:8090 -> 10.13.37.2 port 80:*',
        'pass quick on em0 inet proto tcp from any to 10.13.37.2 port 80:90',
        'pass quick on kleene0 inet proto tcp from any to 10.13.37.2 port 80:90',
      ].join('\n'),
    },
  ],
  [
    'both families: v4 rules, then v6 rules to the IPv6 address',
    {
      manifest: 'version: 1\ncontainers:\n  web:\n    ip: 10.13.37.2\n    ip6: fd00::2\n    ports: [em0:8080:80]\n',
      kleene: [
        'rdr on em0 inet proto tcp from any to (em0) port 8080 -> 10.13.37.2 port 80',
        'rdr on em0 inet6 proto tcp from any to (em0) port 8080 -> fd00::2 port 80',
        'pass quick on em0 inet proto tcp from any to 10.13.37.2 port 80',
        'pass quick on em0 inet6 proto tcp from any to fd00::2 port 80',
        'pass quick on kleene0 inet proto tcp from any to 10.13.37.2 port 80',
        'pass quick on kleene0 inet6 proto tcp from any to fd00::2 port 80',
      ].join('\n'),
    },
  ],
];

describe('Kleene parity', () => {
  it.each(cases)('%s', (_name, { manifest, kleene }) => {
    const ours = compiled(manifest);
    const all = loaded(kleene);
    const crossNetwork = all.filter((l) => CROSS_NETWORK.test(l));
    const theirs = all.filter((l) => !CROSS_NETWORK.test(l));
    const rdr = (lines: string[]) => lines.filter((l) => l.startsWith('rdr ')).map(withoutDeliberateDifferences);
    const pass = (lines: string[]) =>
      lines.filter((l) => l.startsWith('pass ') && !l.startsWith('pass out ')).map(withoutDeliberateDifferences);
    expect(rdr(ours)).toEqual(rdr(theirs));
    expect(pass(ours)).toEqual(pass(theirs));
    // And the differences are exactly the deliberate ones: inbound only, labelled, tagged, never
    // `rdr pass`, and no cross-network rule.
    expect(crossNetwork.length).toBeGreaterThan(0);
    const passIn = ours.filter((l) => l.startsWith('pass in '));
    for (const line of passIn) expect(line).toMatch(/^pass in quick .* label "[^"]+" tagged pfexpose$/);
    // The forwarded leg: the same rule, outbound, on no interface.
    const passOut = ours.filter((l) => l.startsWith('pass out '));
    expect(passOut.sort()).toEqual(passIn.map((l) => l.replace(/^pass in quick (on \S+ )?/, 'pass out quick ')).sort());
    expect(ours.filter((l) => l.startsWith('pass ')).length).toBe(passIn.length + passOut.length);
    for (const line of ours.filter((l) => l.startsWith('rdr '))) expect(line).toMatch(/ tag pfexpose -> /);
    expect(ours.join('\n')).not.toMatch(/rdr pass|kleene0/);
  });
});

/**
 * With the host's container networks declared (`hosts.h.networks`, here kleene0's subnet
 * 10.13.37.0/24), Kleene's third rule has its equivalent: for every published entry, a pass rule
 * from the network to the container port. The equivalence: Kleene's `on kleene0 ... from any`
 * becomes `from 10.13.37.0/24` on no interface (pfexpose does not know the network's interface;
 * the network's addresses say the same), the rule keeps state and carries a label of its own, and
 * the protocol is the entry's own where Kleene writes tcp for every entry.
 */
function kleeneCrossNetworkAsPfexpose(line: string, subnet: string, protocol: string): string {
  return line
    .replace(/^pass quick on kleene0 /, 'pass quick ')
    .replace(/ proto tcp /, ` proto ${protocol} `)
    .replace(/ from any /, ` from ${subnet} `)
    .replace(/ port (\d+)$/, ' port = $1');
}

/** pfctl adds `flags S/SA keep state` to tcp rules and `keep state` to others: compared without them. */
function stateless(line: string): string {
  return line.replace(/ flags S\/SA/, '').replace(/ keep state$/, '');
}

describe("Kleene parity with the host's container networks declared", () => {
  const withNetworks = (manifest: string): string =>
    manifest.replace('version: 1\n', 'version: 1\nhost: h\nhosts:\n  h:\n    networks: [10.13.37.0/24]\n');
  const single = cases.filter(([name]) => name !== 'a one-to-one range (Kleene API: host 8080:8090, container 80:*)');
  it.each(single.filter(([name]) => !name.startsWith('both families')))('%s', (_name, { manifest, kleene }) => {
    const ours = compiled(withNetworks(manifest));
    const protocol = /\/udp\]/.test(manifest) ? 'udp' : 'tcp';
    const theirs = loaded(kleene)
      .filter((l) => CROSS_NETWORK.test(l))
      .map((l) => stateless(kleeneCrossNetworkAsPfexpose(l, '10.13.37.0/24', protocol)));
    const reach = ours
      .filter((l) => l.startsWith('pass quick '))
      .map((l) => stateless(l.replace(/ label "net:[^"]+"$/, '')));
    expect(reach).toEqual(theirs);
    // The rest is what it was without networks.
    expect(ours.filter((l) => !l.startsWith('pass quick '))).toEqual(compiled(manifest));
  });
});
