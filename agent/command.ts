// `mvm agent run`: the buildomat worker that runs one job on a testbed. The factory starts the
// bundled agent (agent/bundle-main.ts) by default; this command is the same agent from the CLI.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { AgentArgs } from './main.js';
import { AGENT_RUN_CONFLICTS, AGENT_RUN_DESCRIBE, AGENT_RUN_OPTIONS } from './options.js';

const run: CommandModule<object, AgentArgs> = {
  command: 'run',
  describe: AGENT_RUN_DESCRIBE,
  builder: (y: Argv) => {
    let b = y;
    for (const [name, o] of Object.entries(AGENT_RUN_OPTIONS))
      b = b.option(name, {
        type: o.type,
        describe: o.describe,
        ...('default' in o ? { default: o.default } : {}),
        ...('required' in o ? { demandOption: o.required } : {}),
        ...('choices' in o ? { choices: o.choices } : {}),
      });
    for (const [a, c] of AGENT_RUN_CONFLICTS) b = b.conflicts(a, c);
    return b as unknown as Argv<AgentArgs>;
  },
  handler: async (args: ArgumentsCamelCase<AgentArgs>) => {
    const { agentMain } = await import('./main.js');
    await agentMain(args);
  },
};

export const command: CommandModule = {
  command: 'agent <command>',
  describe: 'run the agent that executes one job on a testbed',
  builder: (y) => y.command(run as unknown as CommandModule).demandCommand(1),
  handler: () => undefined,
};
