// Tests that spawn `mvm` run the compiled dist/, not the sources: a dist/ older than its sources
// would test yesterday's code and pass or fail for the wrong reason. Checked once per test process,
// before the first spawn.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { globSync } from 'tinyglobby';
import { PROJECT_ROOT } from '../../shared/paths.js';

/** The folders tsconfig.json compiles into dist/. */
const SOURCE_DIRS = ['cli', 'server', 'factory', 'agent', 'runner', 'sim', 'shared', 'fleet', 'bench'];

/** Sources whose compiled file under dist/ is missing or older; empty when dist/ is up to date. */
export function staleSources(root: string = PROJECT_ROOT): string[] {
  const sources = globSync(
    SOURCE_DIRS.map((d) => `${d}/**/*.ts`),
    { cwd: root, ignore: ['**/*.d.ts', '**/drizzle.config.ts', '**/node_modules/**'] },
  );
  const stale: string[] = [];
  for (const src of sources.sort()) {
    const out = join(root, 'dist', src.replace(/\.ts$/, '.js'));
    if (!existsSync(out) || statSync(join(root, src)).mtimeMs > statSync(out).mtimeMs) stale.push(src);
  }
  return stale;
}

let checked: string | undefined;

/** Throws, naming the changed sources and the command to run, when dist/ is older than its sources. */
export function assertDistFresh(root: string = PROJECT_ROOT): void {
  if (checked === root) return;
  const stale = staleSources(root);
  if (stale.length > 0) {
    const shown = stale.slice(0, 5).join(', ') + (stale.length > 5 ? ` and ${stale.length - 5} more` : '');
    throw new Error(
      `dist/ is older than its sources (${shown}): this test runs the compiled mvm, so it would test old code. ` +
        'Run `npx tsc -p tsconfig.json` (or `npm run build`) first.',
    );
  }
  checked = root;
}
