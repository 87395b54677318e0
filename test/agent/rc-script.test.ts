// contrib/rc.d/pfexpose, the script that runs the agent on FreeBSD, run by sh(1) against a stand-in
// for /etc/rc.subr that builds the start command the way rc.subr's run_rc_command does (its
// ${name}_program, ${name}_user, ${name}_env and ${name}_flags handling) and prints it instead of
// running it. rc.subr itself only exists on FreeBSD; test/e2e/freebsd.sh is where the real one runs.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'contrib', 'rc.d', 'pfexpose');

// Mirrors FreeBSD's libexec/rc/rc.subr run_rc_command for "start", for what the script relies on:
// ${name}_program replaces command, ${name}_user and ${name}_env are read before the precmd, which
// may change rc_flags; a ${name}_user other than the caller wraps everything in su -m.
const FAKE_RC_SUBR = `
load_rc_config() { . "$FAKE_RC_CONF"; }
warn() { echo "warn: $*" >&2; }
err() { echo "err: $*" >&2; exit "$1"; }
install() { echo "install $*" >&2; }
run_rc_command() {
	rc_arg=$1
	eval _override_command=\\$\${name}_program
	command=\${_override_command:-$command}
	eval rc_flags=\\$\${name}_flags
	eval _user=\\$\${name}_user _env=\\$\${name}_env
	if [ -n "$_user" ] && [ "$_user" = "$(id -un)" ]; then unset _user; fi
	eval _precmd=\\$\${rc_arg}_precmd
	if [ -n "$_precmd" ]; then eval "$_precmd" || { echo "precmd failed"; return 1; }; fi
	echo "exported PFEXPOSE_PFCTL=\${PFEXPOSE_PFCTL:-}" >&2
	_doit="\${_env:+env $_env }$command $rc_flags $command_args"
	if [ -n "$_user" ]; then _doit="su -m $_user -c 'sh -c \\"$_doit\\"'"; fi
	echo "$_doit"
}
`;

let dir: string;
let bin: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pfexpose-rc-'));
  bin = join(dir, 'pfexpose');
  await writeFile(bin, '#!/bin/sh\nexit 0\n');
  await chmod(bin, 0o755);
  await writeFile(join(dir, 'rc.subr'), FAKE_RC_SUBR);
  const script = (await readFile(SCRIPT, 'utf8')).replace('. /etc/rc.subr', `. "${join(dir, 'rc.subr')}"`);
  expect(script).toContain(join(dir, 'rc.subr'));
  await writeFile(join(dir, 'rc.d-pfexpose'), script);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `service pfexpose start` with this rc.conf: the command rc.subr would run, split into words. */
async function start(rcConf: string): Promise<{ words: string[]; line: string; stderr: string; failed: boolean }> {
  await writeFile(join(dir, 'rc.conf'), `pfexpose_enable="YES"\n${rcConf}`);
  const { stdout, stderr, failed } = await run('sh', [join(dir, 'rc.d-pfexpose'), 'start'], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', FAKE_RC_CONF: join(dir, 'rc.conf') },
  }).then(
    (done) => ({ ...done, failed: false }),
    (error: { stdout: string; stderr: string }) => ({ stdout: error.stdout, stderr: error.stderr, failed: true }),
  );
  const line = stdout.trim();
  return { line, words: line.split(/\s+/), stderr, failed };
}

