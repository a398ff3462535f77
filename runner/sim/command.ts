// `mvm sim`: placeholder until the component lands.
import type { CommandModule } from 'yargs';
import { notYet } from '../../cli/command.js';

export const command: CommandModule = {
  command: 'sim',
  describe: 'run simulated devices (AxeOS, cgminer, NMMiner)',
  handler: () => notYet('`mvm sim`'),
};
