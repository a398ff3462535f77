// `mvm status`: one screen of the lab. The work is imported only when it runs.
import type { CommandModule } from 'yargs';
import type { ClientArgs } from './probe.js';
import { withJson } from './command.js';
import { withConnection, withLab } from './options.js';

export const command: CommandModule<object, ClientArgs> = {
  command: 'status',
  describe:
    'one screen of the lab: job server, queue, each lab (last pass, testbeds by state, reservations), the fleet',
  builder: (y) =>
    withJson(withLab(withConnection(y, 'MVM_TOKEN'))).epilog(
      'Exit status 1 when a configured service does not answer. Every lab of the profile is asked (--lab: one).',
    ),
  handler: async (args) => (await import('./status-actions.js')).status(args),
};
