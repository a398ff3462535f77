// `mvm runner`: placeholder until the component lands.
import type { CommandModule } from 'yargs';
import { notYet } from '../cli/command.js';

export const command: CommandModule = {
  command: 'runner',
  describe: 'flash, test, control and read devices',
  handler: () => notYet('`mvm runner`'),
};
