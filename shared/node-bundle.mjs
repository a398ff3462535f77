// One-file Node.js bundles (the agent, agent/build.mjs; the light client, cli/build.mjs): for
// node20, minified — ESM with a `require` for the CommonJS inside, or CommonJS (the agent's, which
// its loader compiles with a V8 code cache) — and a line saying what was written. Each caller names
// its entry, what stays outside (resolved from node_modules) and which modules it replaces with a
// slimmer local one.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * @param {object} o
 * @param {string} o.name what the printed line calls the bundle ("agent bundle")
 * @param {string} o.entry the entry point, relative to the repository root
 * @param {string} o.outfile the bundle, relative to the repository root
 * @param {string[]} o.external packages left outside the bundle
 * @param {Record<string, string>} [o.replace] package name → local module (relative to the root) bundled in its place
 * @param {'esm' | 'cjs'} [o.format] the module format (default esm)
 * @param {() => string | undefined} [o.after] run once the bundle is written; what it returns is said on the line
 */
export async function bundleForNode({ name, entry, outfile, external, replace = {}, format = 'esm', after }) {
  const out = join(root, outfile);
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: 'node',
    format,
    target: 'node20',
    ...(format === 'esm'
      ? {
          // CommonJS inside an ESM bundle still calls require() for Node's built-ins.
          banner: {
            js: "import { createRequire as __mvmCreateRequire } from 'node:module'; const require = __mvmCreateRequire(import.meta.url);",
          },
        }
      : {
          // import.meta.url is the bundle's own URL, as each module's was.
          define: { 'import.meta.url': '__mvmBundleUrl' },
          banner: { js: "const __mvmBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
        }),
    external,
    minifySyntax: true,
    minifyWhitespace: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: Object.entries(replace).map(([pkg, local]) => ({
      name: `${pkg}-local`,
      setup(b) {
        const exact = new RegExp(`^${pkg.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
        b.onResolve({ filter: exact }, () => ({ path: join(root, local) }));
      },
    })),
  });
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  const inputs = Object.keys(result.metafile.inputs).length;
  const more = after?.();
  process.stdout.write(
    `${name}: ${out} (${(bytes / 1024).toFixed(1)} kB from ${inputs} modules${more ? `, ${more}` : ''})\n`,
  );
}