describe('contrib/rc.d/pfexpose', () => {
  it('is valid sh', async () => {
    await run('sh', ['-n', SCRIPT]);
  });

  // shellcheck is a Debian package (.ci/run installs it); a missing one fails here rather than skipping.
  it('is clean under shellcheck, whose file-wide exceptions still leave real mistakes found', async () => {
    await run('shellcheck', [SCRIPT]);
    const text = await readFile(SCRIPT, 'utf8');
    const quoted = 'kill -HUP "$(cat "${child_pidfile}")"';
    expect(text).toContain(quoted);
    const broken = join(dir, 'broken');
    await writeFile(broken, text.replace(quoted, 'kill -HUP $(cat ${child_pidfile})'));
    await expect(run('shellcheck', ['--format', 'gcc', broken])).rejects.toMatchObject({
      stdout: expect.stringMatching(/SC2046/),
    });
  });

  it("declares what FreeBSD's rc.d/pf declares: a desc, the pf module, and the nojailvnet keyword", async () => {
    const text = await readFile(SCRIPT, 'utf8');
    expect(text).toMatch(/^# KEYWORD:(?: \w+)* nojailvnet(?: \w+)*$/m);
    expect(text).toMatch(/^# KEYWORD:(?: \w+)* shutdown(?: \w+)*$/m);
    expect(text).toMatch(/^required_modules="pf"$/m);
    expect(text).toMatch(/^desc="[^"]+"$/m);
  });

  it('never defines pfexpose_program, which rc.subr would run in place of daemon(8)', async () => {
    const text = await readFile(SCRIPT, 'utf8');
    expect(text).not.toMatch(/^\s*:\s*"?\$\{pfexpose_program/m);
    expect(text).not.toMatch(/^\s*pfexpose_program=/m);
    expect(text).toMatch(/^command="\/usr\/sbin\/daemon"$/m);
  });

  it("starts daemon(8) with its own flags, then pfexpose watch with the agent's", async () => {
    const { words, line, failed } = await start(
      `pfexpose_bin="${bin}"\npfexpose_flags="--interval 30s --log-format json"\n`,
    );
    expect(failed).toBe(false);
    expect(words[0]).toBe('/usr/sbin/daemon');
    const program = words.indexOf(bin);
    expect(program).toBeGreaterThan(0);
    // Everything before the program is daemon's: no pfexpose flag lands there.
    expect(words.slice(1, program)).toEqual([
      '-r',
      '-R',
      '5',
      '-f',
      '-P',
      '/var/run/pfexpose.pid',
      '-p',
      '/var/run/pfexpose.child.pid',
      '-H',
      '-o',
      '/var/log/pfexpose.log',
    ]);
    expect(words.slice(program)).toEqual([
      bin,
      'watch',
      '--state-dir',
      '/var/db/pfexpose',
      '--interval',
      '30s',
      '--log-format',
      'json',
      '/usr/local/etc/pfexpose',
    ]);
    expect(line).not.toContain('su -m');
  });

  it('switches to pfexpose_user once, with daemon -u, not su as well', async () => {
    const { words, line } = await start(`pfexpose_bin="${bin}"\npfexpose_user="nobody"\n`);
    expect(words[0]).toBe('/usr/sbin/daemon');
    expect(line).not.toContain('su -m');
    const u = words.indexOf('-u');
    expect(words[u + 1]).toBe('nobody');
    expect(u).toBeLessThan(words.indexOf(bin));
  });

  it('leaves pfexpose_env to rc.subr (env before daemon), without exporting it a second time', async () => {
    const { words, stderr } = await start(`pfexpose_bin="${bin}"\npfexpose_env="PFEXPOSE_PFCTL=/sbin/pfctl"\n`);
    expect(words.slice(0, 3)).toEqual(['env', 'PFEXPOSE_PFCTL=/sbin/pfctl', '/usr/sbin/daemon']);
    expect(words.filter((w) => w.startsWith('PFEXPOSE_PFCTL='))).toHaveLength(1);
    expect(stderr).toContain('exported PFEXPOSE_PFCTL=\n');
  });

  it('logs to syslog without -H when pfexpose_logfile is empty', async () => {
    const { words } = await start(`pfexpose_bin="${bin}"\npfexpose_logfile=""\n`);
    expect(words).not.toContain('-H');
    expect(words).not.toContain('-o');
    expect(words.slice(words.indexOf('-S'), words.indexOf('-S') + 3)).toEqual(['-S', '-T', 'pfexpose']);
  });

  it('takes a pfexpose_program left in an older rc.conf as the executable, still running daemon(8)', async () => {
    const { words } = await start(`pfexpose_program="${bin}"\n`);
    expect(words[0]).toBe('/usr/sbin/daemon');
    expect(words).toContain(bin);
  });

  it('refuses to start, saying why, when the executable is missing', async () => {
    const { line, stderr, failed } = await start(`pfexpose_bin="${join(dir, 'nowhere')}"\n`);
    expect(failed).toBe(true);
    expect(line).toBe('precmd failed');
    expect(stderr).toContain('set pfexpose_bin');
  });
});
