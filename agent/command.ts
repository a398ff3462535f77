// `mvm agent run`: the buildomat worker that runs one job on a testbed. The factory starts the
// bundled agent (agent/bundle-main.ts) by default; this command is the same agent from the CLI.
import type { CommandModule } from 'yargs';
import { defineCommand } from '../cli/command.js';
import { AGENT_RUN_CONFLICTS, AGENT_RUN_DESCRIBE, AGENT_RUN_OPTIONS } from './options.js';

const run = defineCommand({
  command: 'run',
  describe: AGENT_RUN_DESCRIBE,
  builder: (y) => {
    const b = y.options(AGENT_RUN_OPTIONS);
    for (const [a, c] of AGENT_RUN_CONFLICTS) b.conflicts(a, c);
    return b;
  },
  handler: async (args) => {
    const { agentMain } = await import('./main.js');
    await agentMain(args);
  },
});

export const command: CommandModule = {
  command: 'agent <command>',
  describe: 'run the agent that executes one job on a testbed',
  builder: (y) => y.command(run).demandCommand(1),
  handler: () => undefined,
};
