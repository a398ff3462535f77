// `mvm admin`: placeholder until the component lands.
import type { CommandModule } from 'yargs';
import { notYet } from './command.js';

export const command: CommandModule = {
  command: 'admin',
  describe: 'administer a job server (targets, factories, users)',
  handler: () => notYet('`mvm admin`'),
};
