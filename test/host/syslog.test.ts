// The syslog adapter (issue 11): logger(1) gets the message tagged pfexpose with its priority; a
// missing, failing or hung logger is reported, never thrown, and never waited for long.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loggerProgram, sendToSyslog } from '../../src/host/syslog.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pfexpose-syslog-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function script(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

describe('sendToSyslog', () => {
  it('runs PFEXPOSE_LOGGER with the tag, the priority and the message as one argument', async () => {
    const out = join(dir, 'args');
    const logger = await script('logger', `for a; do printf '%s\\n' "$a"; done > "${out}"`);
    const result = await sendToSyslog('-reverted\nanchor "pfexpose"', {
      env: { PFEXPOSE_LOGGER: logger },
      priority: 'user.err',
    });
    expect(result).toBeNull();
    expect((await readFile(out, 'utf8')).split('\n')).toEqual([
      '-t',
      'pfexpose',
      '-p',
      'user.err',
      '--',
      '-reverted anchor "pfexpose"',
      '',
    ]);
  });

  it.each([
    ['a missing program', () => Promise.resolve(join(dir, 'nope')), /ENOENT/],
    ['a failing program', async () => script('fails', 'exit 3'), /exited with 3/],
    ['a hung program', async () => script('hangs', 'exec sleep 30'), /did not finish within 300 ms/],
  ])('%s is reported, not thrown', async (_name, make, want) => {
    const started = Date.now();
    const result = await sendToSyslog('x', { env: { PFEXPOSE_LOGGER: await make() }, timeoutMs: 300 });
    expect(result).toMatch(want);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('defaults to logger from PATH', () => {
    expect(loggerProgram({})).toBe('logger');
    expect(loggerProgram({ PFEXPOSE_LOGGER: '' })).toBe('logger');
    expect(loggerProgram({ PFEXPOSE_LOGGER: '/x/logger' })).toBe('/x/logger');
  });
});
