// Python's jsonschema as a second validator for the tests: finds a Python that has it and runs a
// checker script given its input on stdin, failing with the install command when it is missing.
import { spawnSync } from 'node:child_process';

/**
 * The first Python that has jsonschema: the one on PATH (pyenv's, say), else Debian's own, where
 * `apt-get install python3-jsonschema` puts the module (.ci/run installs it when neither has it).
 */
const PYTHON =
  ['python3', '/usr/bin/python3'].find(
    (candidate) => spawnSync(candidate, ['-c', 'import jsonschema'], { timeout: 20_000 }).status === 0,
  ) ?? 'python3';

/** Runs `checker` (which prints MISSING without jsonschema, else JSON) on `input`; returns what it printed. */
export function runPythonChecker<T>(checker: string, input: unknown, timeoutMs = 30_000): T {
  const result = spawnSync(PYTHON, ['-c', checker], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  const missing = 'install it: apt-get install python3-jsonschema (Debian, Ubuntu) or pip install jsonschema';
  if (result.error !== undefined) throw new Error(`python3 could not be run (${result.error.message}); ${missing}`);
  if (result.stdout.trim() === 'MISSING') throw new Error(`Python's jsonschema module is missing; ${missing}`);
  if (result.status !== 0) throw new Error(`the checker failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
