// Kleene's rule shapes (kleened's network.ex, as described in shared/reference/kleene.md) and
// pfexpose's for the same container: the same redirects and the same passes, minus Kleene's bugs.
// Both sides go through pfctl's load-and-print normalisation, so the comparison is what pf sees.
import { describe, expect, it } from 'vitest';
import { compileSources } from '../src/cli/pipeline.js';
import { normalizeAsLoaded, parsePfctlOutput, printRule } from '../src/pf/parse-pfctl.js';

function loaded(text: string): string[] {
  const parsed = parsePfctlOutput(text);
  expect(parsed.diagnostics).toEqual([]);
  return normalizeAsLoaded(parsed.rules).map((r) => printRule(r, { ports: 'numeric' }));
}

function compiled(manifest: string): string[] {
  const outcome = compileSources([{ file: 'm.yaml', text: manifest }], { dialect: 'freebsd', frozen: false, anchor: 'pfexpose' }, null);
  expect(outcome.diagnostics).toEqual([]);
  return loaded(outcome.ruleset);
}

/**
 * pfexpose's pass rules differ from Kleene's in two deliberate ways: they match inbound traffic
 * only (`in`) and carry a label for per-exposure counters. Remove both to compare the rest.
 */
function withoutDirectionAndLabel(line: string): string {
  return line.replace(/^pass in quick /, 'pass quick ').replace(/ label "[^"]*"$/, '');
}

const cases: [string, { manifest: string; kleene: string }][] = [
  [
    'em0 8080 -> 80/tcp (the reference example)',
    {
      manifest: 'version: 1\ncontainers:\n  web:\n    ip: 10.13.37.2\n    ports: [em0:8080:80]\n',
      kleene: [
        'rdr on em0 inet proto tcp from any to (em0) port 8080 -> 10.13.37.2 port 80',
        'pass quick on em0 inet proto tcp from any to 10.13.37.2 port 80',
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
      ].join('\n'),
    },
  ],
];

describe('Kleene parity', () => {
  it.each(cases)('%s', (_name, { manifest, kleene }) => {
    const ours = compiled(manifest);
    const theirs = loaded(kleene);
    const rdr = (lines: string[]) => lines.filter((l) => l.startsWith('rdr '));
    const pass = (lines: string[]) => lines.filter((l) => l.startsWith('pass ')).map(withoutDirectionAndLabel);
    expect(rdr(ours)).toEqual(rdr(theirs));
    expect(pass(ours)).toEqual(pass(theirs));
    // And the differences are exactly the deliberate ones: inbound only, labelled, never `rdr pass`.
    for (const line of ours.filter((l) => l.startsWith('pass '))) expect(line).toMatch(/^pass in quick .* label "[^"]+"$/);
    expect(ours.join('\n')).not.toMatch(/rdr pass/);
  });
});
