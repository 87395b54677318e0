// `pfexpose schema`: the schema text editors read, byte for byte, or the path it is installed at.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OUTPUT_SCHEMAS, outputSchemaPath } from '../../src/cli/schema-ref.js';
import { runBuilt, runInProcess } from '../helpers/cli.js';

const schemaPath = resolve('schema/pfexpose.schema.json');

describe('pfexpose schema', () => {
  it('prints the installed schema', async () => {
    const { code, stdout, stderr } = await runInProcess(['schema']);
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toBe(readFileSync(schemaPath, 'utf8'));
    expect((JSON.parse(stdout) as { $id: string }).$id).toMatch(/^https:\/\/raw\.githubusercontent\.com\//);
  });

  it('prints its path with --path', async () => {
    expect(await runInProcess(['schema', '--path'])).toEqual({ code: 0, stdout: `${schemaPath}\n`, stderr: '' });
  });

  it('refuses an argument as a usage error', async () => {
    const { code, stdout } = await runInProcess(['schema', 'extra']);
    expect([code, stdout]).toEqual([2, '']);
  });

  it('works the same from the built CLI', () => {
    expect(runBuilt(['schema', '--path'])).toEqual({ code: 0, stdout: `${schemaPath}\n`, stderr: '' });
  });
});

describe('pfexpose schema --output NAME', () => {
  it('prints the schema of an output, or its path with --path; every name is a file of schema/output/', async () => {
    const plan = await runInProcess(['schema', '--output', 'plan']);
    expect([plan.code, plan.stderr]).toEqual([0, '']);
    expect(plan.stdout).toBe(readFileSync('schema/output/plan.schema.json', 'utf8'));
    expect(await runInProcess(['schema', '--output', 'lock', '--path'])).toEqual({
      code: 0,
      stdout: `${resolve('schema/output/lock.schema.json')}\n`,
      stderr: '',
    });
    for (const name of OUTPUT_SCHEMAS) expect(existsSync(outputSchemaPath(name)), name).toBe(true);
    expect(readdirSync('schema/output').length).toBe(OUTPUT_SCHEMAS.length);
  });

  it('refuses a name that is not an output as a usage error', async () => {
    const { code, stdout, stderr } = await runInProcess(['schema', '--output', 'manifest']);
    expect([code, stdout]).toEqual([2, '']);
    expect(stderr).toContain('Allowed choices are validate, compile, plan');
  });
});
