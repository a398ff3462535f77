// Bundles the agent into one file, dist/agent/mvm-agent.bundle.cjs (entry agent/bundle-main.ts),
// started through dist/agent/mvm-agent.cjs (agent/bundle-loader.cjs) with V8's code cache made
// here, which the factory starts for every job (factory/config/load.ts, defaultAgentCommand): one
// file to read and no compiling from source instead of a hundred modules and the CLI's, so an agent
// costs little more than Node.js starting. Run by `npm ci` (prepare), `npm run build` and `npm
// test`, after tsc.
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForNode } from '../shared/node-bundle.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dir = join(root, 'dist', 'agent');
const entry = join(dir, 'mvm-agent.cjs');
// The old cache goes first: it must never sit beside a bundle it was not made for.
rmSync(join(dir, 'mvm-agent.bundle.cjs.v8cache'), { force: true });

await bundleForNode({
  name: 'agent bundle',
  entry: 'agent/bundle-main.ts',
  outfile: 'dist/agent/mvm-agent.bundle.cjs',
  // CommonJS, so the loader can compile it with a code cache (vm.Script; ES modules have none in
  // Node.js 20).
  format: 'cjs',
  // Native addons and what is only loaded on a terminal stay outside, resolved from node_modules;
  // so does undici: the agent sends through node:http (agent/run.ts), and its bundle never loads it.
  external: ['pino-pretty', 'better-sqlite3', 'cpu-features', 'ssh2', 'undici'],
  after: () => {
    copyFileSync(join(root, 'agent', 'bundle-loader.cjs'), entry);
    try {
      // Loading the agent (its --help) compiles what every start compiles; the loader saves that.
      execFileSync(process.execPath, [entry, '--help'], {
        env: { ...process.env, MVM_AGENT_WRITE_CODE_CACHE: '1' },
        stdio: 'ignore',
      });
      return `with its code cache; started through ${entry}`;
    } catch (err) {
      return `without a code cache (${err.message.split('\n')[0]}): agents compile it from source`;
    }
  },
});
