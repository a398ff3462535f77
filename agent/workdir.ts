// The agent's workdir: checked writable at start-up, and holding the agent's state (server URL,
// bootstrap string and its own token, mode 0600) so that an agent restarted in the same workdir
// bootstraps as the same worker with the same token.
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MvmError } from '../shared/errors.js';

export const STATE_FILE = 'agent-state.json';

export interface AgentState {
  url: string;
  bootstrap: string;
  token: string;
  worker?: string;
}

/** Creates the workdir if needed and proves it writable, or throws a clear IO error. */
export function prepareWorkdir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK | constants.X_OK);
    const probe = join(dir, `.write-test-${process.pid}`);
    writeFileSync(probe, 'ok');
    rmSync(probe);
  } catch (err) {
    throw new MvmError('IO', `agent workdir ${dir} is not usable: ${(err as Error).message}`, {
      hint: 'pass --workdir a directory the agent can create and write (its parent must exist and be writable)',
      cause: err,
    });
  }
}

export function loadState(dir: string): AgentState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as AgentState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MvmError('IO', `cannot read ${join(dir, STATE_FILE)}: ${(err as Error).message}`, {
      hint: 'remove the file to start afresh (the agent then bootstraps with a new token)',
      cause: err,
    });
  }
}

export function saveState(dir: string, state: AgentState): void {
  writeFileSync(join(dir, STATE_FILE), JSON.stringify(state) + '\n', { mode: 0o600 });
}
