// The gateway-retry policy apply, plan --live and the agent share, with fake compiles and a fake
// route(8): which compiles run, with which gateway, and when route(8) is asked.
import { describe, expect, it } from 'vitest';
import type { GatewayDetection } from '../../src/compile/compile-with-gateway.js';
import { gatewayRetry, needsDetectedGateway } from '../../src/compile/compile-with-gateway.js';
import type { CompileOutcome } from '../../src/compile/options.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { emptyLockfile } from '../../src/model/lockfile.js';
import { compileSources } from '../../src/compile/compile.js';

function error(code: Diagnostic['code']): Diagnostic {
  return { code, severity: 'error', message: code, file: 'a.yaml', line: 1, column: 1, endLine: 1, endColumn: 2 };
}

function outcome(diagnostics: Diagnostic[], ruleset = ''): CompileOutcome {
  return {
    ok: !diagnostics.some((d) => d.severity === 'error'),
    diagnostics,
    exposures: [],
    reaches: [],
    containerNames: [],
    ruleset,
    files: ['a.yaml'],
    manifestDigest: '',
    host: null,
    lock: emptyLockfile(),
    lockChanged: false,
    lockPath: 'pfexpose.lock.json',
    texts: new Map(),
  };
}

/** Manifests whose entries listen on the gateway and which name none; `also`: errors besides. */
function harness(answers: GatewayDetection[], also: Diagnostic[] = []) {
  const compiles: (string | undefined)[] = [];
  let asked = 0;
  return {
    compiles,
    asked: () => asked,
    steps: {
      compile: (gateway: string | undefined) => {
        compiles.push(gateway);
        return gateway === undefined
          ? outcome([...also, error('gateway-missing')])
          : outcome(also, `pass on ${gateway}\n`);
      },
      detect: () => {
        const answer = answers[asked] ?? { ok: false, message: 'no more answers' };
        asked += 1;
        return Promise.resolve(answer);
      },
    },
  };
}

describe('needsDetectedGateway', () => {
  it('is true only for a failed compile whose every error is gateway-missing', () => {
    expect(needsDetectedGateway(outcome([error('gateway-missing')]))).toBe(true);
    expect(needsDetectedGateway(outcome([error('gateway-missing'), error('schema')]))).toBe(false);
    expect(needsDetectedGateway(outcome([error('schema')]))).toBe(false);
    expect(needsDetectedGateway(outcome([]))).toBe(false);
  });
});

describe('gatewayRetry', () => {
  it('uses a given gateway as it is and never asks route(8)', async () => {
    const h = harness([{ ok: true, interface: 'em0' }]);
    const result = await gatewayRetry(h.steps, { given: true });
    expect(result.kind).toBe('compiled');
    expect(h.compiles).toEqual([undefined]);
    expect(h.asked()).toBe(0);
  });

  it("compiles again with route(8)'s answer when only the gateway is missing", async () => {
    const h = harness([{ ok: true, interface: 'em0' }]);
    const result = await gatewayRetry(h.steps, { given: false });
    expect(result).toMatchObject({
      kind: 'compiled',
      detected: 'em0',
      outcome: { ok: true, ruleset: 'pass on em0\n' },
    });
    expect(h.compiles).toEqual([undefined, 'em0']);
  });

  it('is no-gateway, with the first compile, when route(8) has no answer', async () => {
    const h = harness([{ ok: false, message: 'no default route' }]);
    const result = await gatewayRetry(h.steps, { given: false });
    expect(result).toMatchObject({ kind: 'no-gateway', message: 'no default route', outcome: { ok: false } });
    expect(h.compiles).toEqual([undefined]);
  });

  it('does not ask route(8) when the manifests fail for other reasons too', async () => {
    const h = harness([{ ok: true, interface: 'em0' }], [error('schema')]);
    const result = await gatewayRetry(h.steps, { given: false });
    expect(result).toMatchObject({ kind: 'compiled', detected: null });
    expect(result.outcome.diagnostics.map((d) => d.code)).toEqual(['schema', 'gateway-missing']);
    expect(h.asked()).toBe(0);
  });

  it('compiles with a known gateway without asking, unless told to check it again', async () => {
    const h = harness([{ ok: true, interface: 'igb0' }]);
    expect(await gatewayRetry(h.steps, { given: false, known: 'em0' })).toMatchObject({ detected: null });
    expect(h.compiles).toEqual(['em0']);
    expect(h.asked()).toBe(0);
    const moved = await gatewayRetry(h.steps, { given: false, known: 'em0', recheck: true });
    expect(moved).toMatchObject({ kind: 'compiled', detected: 'igb0', outcome: { ruleset: 'pass on igb0\n' } });
    expect(h.compiles).toEqual(['em0', 'em0', 'igb0']);
  });

  it('keeps the known gateway when a recheck finds the same one or none', async () => {
    const h = harness([
      { ok: true, interface: 'em0' },
      { ok: false, message: 'route timed out' },
    ]);
    expect(await gatewayRetry(h.steps, { given: false, known: 'em0', recheck: true })).toMatchObject({
      kind: 'compiled',
      detected: null,
    });
    expect(await gatewayRetry(h.steps, { given: false, known: 'em0', recheck: true })).toMatchObject({
      kind: 'compiled',
      detected: null,
      outcome: { ruleset: 'pass on em0\n' },
    });
    expect(h.compiles).toEqual(['em0', 'em0']);
    expect(h.asked()).toBe(2);
  });
});

