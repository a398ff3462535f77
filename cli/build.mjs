// Bundles the light client into one file, dist/cli/mvm-client.js (entry cli/client-main.ts, from
// tsc's output): the commands of a CI runner and a person's laptop (job, testbeds, admin, status,
// whoami) with yargs and everything they import, so that they start at about the cost of Node.js
// itself. Native modules, undici and the logger stay outside: the client never loads them (a test
// checks what it loads), and the help layout measures text without the emoji tables
// (cli/string-width-lite.mjs). Run by `npm ci` (prepare), `npm run build` and `npm test`, after tsc.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outfile = join(root, 'dist', 'cli', 'mvm-client.js');

const result = await build({
  absWorkingDir: root,
  entryPoints: ['dist/cli/client-main.js'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS inside an ESM bundle still calls require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __mvmCreateRequire } from 'node:module'; const require = __mvmCreateRequire(import.meta.url);",
  },
  external: ['better-sqlite3', 'ssh2', 'cpu-features', 'undici', 'pino', 'pino-pretty'],
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  plugins: [
    {
      name: 'string-width-lite',
      setup(b) {
        b.onResolve({ filter: /^string-width$/ }, () => ({ path: join(root, 'cli', 'string-width-lite.mjs') }));
      },
    },
  ],
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
const inputs = Object.keys(result.metafile.inputs).length;
process.stdout.write(`client bundle: ${outfile} (${(bytes / 1024).toFixed(1)} kB from ${inputs} modules)\n`);
