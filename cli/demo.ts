// `mvm demo`: placeholder until the component lands.
import type { CommandModule } from 'yargs';
import { notYet } from './command.js';

export const command: CommandModule = {
  command: 'demo',
  describe: 'run the whole lab on this machine with simulated devices',
  handler: () => notYet('`mvm demo`'),
};