// route(8)'s answer is a fallback, never an override: the agent keeps the gateway it detected
// between cycles, and a gateway the manifests declare later must be the one the rules use.
describe('the gateway route(8) gave (routeGateway)', () => {
  const container = {
    file: 'web.yaml',
    text: 'version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports:\n      - "8080:80"\n',
  };
  const declaring = (gateway: string) => ({
    file: 'host.yaml',
    text: `version: 1\nhosts:\n  www1:\n    gateway: ${gateway}\n`,
  });
  const base = { dialect: 'freebsd', frozen: false, anchor: 'pfexpose' } as const;
  const interfaces = (o: CompileOutcome) => [...new Set(o.exposures.map((e) => e.interface))];

  it('is the gateway when neither --gateway nor the manifests name one', () => {
    const compiled = compileSources([container], { ...base, routeGateway: 'em0' }, null);
    expect(compiled.ok).toBe(true);
    expect(interfaces(compiled)).toEqual(['em0']);
  });

  it('gives way to the gateway the manifests declare', () => {
    const compiled = compileSources([container, declaring('em1')], { ...base, routeGateway: 'em0' }, null);
    expect(compiled.ok).toBe(true);
    expect(interfaces(compiled)).toEqual(['em1']);
    expect(compiled.ruleset).toContain(' on em1 ');
    expect(compiled.ruleset).not.toContain(' on em0 ');
  });

  it('gives way to --gateway', () => {
    const compiled = compileSources([container], { ...base, gateway: 'em2', routeGateway: 'em0' }, null);
    expect(interfaces(compiled)).toEqual(['em2']);
  });

  it('keeps the agent on the declared gateway when route(8) was asked before the manifests named one', async () => {
    let sources = [container];
    const steps = {
      compile: (gateway: string | undefined) =>
        compileSources(sources, gateway === undefined ? base : { ...base, routeGateway: gateway }, null),
      detect: () => Promise.resolve({ ok: true, interface: 'em0' } as GatewayDetection),
    };
    const first = await gatewayRetry(steps, { given: false });
    expect(first.kind === 'compiled' && first.detected).toBe('em0');
    expect(interfaces(first.outcome)).toEqual(['em0']);
    // The manifests now declare em1; the agent still knows em0 from route(8).
    sources = [container, declaring('em1')];
    const later = await gatewayRetry(steps, { given: false, known: 'em0' });
    expect(interfaces(later.outcome)).toEqual(['em1']);
    const reconciled = await gatewayRetry(steps, { given: false, known: 'em0', recheck: true });
    expect(interfaces(reconciled.outcome)).toEqual(['em1']);
  });
});
