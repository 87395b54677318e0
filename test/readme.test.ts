// The documentation is part of the contract: the table of diagnostic codes (docs/reference/diagnostics.md)
// must list exactly the registry's codes, and README's quick start must be the two commands the brief promises.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diagnosticCodes } from '../src/diagnostics/codes.js';

const readme = readFileSync('README.md', 'utf8');
const diagnostics = readFileSync('docs/reference/diagnostics.md', 'utf8');

describe('README', () => {
  it('lists every diagnostic code, and no code that does not exist', () => {
    const table = diagnostics.slice(
      diagnostics.indexOf('<!-- codes-table -->'),
      diagnostics.indexOf('<!-- /codes-table -->'),
    );
    const listed = [...table.matchAll(/^\| `([a-z0-9-]+)` \| /gm)].map((m) => m[1]);
    expect(listed.length).toBeGreaterThan(0);
    expect([...listed].sort()).toEqual(Object.keys(diagnosticCodes).sort());
  });

  it('starts with the two-command quick start', () => {
    const quick = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## The pipeline'));
    expect(quick).toContain('npm ci && npx pfexpose compile examples/');
    expect(quick).toContain('npm test');
  });
});
