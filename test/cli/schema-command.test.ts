// `pfexpose schema`: the schema text editors read, byte for byte, or the path it is installed at.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
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
