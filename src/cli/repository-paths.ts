// Paths as CI tools want them: relative to the repository root, with `/`, whatever directory the
// tool ran in. GitHub annotations and code scanning attach only to such paths. The root is
// $GITHUB_WORKSPACE when set, else the nearest directory above the working directory holding
// `.git`, else the working directory itself.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isCommandLine, type Diagnostic } from '../diagnostics/diagnostic.js';

export function repositoryRoot(cwd: string, env: Readonly<Record<string, string | undefined>>): string {
  const workspace = env['GITHUB_WORKSPACE'];
  if (workspace !== undefined && workspace !== '') return resolve(cwd, workspace);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
  }
}

/** Maps a path as the user named it (relative to cwd, or absolute) onto the repository root. */
export function repositoryPath(
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
): (file: string) => string {
  const root = repositoryRoot(cwd, env);
  return (file) => {
    const absolute = isAbsolute(file) ? file : resolve(cwd, file);
    const inside = relative(root, absolute);
    // Outside the repository, the absolute path is the honest answer.
    if (inside.startsWith('..') || isAbsolute(inside)) return absolute.split(sep).join('/');
    return inside.split(sep).join('/');
  };
}

/** The diagnostics with their files named from the repository root (the command line stays as it is). */
export function fromRepositoryRoot(diagnostics: readonly Diagnostic[], path: (file: string) => string): Diagnostic[] {
  return diagnostics.map((d) => (isCommandLine(d) ? d : { ...d, file: path(d.file) }));
}
