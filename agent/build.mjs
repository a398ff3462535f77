// Bundles the agent into one file, dist/agent/mvm-agent.js (entry agent/bundle-main.ts), which the
// factory starts for every job (factory/config/load.ts, defaultAgentCommand): one file to read and
// compile instead of a hundred modules and the CLI's, so an agent costs little more than Node.js
// starting. Run by `npm ci` (prepare), `npm run build` and `npm test`, after tsc.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outfile = join(root, 'dist', 'agent', 'mvm-agent.js');

const result = await build({
  absWorkingDir: root,
  entryPoints: ['agent/bundle-main.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS inside an ESM bundle still calls require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __mvmCreateRequire } from 'node:module'; const require = __mvmCreateRequire(import.meta.url);",
  },
  // Native addons and what is only loaded on a terminal stay outside, resolved from node_modules;
  // so does undici: the agent sends through node:http (agent/run.ts), and its bundle never loads it.
  external: ['pino-pretty', 'better-sqlite3', 'cpu-features', 'ssh2', 'undici'],
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
const inputs = Object.keys(result.metafile.inputs).length;
process.stdout.write(`agent bundle: ${outfile} (${(bytes / 1024).toFixed(1)} kB from ${inputs} modules)\n`);
