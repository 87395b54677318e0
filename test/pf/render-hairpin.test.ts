// The hairpin decision (docs/reference/rules.md, "Hairpin"): an exposure on every address redirects whatever reaches
// the host's own addresses, from outside or from its containers alike, and pfexpose writes no nat
// for connections between containers of one network. Its rules: an rdr on no interface, to (self).
import { describe, expect, it } from 'vitest';
import { renderRuleset } from '../../src/pf/render-ruleset.js';
import { exposure } from './exposure-fixture.js';

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

describe('every-address exposures (hairpin)', () => {
  const everyAddress = exposure({ interface: null, hostAddress: null, label: 'web:tcp:self:8080' });

  it('renders the rdr without `on`, to (self), for every source', () => {
    const rdrs = lines(renderRuleset([everyAddress], { dialect: 'freebsd', anchor: 'pfexpose' })).filter((line) =>
      line.startsWith('rdr '),
    );
    expect(rdrs).toEqual(['rdr inet proto tcp from any to (self) port = 8080 tag pfexpose -> 10.13.37.2 port 80']);
  });

  it('names no interface in any rule and writes no nat, also beside an exposure on an interface', () => {
    const rules = lines(renderRuleset([everyAddress], { dialect: 'freebsd', anchor: 'pfexpose' }));
    expect(rules.length).toBeGreaterThan(1);
    for (const line of rules) expect(line).not.toMatch(/ on /);
    const withInterface = lines(
      renderRuleset(
        [
          everyAddress,
          exposure({
            hostPort: { start: 9090, end: 9090 },
            containerPort: { start: 9090, end: 9090 },
            label: 'web:tcp:em0:9090',
          }),
        ],
        { dialect: 'freebsd', anchor: 'pfexpose' },
      ),
    );
    expect(withInterface.filter((line) => /^(no )?(nat|binat)\b/.test(line))).toEqual([]);
    expect(withInterface).toContain(
      'rdr on em0 inet proto tcp from any to (em0) port = 9090 tag pfexpose -> 10.13.37.2 port 9090',
    );
  });
});
