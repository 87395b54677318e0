import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkOwnRuleset } from '../../src/pf/check-own-ruleset.js';
import { parsePfctlOutput, printRule } from '../../src/pf/parse-pfctl.js';
import { runInProcess } from '../helpers/cli.js';

const GOLDEN = resolve('test/fixtures/compile');
const temps: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pfexpose-compile-'));
  temps.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const SINGLE = `version: 1
containers:
  web:
    ip: 10.0.0.2
    ports:
      - 8080:80
`;

const EPHEMERAL = `version: 1
syntax: docker
containers:
  app:
    ip: 10.0.0.3
    ports:
      - "80"
      - 127.0.0.1::443
    stack: shared
`;

describe('pfexpose compile', () => {
  it('renders the examples (golden, both dialects)', async () => {
    const freebsd = await runInProcess(['compile', 'examples/', '--frozen']);
    expect(freebsd.code).toBe(0);
    await expect(freebsd.stdout).toMatchFileSnapshot(join(GOLDEN, 'examples.freebsd.conf'));
    const openbsd = await runInProcess(['compile', 'examples/', '--frozen', '--dialect', 'openbsd']);
    expect(openbsd.code).toBe(0);
    await expect(openbsd.stdout).toMatchFileSnapshot(join(GOLDEN, 'examples.openbsd.conf'));
  });

  it('passes the forwarded leg of every exposure: tagged pass out rules to the container, in pfctl printed form', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'web.yaml'),
      `version: 1\ncontainers:\n  web:\n    ip: 10.0.0.2\n    ports:\n      - 8080:80\n      - 5353:53/udp\n`,
    );
    const result = await runInProcess(['compile', '.', '--gateway', 'em0'], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(lines).toEqual([
      'rdr on em0 inet proto tcp from any to (em0) port = 8080 tag pfexpose -> 10.0.0.2 port 80',
      'rdr on em0 inet proto udp from any to (em0) port = 5353 tag pfexpose -> 10.0.0.2 port 53',
      'pass out quick inet proto tcp from any to 10.0.0.2 port = 80 flags S/SA keep state label "web:tcp:em0:8080" tagged pfexpose',
      'pass out quick inet proto udp from any to 10.0.0.2 port = 53 keep state label "web:udp:em0:5353" tagged pfexpose',
      'pass in quick on em0 inet proto tcp from any to 10.0.0.2 port = 80 flags S/SA keep state label "web:tcp:em0:8080" tagged pfexpose',
      'pass in quick on em0 inet proto udp from any to 10.0.0.2 port = 53 keep state label "web:udp:em0:5353" tagged pfexpose',
    ]);
    // pfctl's printed form is a fixed point: parsed and printed again, every line comes back.
    const { rules, diagnostics } = parsePfctlOutput(result.stdout);
    expect(diagnostics).toEqual([]);
    expect(rules.map((rule) => printRule(rule))).toEqual(lines);
    expect(checkOwnRuleset(result.stdout, 'pfexpose')).toMatchObject({ ok: true, rules: 6 });
  });

  it.each(['kleene', 'docker', 'long'])('renders every %s rule shape (golden)', async (syntax) => {
    const dir = tempDir();
    cpSync(resolve(GOLDEN, 'syntaxes', `${syntax}.yaml`), join(dir, `${syntax}.yaml`));
    const result = await runInProcess(['compile', '.', '--gateway', 'em0'], { cwd: dir });
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    await expect(result.stdout).toMatchFileSnapshot(join(GOLDEN, `syntax-${syntax}.conf`));
  });

  it('prints the documented json contract', async () => {
    const result = await runInProcess(['compile', 'examples/', '--frozen', '--format', 'json']);
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout) as {
      diagnostics: Record<string, unknown>[];
      exposures: Record<string, unknown>[];
      ruleset: string;
    };
    expect(Object.keys(parsed)).toEqual(['formatVersion', 'command', 'diagnostics', 'exposures', 'ruleset']);
    expect(JSON.parse(result.stdout)).toMatchObject({ formatVersion: 1, command: 'compile' });
    // The compile's warnings reach its JSON, where text format prints them on stderr.
    expect(parsed.diagnostics.map((d) => [d['code'], d['severity'], d['file'], d['line']])).toEqual([
      ['family-mismatch', 'warning', 'examples/web.yaml', 22],
    ]);
    expect(result.stderr).toBe('');
    for (const exposure of parsed.exposures) {
      expect(Object.keys(exposure)).toEqual([
        'container',
        'protocol',
        'family',
        'interface',
        'hostAddress',
        'hostPort',
        'containerAddress',
        'containerPort',
        'from',
        'label',
        'dynamic',
        'source',
      ]);
    }
    const text = await runInProcess(['compile', 'examples/', '--frozen']);
    expect(parsed.ruleset).toBe(text.stdout);
    await expect(result.stdout).toMatchFileSnapshot(join(GOLDEN, 'examples.json'));
  });

  it('is byte-identical across runs', async () => {
    const a = await runInProcess(['compile', 'examples/', '--frozen']);
    const b = await runInProcess(['compile', 'examples/', '--frozen']);
    expect(a.stdout).toBe(b.stdout);
  });

  it('writes -o atomically and --check compares', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'm.yaml'), SINGLE);
    const written = await runInProcess(['compile', '.', '--gateway', 'em0', '-o', 'rules.conf'], { cwd: dir });
    expect(written.code).toBe(0);
    expect(written.stdout).toBe('');
    expect(readFileSync(join(dir, 'rules.conf'), 'utf8')).toContain(
      'rdr on em0 inet proto tcp from any to (em0) port = 8080 tag pfexpose -> 10.0.0.2 port 80\n',
    );
    expect((await runInProcess(['compile', '.', '--gateway', 'em0', '--check', 'rules.conf'], { cwd: dir })).code).toBe(
      0,
    );
    writeFileSync(join(dir, 'm.yaml'), SINGLE.replace('8080:80', '8081:80'));
    const stale = await runInProcess(['compile', '.', '--gateway', 'em0', '--check', 'rules.conf'], { cwd: dir });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('rules.conf differs from what compile would write');
    expect(
      (await runInProcess(['compile', '.', '--gateway', 'em0', '--check', 'missing.conf'], { cwd: dir })).code,
    ).toBe(1);
  });

  const unwritable: [string, { output: string; reason: RegExp }][] = [
    ['under a regular file', { output: 'm.yaml/rules.conf', reason: /a part of its path is not a directory/ }],
    ['in a directory that does not exist', { output: 'nowhere/rules.conf', reason: /its directory does not exist/ }],
    ['onto a directory', { output: 'sub', reason: /it is a directory/ }],
  ];
  it.each(unwritable)(
    '-o %s: exit 1 naming the output, never a temporary file, none left behind',
    async (_name, { output, reason }) => {
      const dir = tempDir();
      writeFileSync(join(dir, 'm.yaml'), SINGLE);
      mkdirSync(join(dir, 'sub'));
      const result = await runInProcess(['compile', '.', '--gateway', 'em0', '-o', output], { cwd: dir });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`cannot write ${output}: `);
      expect(result.stderr).toMatch(reason);
      expect(result.stderr).not.toMatch(/\.tmp|cannot write .*cannot write/);
      expect(readdirSync(dir).sort()).toEqual(['m.yaml', 'sub']);
      expect(readdirSync(join(dir, 'sub'))).toEqual([]);
    },
  );

  it('names the lock file, not a temporary file, when it cannot be written', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'm.yaml'), EPHEMERAL);
    const result = await runInProcess(['compile', '.', '--gateway', 'em0', '--lock', 'nowhere/pfexpose.lock.json'], {
      cwd: dir,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'cannot write the lock file nowhere/pfexpose.lock.json: its directory does not exist',
    );
    expect(result.stderr).not.toMatch(/\.tmp/);
  });

  it('leaves no output file when the manifests are invalid', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'm.yaml'), SINGLE.replace('8080:80', '0:80'));
    const result = await runInProcess(['compile', '.', '--gateway', 'em0', '-o', 'rules.conf'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^m\.yaml:6:9: error port-zero /m);
    expect(existsSync(join(dir, 'rules.conf'))).toBe(false);
  });

  it('names both remedies when the gateway is unknown', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'm.yaml'), SINGLE);
    const result = await runInProcess(['compile', '.'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^m\.yaml:6:9: error gateway-missing /m);
    expect(result.stderr).toContain('--gateway IF');
    expect(result.stderr).toContain('gateway');
  });

  it('refuses a pf keyword as --gateway with the same words as in a manifest (exit 2)', async () => {
    for (const word of ['dnpipe', 'self']) {
      const result = await runInProcess(['compile', 'examples/', '--gateway', word]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `--gateway "${word}" is not an interface name: "${word}" is a word of pf's rule grammar`,
      );
    }
  });

  it('rejects bad flag values with exit 2 and names the flag', async () => {
    for (const args of [
      ['--gateway', 'em0;pass'],
      ['--pool', '9000-80'],
      ['--anchor', 'a b'],
      ['--dialect', 'linux'],
    ]) {
      const result = await runInProcess(['compile', 'examples/', ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(args[0]);
      expect(result.stdout).toBe('');
    }
  });

  it('records dynamic ports in the lock file, keeps them, and --frozen refuses to change it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'm.yaml'), EPHEMERAL);
    const frozen = await runInProcess(['compile', '.', '--frozen'], { cwd: dir });
    expect(frozen.code).toBe(1);
    expect(frozen.stderr).toContain('lock-frozen');
    expect(existsSync(join(dir, 'pfexpose.lock.json'))).toBe(false);

    const first = await runInProcess(['compile', '.'], { cwd: dir });
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('updated pfexpose.lock.json');
    expect(first.stdout).toContain('to (self) port = 49000 tag pfexpose -> 10.0.0.3 port 80');
    // (self) includes 127.0.0.1, so the second request may not share 49000.
    expect(first.stdout).toContain('to 127.0.0.1 port = 49001 tag pfexpose -> 10.0.0.3 port 443');
    const lock = readFileSync(join(dir, 'pfexpose.lock.json'), 'utf8');

    // Another container arriving first in every order must not move the recorded ports.
    writeFileSync(join(dir, 'a-first.yaml'), EPHEMERAL.replace('app:', 'aaa:').replace('10.0.0.3', '10.0.0.4'));
    const second = await runInProcess(['compile', '.'], { cwd: dir });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('to (self) port = 49000 tag pfexpose -> 10.0.0.3 port 80');
    expect(second.stdout).toContain('to 127.0.0.1 port = 49001 tag pfexpose -> 10.0.0.3 port 443');
    expect(second.stdout).toMatch(/to \(self\) port = 4900[2-9] tag pfexpose -> 10\.0\.0\.4 port 80/);
    rmSync(join(dir, 'a-first.yaml'));
    expect((await runInProcess(['compile', '.'], { cwd: dir })).code).toBe(0);
    expect(readFileSync(join(dir, 'pfexpose.lock.json'), 'utf8')).toBe(lock);
    expect((await runInProcess(['compile', '.', '--frozen'], { cwd: dir })).code).toBe(0);
  });

  it('a new fixed host port on an allocated one is a conflict at both entries; the lock keeps the allocation', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'm.yaml'), EPHEMERAL);
    expect((await runInProcess(['compile', '.'], { cwd: dir })).code).toBe(0);
    const lock = readFileSync(join(dir, 'pfexpose.lock.json'), 'utf8');
    writeFileSync(
      join(dir, 'n.yaml'),
      'version: 1\nsyntax: docker\ncontainers:\n  intruder:\n    ip: 10.0.0.9\n    ports: ["49000:80"]\n',
    );
    const result = await runInProcess(['compile', '.'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^m\.yaml:7:9: error port-conflict .*also claimed by intruder at n\.yaml:6:13/m);
    expect(result.stderr).toMatch(
      /^n\.yaml:6:13: error port-conflict .*allocated to app at m\.yaml:7:9 \(recorded in pfexpose\.lock\.json\)/m,
    );
    expect(result.stderr).toContain('delete the lock entry of app from pfexpose.lock.json');
    expect(readFileSync(join(dir, 'pfexpose.lock.json'), 'utf8')).toBe(lock);
  });

  it('--frozen fails on a lock entry of a host that no manifest names any more, naming the entry', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'm.yaml'), EPHEMERAL);
    expect((await runInProcess(['compile', '.'], { cwd: dir })).code).toBe(0);
    const lock = JSON.parse(readFileSync(join(dir, 'pfexpose.lock.json'), 'utf8')) as {
      version: 1;
      entries: Record<string, unknown>[];
    };
    lock.entries.push({ ...lock.entries[0], host: 'gone', container: 'old' });
    writeFileSync(join(dir, 'pfexpose.lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
    const frozen = await runInProcess(['compile', '.', '--frozen'], { cwd: dir });
    expect(frozen.code).toBe(1);
    expect(frozen.stderr).toMatch(
      /^pfexpose\.lock\.json:1:1: error lock-frozen the lock entry gone: old 80\/tcp on every address \(ephemeral\) -> 49000 /m,
    );
    const updated = await runInProcess(['compile', '.'], { cwd: dir });
    expect(updated.code).toBe(0);
    expect(readFileSync(join(dir, 'pfexpose.lock.json'), 'utf8')).not.toContain('gone');
    expect((await runInProcess(['compile', '.', '--frozen'], { cwd: dir })).code).toBe(0);
  });

  it('compiling some files of a directory keeps the lock entries of the others', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    const app = (name: string, ip: string): string => EPHEMERAL.replace('app:', `${name}:`).replace('10.0.0.3', ip);
    writeFileSync(join(dir, 'm', 'db.yaml'), app('db', '10.0.0.4'));
    writeFileSync(join(dir, 'm', 'web.yaml'), app('web', '10.0.0.5'));
    writeFileSync(join(dir, 'm', 'host.yaml'), 'version: 1\nhosts:\n  www1:\n    gateway: em0\n');
    expect((await runInProcess(['compile', 'm'], { cwd: dir })).code).toBe(0);
    const lockFile = join(dir, 'm', 'pfexpose.lock.json');
    const lock = readFileSync(lockFile, 'utf8');
    expect(lock).toContain('"db"');

    const subset = await runInProcess(['compile', 'm/web.yaml', 'm/host.yaml', '--frozen'], { cwd: dir });
    expect(subset.code).toBe(0);
    expect((await runInProcess(['compile', 'm/web.yaml', 'm/host.yaml'], { cwd: dir })).stderr).not.toContain(
      'updated',
    );
    expect(readFileSync(lockFile, 'utf8')).toBe(lock);
    // A file compiled alone gets ports that the containers not read do not hold.
    writeFileSync(join(dir, 'm', 'new.yaml'), app('new', '10.0.0.6'));
    const added = await runInProcess(['compile', 'm/new.yaml', 'm/host.yaml'], { cwd: dir });
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('to (self) port = 49004 tag pfexpose -> 10.0.0.6 port 80');
    expect((await runInProcess(['compile', 'm', '--frozen'], { cwd: dir })).code).toBe(0);
    // Once a manifest is gone, compiling every file left drops its entries.
    rmSync(join(dir, 'm', 'db.yaml'));
    expect((await runInProcess(['compile', 'm/web.yaml', 'm/new.yaml', 'm/host.yaml'], { cwd: dir })).code).toBe(0);
    expect(readFileSync(lockFile, 'utf8')).not.toContain('"db"');
  });

  it('the lock lives in the deepest directory holding every path, whatever their order', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '.git')); // a repository: the lock above a/ counts for a/ alone (below)
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    writeFileSync(join(dir, 'a', 'm.yaml'), EPHEMERAL);
    writeFileSync(join(dir, 'b', 'm.yaml'), EPHEMERAL.replace('app:', 'other:').replace('10.0.0.3', '10.0.0.4'));
    const ba = await runInProcess(['compile', 'b/', 'a/'], { cwd: dir });
    expect(ba.code).toBe(0);
    expect(ba.stderr).toContain('updated pfexpose.lock.json');
    const lock = readFileSync(join(dir, 'pfexpose.lock.json'), 'utf8');
    const ab = await runInProcess(['compile', 'a/', 'b/', '--frozen'], { cwd: dir });
    expect(ab.code).toBe(0);
    expect(ab.stdout).toBe(ba.stdout);
    expect(existsSync(join(dir, 'a', 'pfexpose.lock.json'))).toBe(false);
    expect(existsSync(join(dir, 'b', 'pfexpose.lock.json'))).toBe(false);
    // One file compiled alone uses the lock above it, and keeps the entries of the other directory.
    const one = await runInProcess(['compile', 'a/m.yaml', '--frozen'], { cwd: dir });
    expect(one.code).toBe(0);
    expect(existsSync(join(dir, 'a', 'pfexpose.lock.json'))).toBe(false);
    expect(readFileSync(join(dir, 'pfexpose.lock.json'), 'utf8')).toBe(lock);
  });

  it('outside a repository, a lock in a parent directory is never picked up', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'pfexpose.lock.json'), '{ "version": 1, "entries": [] }\n');
    writeFileSync(join(dir, 'a', 'm.yaml'), EPHEMERAL);
    const run = await runInProcess(['compile', 'a/'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`updated ${join('a', 'pfexpose.lock.json')}`);
    expect(readFileSync(join(dir, 'pfexpose.lock.json'), 'utf8')).toBe('{ "version": 1, "entries": [] }\n');
  });

  describe('the lock of a repository, compiling a subdirectory', () => {
    // repo/.git marks the repository root; repo/other.yaml lies beside the lock, repo/sub/ below it.
    const app = (name: string, ip: string): string => EPHEMERAL.replace('app:', `${name}:`).replace('10.0.0.3', ip);
    const makeRepo = async (): Promise<{ dir: string; repo: string; lock: string; full: string }> => {
      const dir = tempDir();
      const repo = join(dir, 'repo');
      mkdirSync(join(repo, '.git'), { recursive: true });
      mkdirSync(join(repo, 'sub'));
      writeFileSync(join(repo, 'other.yaml'), app('other', '10.0.0.4'));
      writeFileSync(join(repo, 'sub', 'web.yaml'), app('web', '10.0.0.5'));
      const full = await runInProcess(['compile', 'repo'], { cwd: dir });
      expect(full.code).toBe(0);
      expect(full.stderr).toContain('updated repo/pfexpose.lock.json');
      return { dir, repo, lock: readFileSync(join(repo, 'pfexpose.lock.json'), 'utf8'), full: full.stdout };
    };
    const rulesOf = (stdout: string, ip: string): string[] =>
      stdout.split('\n').filter((line) => line.includes(`-> ${ip} `));

    it("uses the repository's lock, keeps the entries of the files not read, and --frozen holds it to them", async () => {
      const { dir, repo, lock, full } = await makeRepo();
      expect(lock).toContain('"other"');
      const sub = await runInProcess(['compile', 'repo/sub'], { cwd: dir });
      expect(sub.code).toBe(0);
      expect(sub.stderr).toBe('');
      expect(existsSync(join(repo, 'sub', 'pfexpose.lock.json'))).toBe(false);
      // The ports web got in the full compile, and other's entries with their ports, untouched.
      expect(rulesOf(sub.stdout, '10.0.0.5')).toEqual(rulesOf(full, '10.0.0.5'));
      expect(rulesOf(sub.stdout, '10.0.0.5')).not.toEqual([]);
      expect(readFileSync(join(repo, 'pfexpose.lock.json'), 'utf8')).toBe(lock);
      expect((await runInProcess(['compile', 'sub/', '--frozen'], { cwd: repo })).code).toBe(0);
      // From inside the subdirectory too; the lock is named as the paths are, relative to it.
      const inside = await runInProcess(['compile', '.', '--frozen'], { cwd: join(repo, 'sub') });
      expect(inside.code).toBe(0);
      expect(inside.stdout).toBe(sub.stdout.replaceAll('repo/sub/', ''));

      // A new container there is recorded in the repository's lock, around the ports of the others.
      writeFileSync(join(repo, 'sub', 'new.yaml'), app('new', '10.0.0.6'));
      const frozen = await runInProcess(['compile', 'repo/sub', '--frozen'], { cwd: dir });
      expect(frozen.code).toBe(1);
      expect(frozen.stderr).toMatch(/^repo\/sub\/new\.yaml:\d+:\d+: error lock-frozen /m);
      const added = await runInProcess(['compile', 'repo/sub'], { cwd: dir });
      expect(added.code).toBe(0);
      expect(added.stderr).toBe('updated repo/pfexpose.lock.json\n');
      expect(added.stdout).toContain('to (self) port = 49004 tag pfexpose -> 10.0.0.6 port 80');
      const updated = readFileSync(join(repo, 'pfexpose.lock.json'), 'utf8');
      expect(updated).toContain('"other"');
      expect(updated).toContain('"new"');
      expect((await runInProcess(['compile', 'repo', '--frozen'], { cwd: dir })).code).toBe(0);
    });

    it('looks no higher than the repository root, and takes a lock further down first', async () => {
      const { dir, repo } = await makeRepo();
      // A lock above the repository belongs to something else: a new repository starts its own.
      const inner = join(repo, 'sub', 'inner');
      mkdirSync(join(inner, '.git'), { recursive: true });
      writeFileSync(join(inner, 'db.yaml'), app('db', '10.0.0.7'));
      const own = await runInProcess(['compile', 'repo/sub/inner'], { cwd: dir });
      expect(own.code).toBe(0);
      expect(own.stderr).toBe('updated repo/sub/inner/pfexpose.lock.json\n');
      rmSync(join(inner, 'db.yaml'));
      rmSync(join(inner, 'pfexpose.lock.json'));
      rmSync(join(inner, '.git'), { recursive: true });
      // The nearest lock wins: one in sub/ is used by sub/, the repository's by the rest.
      writeFileSync(join(repo, 'sub', 'pfexpose.lock.json'), '{"version": 1, "entries": []}\n');
      const near = await runInProcess(['compile', 'repo/sub/web.yaml'], { cwd: dir });
      expect(near.stderr).toBe('updated repo/sub/pfexpose.lock.json\n');
      expect((await runInProcess(['compile', 'repo', '--frozen'], { cwd: dir })).code).toBe(0);
    });
  });

  it('shortens labels that would pass 63 characters, and they still load', async () => {
    const dir = tempDir();
    const name = 'a-very-long-container-name-31ch';
    writeFileSync(
      join(dir, 'm.yaml'),
      `version: 1\nsyntax: docker\ncontainers:\n  ${name}:\n    ip6: fd00::2\n    ports: ["[2001:db8:1234:5678:9abc:def0:1234:5678]:65001-65010:80-89"]\n`,
    );
    const result = await runInProcess(['compile', '.'], { cwd: dir });
    expect(result.code).toBe(0);
    const label = /label "([^"]+)"/.exec(result.stdout)?.[1] ?? '';
    expect(label.length).toBeLessThanOrEqual(63);
    expect(label).toMatch(new RegExp(`^${name}:tcp:~[0-9a-f]{8}:65001-65010$`));
  });

  it('selects one host of a multi-host repository', async () => {
    const dir = tempDir();
    cpSync(resolve('test/fixtures/compile/multi-host'), dir, { recursive: true });
    const none = await runInProcess(['compile', '.'], { cwd: dir });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('--host');
    const alpha = await runInProcess(['compile', '.', '--host', 'alpha'], { cwd: dir });
    expect(alpha.code).toBe(0);
    expect(alpha.stdout).toContain('-> 10.1.0.2 port 80');
    expect(alpha.stdout).not.toContain('10.2.0.2');
    const beta = await runInProcess(['compile', '.', '--host', 'beta'], { cwd: dir });
    expect(beta.code).toBe(0);
    expect(beta.stdout).toContain(
      'rdr on vtnet0 inet proto tcp from any to (vtnet0) port = 8080 tag pfexpose -> 10.2.0.2 port 80',
    );
    const unknown = await runInProcess(['compile', '.', '--host', 'gamma'], { cwd: dir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('alpha');
  });

  it('says an unknown --host as pfexpose: ..., not at <command line>:1:1, with did-you-mean', async () => {
    const dir = tempDir();
    cpSync(resolve('test/fixtures/compile/multi-host'), dir, { recursive: true });
    const typo = await runInProcess(['compile', '.', '--host', 'alpho'], { cwd: dir });
    expect(typo.code).toBe(1);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toBe(
      'pfexpose: error unknown-host --host alpho is not a host of these manifests; known hosts: alpha (alpha.yaml:3:7), beta (beta.yaml:3:7); did you mean alpha?\n',
    );
    const far = await runInProcess(['compile', '.', '--host', 'zzzzzz'], { cwd: dir });
    expect(far.code).toBe(1);
    expect(far.stderr).toMatch(
      /^pfexpose: error unknown-host --host zzzzzz is not a host of these manifests; known hosts: alpha \(alpha\.yaml:3:7\), beta \(beta\.yaml:3:7\)\n$/,
    );
  });
});

