// `mvm testbeds`: placeholder until the component lands.
import type { CommandModule } from 'yargs';
import { notYet } from './command.js';

export const command: CommandModule = {
  command: 'testbeds',
  describe: 'list, reserve and release testbeds through a factory',
  handler: () => notYet('`mvm testbeds`'),
};
