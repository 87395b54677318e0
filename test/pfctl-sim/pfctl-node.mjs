// The node half of the pfctl simulator (see README.md here): runs pfctl-sim.mjs with the arguments
// given. `pfctl` beside it answers the plain reads itself and hands everything else to this file.
import('./pfctl-sim.mjs')
  .then((sim) => sim.main(process.argv.slice(2)))
  .catch((error) => {
    process.stderr.write(`pfctl-sim: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exitCode = 3;
  });
