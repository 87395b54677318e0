#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/, which the release tarball carries and which a
// checkout builds with `npm run build` (run by `npm ci`). A checkout without it gets a sentence
// saying so, not a module-resolution stack trace.
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
let cli;
try {
  cli = await import(entry.href);
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes(fileURLToPath(entry))) throw error;
  process.stderr.write('pfexpose: dist/ is not built: run `npm run build` in this checkout (`npm ci` runs it)\n');
  process.exit(2);
}
process.exitCode = await cli.main(process.argv.slice(2));
