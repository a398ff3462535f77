// `mvm job`: placeholder until the component lands.
import type { CommandModule } from 'yargs';
import { notYet } from './command.js';

export const command: CommandModule = {
  command: 'job',
  describe: 'submit and follow jobs',
  handler: () => notYet('`mvm job`'),
};
