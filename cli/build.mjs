// Bundles the light client into one file, dist/cli/mvm-client.js (entry cli/client-main.ts, from
// tsc's output): the commands of a CI runner and a person's laptop (job, testbeds, admin, status,
// whoami) with yargs and everything they import, so that they start at about the cost of Node.js
// itself. Native modules, undici and the logger stay outside: the client never loads them (a test
// checks what it loads), and the help layout measures text without the emoji tables
// (cli/string-width-lite.mjs). Run by `npm ci` (prepare), `npm run build` and `npm test`, after tsc.
import { bundleForNode } from '../shared/node-bundle.mjs';

await bundleForNode({
  name: 'client bundle',
  entry: 'dist/cli/client-main.js',
  outfile: 'dist/cli/mvm-client.js',
  external: ['better-sqlite3', 'ssh2', 'cpu-features', 'undici', 'pino', 'pino-pretty'],
  replace: { 'string-width': 'cli/string-width-lite.mjs' },
});
