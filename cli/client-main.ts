// The light client's entry point, bundled into one file (dist/cli/mvm-client.js, cli/build.mjs) so
// that `mvm job …`, `mvm testbeds …` and the other commands a CI runner or a person's laptop uses
// start at about the cost of Node.js itself: one file to read instead of a hundred modules, and no
// native module, undici or logger. bin/mvm.js picks it for these commands (CLIENT_COMMANDS).
import { runCli } from './run-cli.js';

runCli({
  job: () => import('./job.js'),
  testbeds: () => import('./testbeds.js'),
  admin: () => import('./admin.js'),
  status: () => import('./status.js'),
  whoami: () => import('./whoami.js'),
});