describe('pfexpose ls and port', () => {
  it('lists every exposure of the examples (golden)', async () => {
    const result = await runInProcess(['ls', 'examples/']);
    expect(result.code).toBe(0);
    await expect(result.stdout).toMatchFileSnapshot(join(GOLDEN, 'examples.ls.txt'));
  });

  it('prints docker port format, every address as `any`', async () => {
    const all = await runInProcess(['port', 'api', '-m', 'examples/']);
    expect(all.code).toBe(0);
    expect(all.stdout).toBe('8080/tcp -> any:49000\n9090/tcp -> any:49001\n');
    const one = await runInProcess(['port', 'legacy', '80', '-m', 'examples/']);
    expect(one.stdout).toBe('127.0.0.1:8081\nany:8000\n');
    const udp = await runInProcess(['port', 'web', '80/udp', '-m', 'examples/']);
    expect(udp.stdout).toBe('em0:8080\n');
  });

  it('fails clearly for unknown containers and unpublished ports', async () => {
    const missing = await runInProcess(['port', 'nope', '-m', 'examples/']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no container "nope"');
    const unpublished = await runInProcess(['port', 'legacy', '80/sctp', '-m', 'examples/']);
    expect(unpublished.code).toBe(1);
    expect(unpublished.stderr).toContain("no public port '80/sctp' published for legacy");
    const bad = await runInProcess(['port', 'legacy', '80/icmp', '-m', 'examples/']);
    expect(bad.code).toBe(2);
  });
});
