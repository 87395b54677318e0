// The manifest checks that need no host: SCTP entries that would change the port (pf never does)
// are errors at the entry in every syntax; loopback entries are judged by the declared `stack`.
import { describe, expect, it } from 'vitest';
import { loadManifests, loadManifestText } from '../../src/manifest/load-manifests.js';

type Found = [severity: string, code: string, line: number, column: number];

function found(diagnostics: { severity: string; code: string; line: number; column: number }[]): Found[] {
  return diagnostics.map((d) => [d.severity, d.code, d.line, d.column]);
}

function check(text: string): Found[] {
  return found(loadManifestText(text, 'm.yaml').diagnostics);
}

describe('port-sctp-translation', () => {
  it('refuses every port-changing sctp entry at its line, in every syntax, and accepts same-port ones', async () => {
    const { diagnostics } = await loadManifests(['test/fixtures/manifests/invalid/sctp.yaml']);
    expect(found(diagnostics)).toEqual([
      ['error', 'port-sctp-translation', 10, 9], // 8203:80/sctp
      ['error', 'port-sctp-translation', 11, 9], // 9000-9001:7000-7001/sctp
      ['error', 'port-sctp-translation', 12, 9], // 8000-8010:80/sctp (the range lacks 80)
      ['error', 'port-sctp-translation', 13, 9], // long form published 8204, target 80
      ['error', 'port-sctp-translation', 16, 9], // {docker: 0.0.0.0:8205:80/sctp}
    ]);
    expect(diagnostics[0]?.message).toMatch(/never its port.*port 8203, where nothing listens/);
    expect(diagnostics[0]?.hint).toContain('`80:80/sctp`');
  });

  it.each([
    ['same port', '8203:8203/sctp'],
    ['same range', '7000-7001:7000-7001/sctp'],
    ['ephemeral (the model takes the container port)', '80/sctp'],
    ['a pick-one range holding the container port', '75-85:80/sctp'],
    ['tcp and udp may change the port', '8203:80/udp'],
  ])('accepts %s', (_name, entry) => {
    expect(
      check(`version: 1\nsyntax: docker\ncontainers:\n  s:\n    ip: 10.0.0.2\n    ports:\n      - "${entry}"\n`),
    ).toEqual([]);
  });

  it('long form: refused when published differs from target, accepted when equal', () => {
    const long = (published: number) =>
      `version: 1\ncontainers:\n  s:\n    ip: 10.0.0.2\n    ports:\n      - target: 80\n        published: ${published}\n        protocol: sctp\n`;
    expect(check(long(8080))).toEqual([['error', 'port-sctp-translation', 6, 9]]);
    expect(check(long(80))).toEqual([]);
  });
});

describe('loopback entries and the declared stack', () => {
  it('warns at every loopback entry of a container whose stack is not declared', async () => {
    const { diagnostics } = await loadManifests(['test/fixtures/manifests/stack/undeclared.yaml']);
    expect(found(diagnostics)).toEqual([
      ['warning', 'loopback-shared-stack', 10, 9], // 127.0.0.1:8080:80
      ['warning', 'loopback-shared-stack', 11, 9], // [::1]:8080:80
      ['warning', 'loopback-shared-stack', 12, 9], // 127.0.0.2::443 (all of 127/8)
      ['warning', 'loopback-shared-stack', 14, 9], // long form host_ip 127.0.0.1
    ]);
    expect(diagnostics[0]?.hint).toContain('`stack: shared` on container web (or `hosts.NAME.stack`)');
  });

  it('is an error for a VNET container (the host says vnet), nothing for a shared-stack one (the container overrides)', async () => {
    const { diagnostics } = await loadManifests(['test/fixtures/manifests/stack/declared.yaml']);
    expect(found(diagnostics)).toEqual([['error', 'loopback-vnet', 14, 9]]);
    expect(diagnostics[0]?.message).toContain(
      'declared `stack: vnet` at test/fixtures/manifests/stack/declared.yaml:9:12',
    );
  });

  const doc = (containerStack: string, hostStack: string, entry = '127.0.0.1:8080:80', extra = '') =>
    `version: 1\nsyntax: docker\nhosts:\n  h:\n    gateway: em0\n${hostStack}containers:\n  c:\n    ip: 10.0.0.2\n${extra}${containerStack}    ports:\n      - "${entry}"\n`;

  it.each([
    ['nothing declared', '', '', [['warning', 'loopback-shared-stack', 10, 9]]],
    ['container shared', '    stack: shared\n', '', []],
    ['container vnet', '    stack: vnet\n', '', [['error', 'loopback-vnet', 11, 9]]],
    ['host shared', '', '    stack: shared\n', []],
    ['host vnet', '', '    stack: vnet\n', [['error', 'loopback-vnet', 11, 9]]],
    ['host vnet, container shared', '    stack: shared\n', '    stack: vnet\n', []],
    ['host shared, container vnet', '    stack: vnet\n', '    stack: shared\n', [['error', 'loopback-vnet', 12, 9]]],
  ] as const)('%s', (_name, containerStack, hostStack, want) => {
    expect(check(doc(containerStack, hostStack))).toEqual(want);
  });

  it('the warning names the host the container belongs to', () => {
    const { diagnostics } = loadManifestText(doc('', ''), 'm.yaml');
    expect(diagnostics[0]?.hint).toContain('`hosts.h.stack`');
  });

  it("a host's stack covers only its own containers when several hosts are named", () => {
    const text =
      'version: 1\nsyntax: docker\nhosts:\n  h1:\n    stack: vnet\n  h2:\n    gateway: em0\n' +
      'containers:\n  a:\n    host: h1\n    ip: 10.0.0.2\n    ports: ["127.0.0.1:8080:80"]\n' +
      '  b:\n    host: h2\n    ip: 10.0.0.3\n    ports: ["127.0.0.1:8080:80"]\n';
    const { diagnostics } = loadManifestText(text, 'm.yaml');
    expect(found(diagnostics)).toEqual([
      ['error', 'loopback-vnet', 12, 13],
      ['warning', 'loopback-shared-stack', 16, 13],
    ]);
    expect(diagnostics[1]?.hint).toContain('`hosts.h2.stack`');
  });

  it('says nothing of entries that are not loopback, or make no rule', () => {
    expect(check(doc('', '', '192.0.2.1:8080:80'))).toEqual([]);
    expect(check(doc('', '', '8080:80'))).toEqual([]);
    // An IPv6 loopback entry of an IPv4-only container makes no rule: family-mismatch alone.
    expect(check(doc('', '', '[::1]:8080:80'))).toEqual([['warning', 'family-mismatch', 10, 11]]);
  });

  it('rejects a stack that is neither shared nor vnet (the entry then counts as undeclared)', () => {
    expect(check(doc('    stack: jail\n', '')).map(([, code]) => code)).toEqual(['schema', 'loopback-shared-stack']);
  });
});
