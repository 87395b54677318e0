// npm's `prepare`: builds dist/ and man/ after `npm ci` or `npm install` in a checkout, so that
// `npx pfexpose` works right after it. Packing builds in `prepack` already, so a pack or publish
// skips this. A git install (`npm install -g github:...`) also ends up here, without the dev
// dependencies the build needs (npm/cli#8440): say so and point at the release tarball, instead of
// ajv's or tsc's "cannot find module".
import { spawnSync } from 'node:child_process';

if (process.env.npm_command === 'pack' || process.env.npm_command === 'publish') process.exit(0);

const missing = ['typescript', 'ajv'].filter((name) => {
  try {
    import.meta.resolve(name);
    return false;
  } catch {
    return true;
  }
});
if (missing.length > 0) {
  process.stderr.write(
    `pfexpose: cannot build here: the dev dependencies (${missing.join(', ')}) are not installed.\n` +
      'Installing pfexpose from its git repository is not supported; install the release tarball,\n' +
      'e.g. npm install -g ./pfexpose-X.Y.Z.tgz (see README, Install).\n',
  );
  process.exit(1);
}
const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
process.exit(build.status ?? 1);
