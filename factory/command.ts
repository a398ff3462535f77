// `mvm factory`: placeholder until the component lands.
import type { CommandModule } from 'yargs';
import { notYet } from '../cli/command.js';

export const command: CommandModule = {
  command: 'factory',
  describe: 'run the factory daemon that hands out testbeds',
  handler: () => notYet('`mvm factory`'),
};
