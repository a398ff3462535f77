// `mvm agent`: placeholder until the component lands.
import type { CommandModule } from 'yargs';
import { notYet } from '../cli/command.js';

export const command: CommandModule = {
  command: 'agent',
  describe: 'run the agent that executes one job on a testbed',
  handler: () => notYet('`mvm agent`'),
};
