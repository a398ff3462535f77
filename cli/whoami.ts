// `mvm whoami`: which profile is used, and who each configured token is. The work is imported only
// when the command runs.
import type { CommandModule } from 'yargs';
import type { ClientArgs } from './probe.js';
import { withJson } from './command.js';
import { withConnection, withLab } from './options.js';

export const command: CommandModule<object, ClientArgs> = {
  command: 'whoami',
  describe: 'which profile is used, and who each token is on the job server, the labs and the fleet',
  builder: (y) =>
    withJson(withLab(withConnection(y, 'MVM_TOKEN'))).epilog(
      'Each service is asked with the token mvm would use for it (flags, environment, then the profile).',
    ),
  handler: async (args) => (await import('./whoami-actions.js')).whoami(args),
};
