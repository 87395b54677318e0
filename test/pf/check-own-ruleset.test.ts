// The shapes pfexpose writes are its own; anything else a record or pf's printed output may hold is
// foreign and never loaded from a record (see src/pf/check-own-ruleset.ts).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkOwnRuleset, describeForeign } from '../../src/pf/check-own-ruleset.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/compile/${name}`, import.meta.url), 'utf8');

const RDR = 'rdr on em0 inet proto tcp from any to (em0) port = 8080 tag pfexpose -> 10.13.37.10 port 8080';
const PASS =
  'pass in quick on em0 inet proto tcp from any to 10.13.37.10 port = 8080 flags S/SA keep state label "web:tcp:em0:8080" tagged pfexpose';
const OUT =
  'pass out quick inet proto tcp from any to 10.13.37.10 port = 8080 flags S/SA keep state label "web:tcp:em0:8080" tagged pfexpose';

describe('checkOwnRuleset', () => {
  it.each([
    'examples.freebsd.conf',
    'examples.openbsd.conf',
    'syntax-docker.conf',
    'syntax-kleene.conf',
    'syntax-long.conf',
  ])('accepts what the compiler wrote: %s', (name) => {
    const checked = checkOwnRuleset(fixture(name), 'pfexpose');
    expect(checked).toMatchObject({ ok: true });
    expect(checked.ok && checked.rules).toBeGreaterThan(0);
  });

  it.each([
    ['the empty ruleset', ''],
    [
      'pfctl printed form with numbering and service names',
      `@0 ${RDR}\n@1 ${PASS.replace('port = 8080 flags', 'port = http-alt flags')}\n  [ Evaluations: 0 ]\n`,
    ],
    [
      'udp without flags, from one network',
      'pass in quick inet proto udp from 192.0.2.0/24 to 10.0.0.5 port = 53 keep state label "dns:udp:self:53" tagged pfexpose_0123456789ab',
    ],
    [
      'a pass rule without explicit keep state (pfctl adds it on load)',
      'pass in quick inet proto tcp from any to 10.0.0.5 port = 53 label "dns:tcp:self:53" tagged pfexpose',
    ],
    ['the outbound leg', `${RDR}\n${PASS}\n${OUT}`],
    [
      'an outbound udp leg from one network, with its own tag',
      'pass out quick inet6 proto udp from 2001:db8::/32 to fd00::5 port = 53 keep state label "dns:udp:self:53" tagged pfexpose_0123456789ab',
    ],
  ])('accepts %s', (_name, text) => {
    expect(checkOwnRuleset(text, 'pfexpose')).toMatchObject({ ok: true });
  });

  it.each([
    ['pass in quick all', 'pass in quick all', 1],
    ['pass in quick (a truncated rule)', `${RDR}\npass in quick`, 2],
    [
      'a truncated pass rule missing its label and tag',
      `${RDR}\npass in quick on em0 inet proto tcp from any to 10.13.37.10 port = 8080`,
      2,
    ],
    [
      'a pass rule with a label but no tag',
      'pass in quick inet proto tcp from any to 10.0.0.5 port = 22 flags S/SA keep state label "x"',
      1,
    ],
    [
      'a negated tag',
      'pass in quick inet proto tcp from any to 10.0.0.5 port = 22 flags S/SA keep state label "x" ! tagged pfexpose',
      1,
    ],
    [
      'another tag',
      'pass in quick inet proto tcp from any to 10.0.0.5 port = 22 flags S/SA keep state label "x" tagged mine',
      1,
    ],
    [
      'a network as destination',
      'pass in quick inet proto tcp from any to 10.0.0.0/8 port = 22 flags S/SA keep state label "x" tagged pfexpose',
      1,
    ],
    [
      'any port',
      'pass in quick inet proto tcp from any to 10.0.0.5 flags S/SA keep state label "x" tagged pfexpose',
      1,
    ],
    ['block', 'block drop in quick all', 1],
    ['pass out quick all', 'pass out quick all', 1],
    [
      'an untagged pass out',
      'pass out quick inet proto tcp from any to 10.0.0.5 port = 22 flags S/SA keep state label "x"',
      1,
    ],
    [
      'a pass out with a negated tag',
      'pass out quick inet proto tcp from any to 10.0.0.5 port = 22 flags S/SA keep state label "x" ! tagged pfexpose',
      1,
    ],
    [
      'a pass out with state options',
      'pass out quick inet proto tcp from any to 10.0.0.5 port = 22 flags S/SA keep state (max 10) label "x" tagged pfexpose',
      1,
    ],
    [
      'a pass out with an extra option',
      'pass out quick inet proto tcp from any to 10.0.0.5 port = 22 flags S/SA keep state allow-opts label "x" tagged pfexpose',
      1,
    ],
    [
      'a pass out on an interface',
      'pass out quick on bridge0 inet proto tcp from any to 10.0.0.5 port = 22 flags S/SA keep state label "x" tagged pfexpose',
      1,
    ],
    [
      'a pass out without quick',
      'pass out inet proto tcp from any to 10.0.0.5 port = 22 flags S/SA keep state label "x" tagged pfexpose',
      1,
    ],
    [
      'a pass out to a network',
      'pass out quick inet proto tcp from any to 10.0.0.0/8 port = 22 flags S/SA keep state label "x" tagged pfexpose',
      1,
    ],
    [
      'a pass out to any port',
      'pass out quick inet proto tcp from any to 10.0.0.5 flags S/SA keep state label "x" tagged pfexpose',
      1,
    ],
    [
      'a pass out that logs',
      'pass out log quick inet proto tcp from any to 10.0.0.5 port = 22 flags S/SA keep state label "x" tagged pfexpose',
      1,
    ],
    [
      'a pass out without a label',
      'pass out quick inet proto tcp from any to 10.0.0.5 port = 22 flags S/SA keep state tagged pfexpose',
      1,
    ],
    [
      'a pass out that sets a tag',
      'pass out quick inet proto tcp from any to 10.0.0.5 port = 22 flags S/SA keep state label "x" tag other tagged pfexpose',
      1,
    ],
    [
      'a pass in/out without direction',
      'pass quick inet proto tcp from any to 10.0.0.5 port = 22 flags S/SA keep state label "x" tagged pfexpose',
      1,
    ],
    ['rdr pass', 'rdr pass inet proto tcp from any to (self) port = 22 tag pfexpose -> 10.0.0.5 port 22', 1],
    ['an untagged rdr', 'rdr inet proto tcp from any to (self) port = 22 -> 10.0.0.5 port 22', 1],
    ['nat', 'nat on em0 inet from 10.0.0.0/8 to any -> (em0)', 1],
    ['an anchor', 'anchor "x" all', 1],
    ['garbage', 'this is not pf', 1],
  ])('refuses %s', (_name, text, line) => {
    const checked = checkOwnRuleset(text, 'pfexpose');
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      expect(checked.foreign.map((f) => f.line)).toContain(line);
      expect(describeForeign(checked.foreign)).toContain(`line ${line}`);
    }
  });

  it('refuses a ruleset compiled for another anchor, and a name that is no anchor', () => {
    const text = fixture('examples.freebsd.conf');
    expect(checkOwnRuleset(text, 'other')).toMatchObject({ ok: false, foreign: [{ line: 1 }] });
    expect(checkOwnRuleset('', '')).toMatchObject({ ok: false });
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const checked = checkOwnRuleset(text, 'pfexpose');
        expect(typeof checked.ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });
});
