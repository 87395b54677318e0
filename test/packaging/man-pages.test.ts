// The manual pages scripts/build-man.mjs writes at build time: deterministic, clean under mandoc's
// lint, and complete against what `--help` prints and what the schema defines, so that a new command,
// option, key or environment variable cannot be left out. mandoc is a Debian package (.ci/run
// installs it); a missing one fails here rather than skipping.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/cli.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pages = ['pfexpose.8', 'pfexpose.yaml.5'] as const;

let dir: string;
const page: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pfexpose-man-'));
  execFileSync(process.execPath, [join(root, 'scripts', 'build-man.mjs'), '--out', dir], { stdio: 'pipe' });
  for (const name of pages) page[name] = readFileSync(join(dir, name), 'utf8');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The manuals the pages refer to that Debian, where the suite runs, does not have: FreeBSD's own,
 * and each other (mandoc looks only in the system's manual tree). On FreeBSD with pfexpose
 * installed, every one resolves.
 */
const elsewhere = ['pf.conf 5', 'rc.conf 5', 'daemon 8', 'jail 8', 'pfctl 8', 'pfexpose 8', 'pfexpose.yaml 5'];

/** mandoc -Tlint's messages about a file, less "referenced manual not found" for those manuals. */
function lint(file: string): string[] {
  const result = spawnSync('mandoc', ['-Tlint', file], { encoding: 'utf8' });
  expect(result.error).toBeUndefined();
  return `${result.stdout}${result.stderr}`
    .split('\n')
    .filter((line) => line !== '')
    .filter((line) => {
      const missing = /STYLE: referenced manual not found: Xr (\S+ \d)(?: \(\d+ times\))?$/.exec(line);
      return missing === null || !elsewhere.includes(missing[1]!);
    });
}

describe('man pages', () => {
  it('are what the build wrote to man/ (the generator is deterministic)', () => {
    for (const name of pages) expect(readFileSync(join(root, 'man', name), 'utf8')).toBe(page[name]);
  });

  it.each(pages)('%s is clean under mandoc -Tlint', (name) => {
    expect(lint(join(dir, name))).toEqual([]);
  });

  it('the lint is not blind: a page with a mistake is reported', () => {
    const broken = join(dir, 'broken.8');
    writeFileSync(broken, page['pfexpose.8']!.replace('.Sh SEE ALSO\n', '.Sh SEE ALSO\nThis one. This two.\n'));
    expect(lint(broken)).toEqual([expect.stringMatching(/:\d+:\d+: WARNING: new sentence, new line$/)]);
  });

  it('pfexpose.8 documents every command and every long option --help lists, under its command', async () => {
    const top = await runInProcess(['--help']);
    const commands = [...top.stdout.slice(top.stdout.indexOf('Commands:')).matchAll(/^ {2}([a-z]+) /gm)]
      .map((m) => m[1]!)
      .filter((name) => name !== 'help');
    expect(commands).toEqual([
      'init',
      'import',
      'validate',
      'compile',
      'ls',
      'port',
      'env',
      'plan',
      'apply',
      'rollback',
      'confirm',
      'status',
      'history',
      'watch',
      'schema',
    ]);
    const text = page['pfexpose.8']!;
    const description = text.slice(text.indexOf('.Sh DESCRIPTION'), text.indexOf('.Sh ENVIRONMENT'));
    const blocks = description.split(/^(?=\.It Cm )/m);
    for (const command of commands) {
      const help = await runInProcess([command, '--help']);
      const options = help.stdout.slice(help.stdout.indexOf('Options:'));
      const longs = [...options.matchAll(/^ {2}(?:-\w, )?--([a-z][a-z-]*)/gm)].map((m) => m[1]!);
      expect(longs.length).toBeGreaterThan(0);
      const block = blocks.find((b) => b.startsWith(`.It Cm ${command}\n`) || b.startsWith(`.It Cm ${command} `));
      expect(block, command).toBeDefined();
      const synopsis = text.slice(text.indexOf('.Sh SYNOPSIS'), text.indexOf('.Sh DESCRIPTION'));
      expect(synopsis).toContain(`.Cm ${command}\n`);
      for (const long of longs) {
        if (long === 'help') continue;
        expect(block, `${command} --${long}`).toMatch(new RegExp(`^\\.It (Fl \\w , )?Fl -${long}( |$)`, 'm'));
      }
    }
    expect(text).toMatch(/^\.Fl V \| -version$/m);
  });

  it('pfexpose.8 lists every PFEXPOSE_ variable the code reads under ENVIRONMENT', () => {
    const names = new Set<string>();
    const walk = (directory: string): void => {
      for (const entry of readdirSync(directory, { withFileTypes: true })) {
        const path = join(directory, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts')) {
          for (const m of readFileSync(path, 'utf8').matchAll(/\benv\[['"](PFEXPOSE_[A-Z_]+)['"]\]/g)) names.add(m[1]!);
        }
      }
    };
    walk(join(root, 'src'));
    expect(names.size).toBeGreaterThan(3);
    const text = page['pfexpose.8']!;
    const environment = text.slice(text.indexOf('.Sh ENVIRONMENT'), text.indexOf('.Sh FILES'));
    for (const name of names) expect(environment, name).toContain(`.It Ev ${name}\n`);
  });

  it('pfexpose.yaml.5 documents every key of documents, hosts, containers and port entries', () => {
    const schema = JSON.parse(readFileSync(join(root, 'schema', 'pfexpose.schema.json'), 'utf8')) as {
      properties: Record<string, unknown>;
      $defs: Record<string, { properties: Record<string, unknown> }>;
    };
    const keys = new Set([
      ...Object.keys(schema.properties),
      ...['hostDeclaration', 'container', 'longPort', 'kleenePort', 'dockerPort'].flatMap((d) =>
        Object.keys(schema.$defs[d]!.properties),
      ),
    ]);
    expect(keys.size).toBeGreaterThan(25);
    const listed = new Set([...page['pfexpose.yaml.5']!.matchAll(/^\.It Ic (\S+)/gm)].map((m) => m[1]!));
    for (const key of keys) expect(listed, key).toContain(key);
  });
});
