// The `.pfexposeignore` file: gitignore-syntax patterns, at the root of a directory given as a
// PATH, naming files and directories that discovery skips. Pure: the file system walker, the
// git revision reader and the agent's watcher read the file their own way and share this matcher.
import ignore from 'ignore';

/** The ignore file's name; it is read at the root of each directory PATH only, never below it. */
export const IGNORE_FILE_NAME = '.pfexposeignore';

export interface IgnoreRules {
  /**
   * Whether a path found while searching is skipped: `relative` is the path below the root,
   * '/'-separated, never empty; directories are tested with `isDirectory` true. A path under an
   * ignored directory is ignored too (gitignore's rule: a file cannot be re-included there).
   */
  ignores(relative: string, isDirectory: boolean): boolean;
}

/** Rules that skip nothing: a root without an ignore file. */
export const NO_IGNORE_RULES: IgnoreRules = { ignores: () => false };

/**
 * The rules of an ignore file's text (a leading BOM is dropped). Matching is case-sensitive, as
 * git's is on FreeBSD's file systems: `Docker-compose.yml` is not `docker-compose.yml`.
 */
export function parseIgnoreRules(text: string): IgnoreRules {
  const matcher = ignore({ ignorecase: false }).add(text.startsWith('\ufeff') ? text.slice(1) : text);
  return {
    ignores(relative, isDirectory) {
      if (!ignore.isPathValid(relative)) return false;
      return matcher.ignores(isDirectory ? `${relative}/` : relative);
    },
  };
}

/** Whether any part of a '/'-separated relative path is hidden (a name starting with '.'). */
export function isHiddenPath(relative: string): boolean {
  return relative.split('/').some((part) => part.startsWith('.'));
}
