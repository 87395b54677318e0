// The release artefact: the tarball `npm pack` makes must install with scripts off (nothing is built
// on the user's machine) and run. Packed with --ignore-scripts from the dist/ and man/ that
// test/global-setup.ts keeps current: `prepack` would clean and rebuild dist/ under the feet of the
// tests running beside this one. Installed from npm's cache (--prefer-offline), which `npm ci` filled.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  man: string[];
  scripts: Record<string, string>;
};

let dir: string;
let tarball: string;
let packed: string[];
let prefix: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pfexpose-pack-'));
  const report = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [entry] = JSON.parse(report) as { filename: string; files: { path: string }[] }[];
  tarball = join(dir, entry!.filename);
  packed = entry!.files.map((f) => f.path);
  prefix = join(dir, 'prefix');
  execFileSync(
    'npm',
    [
      'install',
      '--global',
      '--ignore-scripts',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--prefix',
      prefix,
      tarball,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } },
  );
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the npm pack tarball', () => {
  it('is named for the version and carries what users run and read, and no sources', () => {
    expect(tarball.endsWith(`pfexpose-${pkg.version}.tgz`)).toBe(true);
    for (const file of [
      'LICENSE',
      'README.md',
      'docs/guide/getting-started.md',
      'docs/reference/diagnostics.md',
      'package.json',
      'bin/pfexpose.js',
      'dist/cli/main.js',
      'dist/manifest/generated/validate-manifest.js',
      'schema/pfexpose.schema.json',
      'schema/output/defs.schema.json',
      'schema/output/plan.schema.json',
      'man/pfexpose.8',
      'man/pfexpose.yaml.5',
      'contrib/rc.d/pfexpose',
      'contrib/github/pfexpose.yml',
    ]) {
      expect(packed).toContain(file);
    }
    expect(packed.filter((f) => /^(src|test|scripts|bench|examples|node_modules|\.ci|\.github)\//.test(f))).toEqual([]);
  });

  it('installs with scripts off and runs: --version is the package version', () => {
    const bin = join(prefix, 'bin', 'pfexpose');
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
  });

  it('compiles the examples exactly as the checkout does', () => {
    const work = join(dir, 'work');
    cpSync(join(root, 'examples'), join(work, 'examples'), { recursive: true });
    const installed = spawnSync(join(prefix, 'bin', 'pfexpose'), ['compile', 'examples/'], {
      cwd: work,
      encoding: 'utf8',
    });
    const checkout = spawnSync(process.execPath, [join(root, 'bin', 'pfexpose.js'), 'compile', 'examples/'], {
      cwd: work,
      encoding: 'utf8',
    });
    expect(installed.status).toBe(0);
    expect(installed.stdout).toMatch(/^# pfexpose ruleset for anchor "pfexpose"/);
    expect(installed.stdout).toContain('rdr ');
    expect([installed.stdout, installed.stderr]).toEqual([checkout.stdout, checkout.stderr]);
  });

  it('installs the man pages where man(1) finds them under the prefix', () => {
    expect(pkg.man).toEqual(['./man/pfexpose.8', './man/pfexpose.yaml.5']);
    expect(existsSync(join(prefix, 'share', 'man', 'man8', 'pfexpose.8'))).toBe(true);
    expect(existsSync(join(prefix, 'share', 'man', 'man5', 'pfexpose.yaml.5'))).toBe(true);
  });

  it('installs only the run-time dependencies: no ajv, no TypeScript', () => {
    const modules = join(prefix, 'lib', 'node_modules', 'pfexpose', 'node_modules');
    const installed = existsSync(modules) ? readdirSync(modules) : [];
    expect(installed).toEqual(expect.arrayContaining(Object.keys(pkg.dependencies)));
    expect(installed).not.toContain('ajv');
    expect(installed).not.toContain('typescript');
  });
});

describe('package.json', () => {
  it('declares as dependencies exactly the packages dist/ imports', () => {
    const imported = new Set<string>();
    for (const entry of readdirSync(join(root, 'dist'), { withFileTypes: true, recursive: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
      const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
      // TypeScript's scanner finds import declarations and import() calls, never text in strings.
      for (const { fileName: specifier } of ts.preProcessFile(text, true, true).importedFiles) {
        if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
        imported.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);
      }
    }
    expect([...imported].sort()).toEqual(Object.keys(pkg.dependencies).sort());
  });

  it('builds before packing (prepack), from a clean dist/ and man/', () => {
    expect(pkg.scripts['prepack']).toBe('npm run clean && npm run build');
    expect(pkg.scripts['build']).toMatch(/build-validator\.mjs.*tsc .*build-man\.mjs$/);
  });
});

describe('scripts/prepare.mjs (npm ci in a checkout)', () => {
  const script = join(root, 'scripts', 'prepare.mjs');

  it('does not build again when npm runs it for a pack, after prepack', () => {
    // No npm on PATH: a build attempt would fail.
    const result = spawnSync(process.execPath, [script], {
      cwd: root,
      env: { PATH: '/nonexistent', npm_command: 'pack' },
      encoding: 'utf8',
    });
    expect([result.status, result.stderr]).toEqual([0, '']);
  });

  it('explains, instead of a module error, when the dev dependencies are missing (a git install)', () => {
    const clone = join(dir, 'clone');
    cpSync(script, join(clone, 'scripts', 'prepare.mjs'));
    const result = spawnSync(process.execPath, [join(clone, 'scripts', 'prepare.mjs')], {
      cwd: clone,
      env: { PATH: process.env['PATH'], npm_command: 'install' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^pfexpose: cannot build here: the dev dependencies \(typescript, ajv\)/);
    expect(result.stderr).toContain('install the release tarball');
  });
});
