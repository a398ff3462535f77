// Builds the web UI into dist/web: one minified JS and one CSS file, named by their content's hash
// (so the server can cache them forever), and index.html pointing at them. Run by `npm ci`
// (prepare) and `npm run build`; no network, every asset local. Prints the sizes it wrote.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, 'dist', 'web');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: ['web/src/main.tsx'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome109', 'firefox115', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  splitting: true,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const files = Object.keys(result.metafile.outputs).map((f) => join(root, f));
const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint);
const js = entry && join(root, entry[0]);
const css = entry?.[1].cssBundle && join(root, entry[1].cssBundle);
const tags = [
  css && `<link rel="stylesheet" href="/assets/${basename(css)}" />`,
  js && `<script type="module" src="/assets/${basename(js)}"></script>`,
].filter(Boolean);
const html = readFileSync(join(root, 'web', 'index.html'), 'utf8').replace('<!--assets-->', tags.join('\n    '));
writeFileSync(join(out, 'index.html'), html);

const sizes = Object.fromEntries(
  [...files, join(out, 'index.html')].map((f) => {
    const b = readFileSync(f);
    return [basename(f), { bytes: b.length, gzip: gzipSync(b, { level: 9 }).length }];
  }),
);
writeFileSync(join(out, 'build.json'), JSON.stringify({ builtAt: new Date().toISOString(), sizes }, null, 2) + '\n');
if (!process.env.MVM_WEB_BUILD_QUIET) {
  const line = Object.entries(sizes)
    .map(([n, s]) => `${n} ${s.bytes} B (${s.gzip} B gzip)`)
    .join(', ');
  console.log(`web UI built into dist/web: ${line}`);
}
