// Bundles the agent into one file, dist/agent/mvm-agent.js (entry agent/bundle-main.ts), which the
// factory starts for every job (factory/config/load.ts, defaultAgentCommand): one file to read and
// compile instead of a hundred modules and the CLI's, so an agent costs little more than Node.js
// starting. Run by `npm ci` (prepare), `npm run build` and `npm test`, after tsc.
import { bundleForNode } from '../shared/node-bundle.mjs';

await bundleForNode({
  name: 'agent bundle',
  entry: 'agent/bundle-main.ts',
  outfile: 'dist/agent/mvm-agent.js',
  // Native addons and what is only loaded on a terminal stay outside, resolved from node_modules.
  external: ['pino-pretty', 'better-sqlite3', 'cpu-features', 'ssh2'],
  // undici's client without the parts the agent never uses (agent/undici-lite.cjs says which)
  replace: { undici: 'agent/undici-lite.cjs' },
});
