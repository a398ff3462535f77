// What every `mvm fleet …` client command shares: the daemon's address and token, --json, and a
// command whose work module is imported only when it runs (the CLI starts without it).
import type { Argv, CommandModule } from 'yargs';
import { withJson } from './command.js';

export const fleetConnection = <T>(y: Argv<T>) =>
  withJson(
    y
      .option('url', {
        type: 'string',
        describe: 'the fleet API URL (else MVM_FLEET_URL, else fleet_url in the profile)',
      })
      .option('token', {
        type: 'string',
        describe: 'a fleet API token (else MVM_FLEET_TOKEN, else fleet_token in the profile)',
      }),
  );

/** A command builder whose handler is `action` of the module `load` imports. */
export function lazyFleetCommand(load: () => Promise<unknown>) {
  return (command: string, describe: string, builder: (y: Argv) => Argv, action: string): CommandModule => ({
    command,
    describe,
    builder: (y) => fleetConnection(builder(y)),
    handler: async (args) => {
      const actions = (await load()) as Record<string, (a: unknown) => Promise<void>>;
      await actions[action](args);
    },
  });
}
