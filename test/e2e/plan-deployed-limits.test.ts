// `pfexpose plan --deployed` on hostile or absurd files (issue 9, M9): thousands of nested inline
// anchors, `{ }` lists that multiply into millions of rules. Each is a located error with exit 1
// (plan's documented error code), never a stack overflow or "this is a bug"; and a large ruleset
// planned against its own manifests is still a no-op.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBuilt } from '../helpers/cli.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pfexpose-plan-limits-'));
  writeFileSync(
    join(dir, 'web.yaml'),
    'version: 1\ncontainers:\n  web:\n    ip: 10.13.37.10\n    ports:\n      - em0:8080:80\n',
  );
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function plan(deployed: string): ReturnType<typeof runBuilt> {
  writeFileSync(join(dir, 'deployed.txt'), deployed);
  return runBuilt(['plan', 'web.yaml', '--deployed', 'deployed.txt'], { cwd: dir, timeoutMs: 120_000 });
}

describe('pfexpose plan --deployed past the reader limits', () => {
  it('refuses 3,000 nested inline anchors at the line where nesting passes 64 levels', () => {
    const depth = 3000;
    const lines = [
      ...Array.from({ length: depth }, (_, i) => `${'  '.repeat(i)}anchor "a${i}" all {`),
      `${'  '.repeat(depth)}pass in all flags S/SA keep state`,
      ...Array.from({ length: depth }, (_, i) => `${'  '.repeat(depth - 1 - i)}}`),
    ];
    const got = plan(`${lines.join('\n')}\n`);
    expect(got.stderr).not.toMatch(/internal error|this is a bug|RangeError/);
    expect(got.stderr).toMatch(/deployed\.txt .*line 65: inline anchors nested deeper than 64 levels/);
    expect(got.stdout).toBe('');
    expect(got.code).toBe(1);
  }, 120_000);

  it('refuses a rule whose lists expand to a million rules, naming its line', () => {
    const list = (prefix: string): string => `{ ${Array.from({ length: 100 }, (_, i) => `${prefix}${i}`).join(' ')} }`;
    const got = plan(`pass in all\npass in proto tcp from ${list('10.0.0.')} to ${list('10.1.0.')} port ${list('')}\n`);
    expect(got.stderr).not.toMatch(/internal error|this is a bug|RangeError/);
    expect(got.stderr).toMatch(/deployed\.txt .*line 2: the \{ \} lists of this rule expand to 1000000 rules/);
    expect(got.code).toBe(1);
  }, 120_000);

  it('plans 2,000 containers against their own compiled ruleset: no changes, exit 0', () => {
    const containers = Array.from(
      { length: 2000 },
      (_, i) => `  c${i}:\n    ip: 10.0.${i >> 8}.${i & 255 || 1}\n    ports:\n      - em0:${10_000 + i}:80\n`,
    );
    writeFileSync(join(dir, 'web.yaml'), `version: 1\ncontainers:\n${containers.join('')}`);
    const compiled = runBuilt(['compile', 'web.yaml', '-o', 'ruleset.conf'], { cwd: dir, timeoutMs: 120_000 });
    expect(compiled.code).toBe(0);
    const got = runBuilt(['plan', 'web.yaml', '--deployed', 'ruleset.conf'], { cwd: dir, timeoutMs: 120_000 });
    expect(got.stdout).toContain('No changes');
    expect(got.code).toBe(0);
  }, 240_000);
});
