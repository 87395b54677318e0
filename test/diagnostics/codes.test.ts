import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diagnosticCodes } from '../../src/diagnostics/codes.js';
import { manifestCodes } from '../../src/diagnostics/codes-manifest.js';

// Every table file (codes-*.ts), read as text so that tables added later are covered too. A key is
// quoted only when it needs to be (prettier), so the quotes are optional here.
const tables = readdirSync('src/diagnostics')
  .filter((f) => /^codes-.+\.ts$/.test(f))
  .sort()
  .map(
    (f) =>
      [
        f,
        [...readFileSync(`src/diagnostics/${f}`, 'utf8').matchAll(/^ {2}'?([a-z0-9-]+)'?: \{/gm)].map(
          (m) => m[1] ?? '',
        ),
      ] as const,
  );

describe('the code registry', () => {
  const all = tables.flatMap(([, codes]) => codes);

  it('defines each code in exactly one table (a spread would silently drop a twin)', () => {
    const twice = all.filter((code, i) => all.indexOf(code) !== i);
    expect(twice).toEqual([]);
    expect(Object.keys(diagnosticCodes).sort()).toEqual([...all].sort());
  });

  it.each(Object.keys(manifestCodes))('manifest code %s is kebab-case and has a summary', (code) => {
    expect(code).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(manifestCodes[code as keyof typeof manifestCodes].summary.length).toBeGreaterThan(10);
  });
});
