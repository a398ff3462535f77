// `mvm server`: placeholder until the component lands.
import type { CommandModule } from 'yargs';
import { notYet } from '../cli/command.js';

export const command: CommandModule = {
  command: 'server',
  describe: 'run the embedded buildomat-compatible job server',
  handler: () => notYet('`mvm server`'),
};
