// Where the checkout lives, so compiled code (dist/) and sources under test find the same files
// (migrations, the OpenAPI document, examples).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'mvm') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the mvm checkout (package.json named "mvm") above ' + import.meta.url);
    dir = up;
  }
}

export const PROJECT_ROOT = findRoot();

export function projectPath(...parts: string[]): string {
  return join(PROJECT_ROOT, ...parts);
}

/** The `mvm` executable, for spawning mvm commands as real processes. */
export const MVM_BIN = projectPath('bin', 'mvm.js');

/** The agent bundled into one file (agent/build.mjs): what the factory starts for a job. */
export const AGENT_BUNDLE = projectPath('dist', 'agent', 'mvm-agent.cjs');

export const MVM_VERSION: string = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')).version;
