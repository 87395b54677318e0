// ls and port in a multi-host repository (issue 11): every host without --host, each labelled;
// --host narrows; -m takes one path and repeats, on either side of the container; the options
// that do not change their answer are gone.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** test/fixtures/compile/multi-host (alpha and beta both run `web` on 8080) plus a db only on beta. */
function multiHost(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pfexpose-ls-'));
  dirs.push(dir);
  cpSync(resolve('test/fixtures/compile/multi-host'), dir, { recursive: true });
  writeFileSync(
    join(dir, 'db.yaml'),
    'version: 1\nhost: beta\ncontainers:\n  db:\n    ip: 10.2.0.3\n    ports: [em5:5432:5432]\n',
  );
  return dir;
}

describe('pfexpose ls in a multi-host repository', () => {
  it('lists every host, each under its name, without --host', async () => {
    const dir = multiHost();
    const result = await runInProcess(['ls', '.'], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    const alpha = lines.indexOf('host alpha:');
    const beta = lines.indexOf('host beta:');
    expect(alpha).toBeGreaterThanOrEqual(0);
    expect(beta).toBeGreaterThan(alpha);
    const alphaPart = lines.slice(alpha, beta).join('\n');
    const betaPart = lines.slice(beta).join('\n');
    expect(alphaPart).toMatch(/em0:8080 +-> +web 10\.1\.0\.2:80/);
    expect(alphaPart).not.toContain('10.2.0.');
    expect(betaPart).toMatch(/vtnet0:8080 +-> +web 10\.2\.0\.2:80/);
    expect(betaPart).toMatch(/em5:5432 +-> +db 10\.2\.0\.3:5432/);
    expect(betaPart).not.toContain('10.1.0.');
  });

  it('--host narrows to one host, printed as the plain table', async () => {
    const dir = multiHost();
    const result = await runInProcess(['ls', '.', '--host', 'beta'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('host ');
    expect(result.stdout.split('\n')[0]).toMatch(/^LISTEN/);
    expect(result.stdout).toContain('db 10.2.0.3:5432');
    expect(result.stdout).not.toContain('10.1.0.2');
  });

  it('invalid manifests: exit 1, each problem reported once, nothing on stdout', async () => {
    const dir = multiHost();
    writeFileSync(
      join(dir, 'bad.yaml'),
      'version: 1\nhost: alpha\ncontainers:\n  bad:\n    ip: 10.1.0.9\n    ports: [em0:70000:80]\n',
    );
    const result = await runInProcess(['ls', '.'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.match(/bad\.yaml:6:\d+/g)?.length).toBe(1);
  });

  it.each([['--frozen'], ['--dialect', 'openbsd'], ['--anchor', 'x']])(
    'does not take %s (it does not change the answer)',
    async (...flag) => {
      const result = await runInProcess(['ls', 'examples/', ...flag]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('unknown option');
    },
  );
});

describe('pfexpose port in a multi-host repository', () => {
  it('answers from the only host that has the container, unlabelled, like docker port', async () => {
    const dir = multiHost();
    const result = await runInProcess(['port', 'db'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('5432/tcp -> em5:5432\n');
  });

  it('labels each line with its host when several hosts have the container', async () => {
    const dir = multiHost();
    const result = await runInProcess(['port', 'web'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('alpha: 80/tcp -> em0:8080\nbeta: 80/tcp -> vtnet0:8080\n');
    const one = await runInProcess(['port', 'web', '80'], { cwd: dir });
    expect(one.stdout).toBe('alpha: em0:8080\nbeta: vtnet0:8080\n');
  });

  it('--host narrows: unlabelled, and a container of another host is not found there', async () => {
    const dir = multiHost();
    const web = await runInProcess(['port', 'web', '--host', 'alpha'], { cwd: dir });
    expect(web.stdout).toBe('80/tcp -> em0:8080\n');
    const db = await runInProcess(['port', 'db', '--host', 'alpha'], { cwd: dir });
    expect(db.code).toBe(1);
    expect(db.stderr).toContain('no container "db" publishes ports on host alpha');
  });

  it('an unknown container names the hosts it looked at', async () => {
    const dir = multiHost();
    const result = await runInProcess(['port', 'nope'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('on any host (alpha, beta)');
  });
});

describe('pfexpose port -m', () => {
  const want = '8080/tcp -> any:49000\n9090/tcp -> any:49001\n';
  it.each([
    ['container first', ['port', 'api', '-m', 'examples/']],
    ['-m first (the container is not taken as a path)', ['port', '-m', 'examples/', 'api']],
    ['--manifests= form', ['port', '--manifests=examples/', 'api']],
    ['-m repeated, one path each', ['port', '-m', 'examples/docker-style.yaml', '-m', 'examples/host.yaml', 'api']],
  ])('%s', async (_name, argv) => {
    const result = await runInProcess(argv);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(want);
  });

  it('-m then the container then a port', async () => {
    const result = await runInProcess(['port', '-m', 'examples/', 'legacy', '80']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('127.0.0.1:8081\nany:8000\n');
  });

  it('--help shows one default for -m and no empty-list default', async () => {
    const result = await runInProcess(['port', '--help']);
    expect(result.stdout).toContain('-m, --manifests <path>');
    expect(result.stdout).not.toContain('(default: [])');
    expect(result.stdout).not.toMatch(/\(default: \.\)\s*\(default/);
    for (const gone of ['--frozen', '--dialect', '--anchor']) expect(result.stdout).not.toContain(gone);
    for (const kept of ['--host', '--gateway', '--pool', '--lock']) expect(result.stdout).toContain(kept);
  });
});
