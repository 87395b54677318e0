// Runs once before any test file. The pfctl simulator and the built-CLI tests read dist/, so a run
// after editing src/ without `npm run build` would test the old code: rebuild when dist/ is older
// than what it is built from. Under `npm test` the build has just run, so this finds nothing to do.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

/** The newest mtime (ms) of the files under dir that match, 0 when there are none. */
function newest(dir: string, match: (name: string) => boolean): number {
  if (!existsSync(dir)) return 0;
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !match(entry.name)) continue;
    latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** Why dist/ (or man/, written last by the build) is out of date, or null when it is current. */
export function staleReason(): string | null {
  const dist = newest(join(root, 'dist'), (name) => name.endsWith('.js'));
  if (dist === 0) return 'dist/ is missing';
  if (!existsSync(join(root, 'src', 'manifest', 'generated'))) return 'src/manifest/generated/ is missing';
  const man = newest(join(root, 'man'), (name) => /\.[0-9]$/.test(name));
  if (man === 0) return 'man/ is missing';
  const sources = Math.max(
    newest(join(root, 'src'), (name) => name.endsWith('.ts')),
    newest(join(root, 'schema'), () => true),
    newest(join(root, 'scripts'), (name) => name.startsWith('build-') && name.endsWith('.mjs')),
  );
  return sources > Math.min(dist, man) ? 'src/, schema/ or a build script changed since dist/ was built' : null;
}

export default function setup(): void {
  const reason = staleReason();
  if (reason === null) return;
  process.stdout.write(`global-setup: ${reason}; running npm run build\n`);
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}
