// The bundled agent (dist/agent/mvm-agent.cjs) for tests that start it: built here when missing or
// older than the compiled agent (a checkout compiled with tsc alone), as `npm run build` would.
import { execFileSync } from 'node:child_process';
import { AGENT_BUNDLE, projectPath } from '../../shared/paths.js';
import { defaultAgentCommand } from '../../factory/config/load.js';

export function ensureAgentBundle(): string {
  if (defaultAgentCommand()[1] !== AGENT_BUNDLE)
    execFileSync(process.execPath, [projectPath('agent', 'build.mjs')], { stdio: 'ignore' });
  return AGENT_BUNDLE;
}
