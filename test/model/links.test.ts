// Links (Docker's --link) and container networks (Kleene's): the diagnostics, the rules in pfctl's
// printed form, what the own-ruleset check accepts, and how a plan reads them back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSources } from '../../src/compile/compile.js';
import type { CompileOutcome } from '../../src/compile/options.js';
import { checkOwnRuleset } from '../../src/pf/check-own-ruleset.js';
import { normalizeAsLoaded, parsePfctlOutput, printRule } from '../../src/pf/parse-pfctl.js';
import { rulesetRules } from '../../src/pf/render-ruleset.js';
import { deployedFromText, desiredState, planChanges } from '../../src/plan/plan-changes.js';

function compile(text: string, options: { dialect?: 'freebsd' | 'openbsd'; host?: string } = {}): CompileOutcome {
  return compileSources(
    [{ file: 'm.yaml', text }],
    { dialect: options.dialect ?? 'freebsd', frozen: false, anchor: 'pfexpose', gateway: 'em0', host: options.host },
    null,
  );
}

function ruleLines(outcome: CompileOutcome): string[] {
  return outcome.ruleset.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

const SEED = `version: 1
syntax: docker
containers:
  server:
    ip: 172.0.17.2
    expose: ["6379-6381", "53/udp"]
    ports: ["8080:80"]
  client:
    ip: 172.0.17.3
    links: ["server:db-docker"]
  third:
    ip: 172.0.17.4
`;

describe('links: the rules', () => {
  it('let the client reach the exposed ports and the published container port, and nothing else', () => {
    const outcome = compile(SEED);
    expect(outcome.diagnostics).toEqual([]);
    const links = ruleLines(outcome).filter((l) => l.startsWith('pass quick '));
    expect(links).toEqual([
      'pass quick inet proto tcp from 172.0.17.3 to 172.0.17.2 port = 80 flags S/SA keep state label "link:client:db-docker:tcp:80"',
      'pass quick inet proto tcp from 172.0.17.3 to 172.0.17.2 port 6379:6381 flags S/SA keep state label "link:client:db-docker:tcp:6379-6381"',
      'pass quick inet proto udp from 172.0.17.3 to 172.0.17.2 port = 53 keep state label "link:client:db-docker:udp:53"',
    ]);
    // A container without links gets no rule between containers, and is named by none.
    expect(outcome.ruleset).not.toContain('172.0.17.4');
    expect(outcome.reaches.map((r) => r.client)).toEqual(['client', 'client', 'client']);
  });

  it('are in pfctl printed form: loading and printing them again changes nothing', () => {
    const lines = ruleLines(compile(SEED));
    const parsed = parsePfctlOutput(lines.join('\n'));
    expect(parsed.diagnostics).toEqual([]);
    expect(normalizeAsLoaded(parsed.rules).map((r) => printRule(r, { ports: 'numeric' }))).toEqual(lines);
    // The fast printer and the rule objects agree (reach rules included).
    const outcome = compile(SEED);
    const objects = rulesetRules(outcome.exposures, 'freebsd', outcome.reaches).map((r) =>
      printRule(r, { ports: 'numeric' }),
    );
    expect(objects).toEqual(lines.filter((l) => !l.startsWith('#')));
  });

  it('write one rule per family both containers have, under one label', () => {
    const outcome = compile(`version: 1
containers:
  db:
    ip: 10.0.0.2
    ip6: fd00::2
    expose: [5432]
  app:
    ip: 10.0.0.3
    ip6: fd00::3
    links: [db]
  v4only:
    ip: 10.0.0.4
    links: [db]
`);
    expect(outcome.diagnostics).toEqual([]);
    expect(ruleLines(outcome)).toEqual([
      'pass quick inet proto tcp from 10.0.0.3 to 10.0.0.2 port = 5432 flags S/SA keep state label "link:app:db:tcp:5432"',
      'pass quick inet proto tcp from 10.0.0.4 to 10.0.0.2 port = 5432 flags S/SA keep state label "link:v4only:db:tcp:5432"',
      'pass quick inet6 proto tcp from fd00::3 to fd00::2 port = 5432 flags S/SA keep state label "link:app:db:tcp:5432"',
    ]);
  });

  it('OpenBSD dialect: the same rule without keep state (OpenBSD prints none)', () => {
    const lines = ruleLines(compile(SEED, { dialect: 'openbsd' })).filter((l) => l.startsWith('pass quick '));
    expect(lines[0]).toBe(
      'pass quick inet proto tcp from 172.0.17.3 to 172.0.17.2 port = 80 flags S/SA label "link:client:db-docker:tcp:80"',
    );
  });

  it('labels too long for pf are hashed, at most 63 characters, and stay distinct', () => {
    const alias = 'a'.repeat(60);
    const outcome = compile(`version: 1
containers:
  server:
    ip: 10.0.0.2
    expose: [80, 81/udp]
  client:
    ip: 10.0.0.3
    links: ["server:${alias}"]
`);
    expect(outcome.diagnostics).toEqual([]);
    const labels = [...new Set(outcome.reaches.map((r) => r.label))];
    expect(labels).toHaveLength(2);
    for (const label of labels) expect(label).toMatch(/^link:~[0-9a-f]{24}$/);
  });

  it('are the same whatever the order of the links and containers (determinism)', () => {
    const containers = [
      '  s1:\n    ip: 10.0.0.2\n    expose: [80, 443, 53/udp]\n',
      '  s2:\n    ip: 10.0.0.5\n    expose: ["8000-8002"]\n    ports: ["em0:9000:8001"]\n',
      '  c1:\n    ip: 10.0.0.3\n    links: [LINKS]\n',
      '  c2:\n    ip: 10.0.0.4\n    links: [s2:web]\n',
    ];
    const links = ['s1', 's2', 's1:other'];
    const reference = compile(`version: 1\ncontainers:\n${containers.join('').replace('LINKS', links.join(', '))}`);
    expect(reference.diagnostics).toEqual([]);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(containers, { minLength: 4 }),
        fc.shuffledSubarray(links, { minLength: 3 }),
        (c, l) => {
          const text = `version: 1\ncontainers:\n${c.join('').replace('LINKS', l.join(', '))}`;
          expect(compile(text).ruleset).toBe(reference.ruleset);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('links: diagnostics', () => {
  const diagnostics = (text: string, host?: string) =>
    compile(text, host === undefined ? {} : { host }).diagnostics.map((d) => ({
      code: d.code,
      severity: d.severity,
      line: d.line,
      column: d.column,
      message: d.message,
    }));

  it('a link to a container that does not exist is located, with a suggestion', () => {
    const found = diagnostics(
      'version: 1\ncontainers:\n  db:\n    ip: 10.0.0.2\n  app:\n    ip: 10.0.0.3\n    links: [dv]\n',
    );
    expect(found).toEqual([
      {
        code: 'link-unknown-container',
        severity: 'error',
        line: 7,
        column: 13,
        message: 'container app links to dv, which no manifest declares; did you mean db?',
      },
    ]);
  });

  it('`links: [nosuch]` and a link to itself have codes of their own', () => {
    const found = diagnostics(
      'version: 1\ncontainers:\n  app:\n    ip: 10.0.0.3\n    expose: [80]\n    links: [nosuch, "app:me"]\n',
    );
    expect(found.map((d) => [d.code, d.line, d.column])).toEqual([
      ['link-unknown-container', 6, 13],
      ['link-to-itself', 6, 21],
    ]);
  });

  it('two links under one alias, a server on another host, no common family, nothing exposed', () => {
    const text = `version: 1
hosts:
  a: {}
  b: {}
containers:
  db:
    host: a
    ip: 10.0.0.2
    expose: [5432]
  cache:
    host: a
    ip: 10.0.0.5
  v6:
    host: a
    ip6: fd00::6
    expose: [80]
  remote:
    host: b
    ip: 10.0.1.2
    expose: [80]
  app:
    host: a
    ip: 10.0.0.3
    links: ["db:x", "v6:x", remote, v6, cache]
`;
    const found = diagnostics(text, 'a');
    expect(found.map((d) => [d.code, d.severity, d.line, d.column])).toEqual([
      ['link-alias-duplicate', 'error', 24, 21],
      ['link-other-host', 'error', 24, 29],
      ['link-no-common-family', 'error', 24, 37],
      ['link-nothing-exposed', 'warning', 24, 41],
    ]);
    expect(found[1]?.message).toContain('container remote runs on host b (m.yaml:17:3)');
  });

  it('aliases that would set the same variables (db-1, DB_1) are duplicates', () => {
    const found = diagnostics(
      'version: 1\ncontainers:\n  db:\n    ip: 10.0.0.2\n    expose: [80]\n  app:\n    ip: 10.0.0.3\n    links: ["db:db-1", "db:DB_1"]\n',
    );
    expect(found.map((d) => [d.code, d.line, d.column])).toEqual([['link-alias-duplicate', 8, 24]]);
    expect(found[0]?.message).toContain('the alias db-1, whose variables (DB_1_*) DB_1 would set again');
  });

  it('the schema refuses a malformed link and an alias Docker would not take', () => {
    for (const link of ['"db:"', '"-db"', '"db:a:b"', '{container: db, name: x}', '{alias: x}', '"db:al ias"']) {
      const outcome = compile(
        `version: 1\ncontainers:\n  db:\n    ip: 10.0.0.2\n  app:\n    ip: 10.0.0.3\n    links: [${link}]\n`,
      );
      expect(outcome.ok, link).toBe(false);
      expect(outcome.diagnostics[0]?.line, link).toBe(7);
    }
    const object = compile(
      'version: 1\ncontainers:\n  db:\n    ip: 10.0.0.2\n    expose: [80]\n  app:\n    ip: 10.0.0.3\n    links: [{container: db, alias: database}]\n',
    );
    expect(object.diagnostics).toEqual([]);
    expect(object.reaches[0]?.label).toBe('link:app:database:tcp:80');
  });
});

describe('container networks (hosts.NAME.networks)', () => {
  const HOST = `version: 1
host: h
hosts:
  h:
    gateway: em0
    networks: [10.13.37.0/24, 10.13.38.0/24]
containers:
  dns:
    ip: 10.13.37.5
    ports: ["53/udp"]
`;

  it("open every published port to every network of its family, with the entry's protocol", () => {
    const outcome = compile(HOST);
    expect(outcome.diagnostics).toEqual([]);
    expect(ruleLines(outcome).filter((l) => l.startsWith('pass quick '))).toEqual([
      'pass quick inet proto udp from 10.13.37.0/24 to 10.13.37.5 port = 53 keep state label "net:dns:udp:53"',
      'pass quick inet proto udp from 10.13.38.0/24 to 10.13.37.5 port = 53 keep state label "net:dns:udp:53"',
    ]);
  });

  it('write nothing without the key, and nothing for a family the container lacks', () => {
    expect(compile(HOST.replace('    networks: [10.13.37.0/24, 10.13.38.0/24]\n', '')).reaches).toEqual([]);
    expect(compile(HOST.replace('10.13.37.0/24, 10.13.38.0/24', 'fd00:13:37::/64')).reaches).toEqual([]);
  });

  it('refuse a network with host bits, without a prefix, or every address', () => {
    for (const [network, text] of [
      ['10.13.37.1/24', 'has bits set past its prefix: write 10.13.37.0/24'],
      ['0.0.0.0/0', 'is every address'],
    ] as const) {
      const outcome = compile(HOST.replace('10.13.37.0/24, 10.13.38.0/24', network));
      expect(outcome.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([
        ['invalid-container-network', 6, 16],
      ]);
      expect(outcome.diagnostics[0]?.message).toContain(text);
    }
    expect(compile(HOST.replace('10.13.37.0/24, 10.13.38.0/24', '10.13.37.0')).ok).toBe(false);
    const twice = compile(HOST.replace('10.13.37.0/24, 10.13.38.0/24', '10.13.37.0/24, 10.13.37.0/24'));
    expect(twice.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([['invalid-container-network', 6, 31]]);
  });
});

describe('reach rules and the own-ruleset check', () => {
  it("a compiled ruleset with links and networks is pfexpose's own", () => {
    const outcome = compile(
      SEED.replace('version: 1\n', 'version: 1\nhosts:\n  h:\n    networks: [10.9.0.0/16]\nhost: h\n'),
    );
    expect(outcome.diagnostics).toEqual([]);
    expect(outcome.reaches.some((r) => r.kind === 'network')).toBe(true);
    expect(checkOwnRuleset(outcome.ruleset, 'pfexpose')).toEqual({ ok: true, rules: ruleLines(outcome).length });
  });

  it.each([
    ['pass quick all', 'pass quick all'],
    [
      'from any',
      'pass quick inet proto tcp from any to 10.0.0.2 port = 80 flags S/SA keep state label "link:a:b:tcp:80"',
    ],
    [
      'from 0.0.0.0/0',
      'pass quick inet proto tcp from 0.0.0.0/0 to 10.0.0.2 port = 80 flags S/SA keep state label "x"',
    ],
    [
      'to a network',
      'pass quick inet proto tcp from 10.0.0.3 to 10.0.0.0/24 port = 80 flags S/SA keep state label "x"',
    ],
    [
      'on an interface',
      'pass quick on em0 inet proto tcp from 10.0.0.3 to 10.0.0.2 port = 80 flags S/SA keep state label "x"',
    ],
    ['no label', 'pass quick inet proto tcp from 10.0.0.3 to 10.0.0.2 port = 80 flags S/SA keep state'],
    ['every port', 'pass quick inet proto tcp from 10.0.0.3 to 10.0.0.2 flags S/SA keep state label "x"'],
  ])('refuses a pass quick rule %s', (_name, line) => {
    expect(checkOwnRuleset(`${line}\n`, 'pfexpose').ok).toBe(false);
  });
});

describe('plan: links and networks as changes', () => {
  it('reads deployed reach rules back: the same manifests plan no change and nothing unmanaged', () => {
    const outcome = compile(SEED);
    const plan = planChanges(
      desiredState(outcome.exposures, outcome.ruleset, outcome.reaches),
      deployedFromText(ruleLines(outcome).join('\n')),
    );
    expect(plan.reaches).toEqual([]);
    expect(plan.unmanaged).toEqual([]);
    expect(plan.summary.changes).toBe(false);
  });

  it('shows a new link as opened, a dropped one as removed, and a widened network with its flag', () => {
    const before = compile(SEED.replace('    links: ["server:db-docker"]\n', '    links: [server]\n'));
    const after = compile(SEED);
    const plan = planChanges(
      desiredState(after.exposures, after.ruleset, after.reaches),
      deployedFromText(ruleLines(before).join('\n')),
    );
    expect(plan.reaches.map((c) => [c.kind, c.label, c.flags.map((f) => f.code)])).toEqual([
      ['added', 'link:client:db-docker:tcp:6379-6381', ['reach-opened']],
      ['added', 'link:client:db-docker:tcp:80', ['reach-opened']],
      ['added', 'link:client:db-docker:udp:53', ['reach-opened']],
      ['removed', 'link:client:server:tcp:6379-6381', []],
      ['removed', 'link:client:server:tcp:80', []],
      ['removed', 'link:client:server:udp:53', []],
    ]);
    expect(plan.summary.changes).toBe(true);

    const narrow = compile(
      SEED.replace('version: 1\n', 'version: 1\nhost: h\nhosts:\n  h:\n    networks: [10.9.0.0/16]\n'),
    );
    const wide = compile(
      SEED.replace('version: 1\n', 'version: 1\nhost: h\nhosts:\n  h:\n    networks: [10.9.0.0/16, 10.10.0.0/16]\n'),
    );
    const widened = planChanges(
      desiredState(wide.exposures, wide.ruleset, wide.reaches),
      deployedFromText(ruleLines(narrow).join('\n')),
    );
    expect(widened.reaches.map((c) => [c.kind, c.label, c.flags.map((f) => f.code)])).toEqual([
      ['changed', 'net:server:tcp:80', ['reach-widened']],
    ]);
    expect(widened.reaches[0]?.flags[0]?.message).toBe('now also admits 10.10.0.0/16 -> 172.0.17.2 tcp 80');
  });
});
