// README is part of the contract: its table of diagnostic codes must list exactly the registry's
// codes, and its quick start must be the two commands the brief promises.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diagnosticCodes } from '../src/diagnostics/codes.js';

const readme = readFileSync('README.md', 'utf8');

describe('README', () => {
  it('lists every diagnostic code, and no code that does not exist', () => {
    const table = readme.slice(readme.indexOf('<!-- codes-table -->'), readme.indexOf('<!-- /codes-table -->'));
    const listed = [...table.matchAll(/^\| `([a-z0-9-]+)` \| /gm)].map((m) => m[1]);
    expect([...listed].sort()).toEqual(Object.keys(diagnosticCodes).sort());
  });

  it('starts with the two-command quick start', () => {
    const quick = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## The pipeline'));
    expect(quick).toContain('npm ci && npx pfexpose compile examples/');
    expect(quick).toContain('npm test');
  });
});
