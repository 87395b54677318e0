// Runs git for the revision reader (src/manifest/git-revision.ts): without a shell, with no
// optional locks (reading must not even refresh the index) and in the C locale.
import { execFile } from 'node:child_process';
import {
  readRevision,
  type GitRevisionRequest,
  type GitRevisionResult,
  type GitRun,
} from '../manifest/git-revision.js';
import { MAX_LOCKFILE_BYTES } from './lock-file.js';
import { definedOnly } from './run-command.js';

/** Manifests and the lock file at a revision, read by running `git` (or request.git) in request.cwd. */
export function readGitRevision(
  request: Omit<GitRevisionRequest, 'maxLockBytes'> & {
    /** The git program (default `git`) and its environment. */
    git?: string;
    env?: Readonly<Record<string, string | undefined>>;
  },
): Promise<GitRevisionResult> {
  const run = (args: string[]): Promise<GitRun> => runGit(request.git ?? 'git', args, request.cwd, request.env);
  return readRevision(run, { ...request, maxLockBytes: MAX_LOCKFILE_BYTES });
}

function runGit(
  program: string,
  args: string[],
  cwd: string,
  env: Readonly<Record<string, string | undefined>> | undefined,
  input?: string,
): Promise<GitRun> {
  return new Promise((done) => {
    const child = execFile(
      program,
      args,
      {
        cwd,
        encoding: 'buffer',
        maxBuffer: 256 * 1024 * 1024,
        // No optional locks: reading must not even refresh the index.
        env: { ...definedOnly(env ?? process.env), GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' },
      },
      (error, stdout, stderr) => {
        if (error === null) {
          done({ ok: true, stdout });
          return;
        }
        const code = (error as NodeJS.ErrnoException).code;
        const said = stderr.toString('utf8').trim().split('\n')[0] ?? '';
        done({
          ok: false,
          message:
            code === 'ENOENT'
              ? `${program}: program not found (is git installed?)`
              : said !== ''
                ? said
                : error.message,
        });
      },
    );
    child.stdin?.end(input);
  });
}
