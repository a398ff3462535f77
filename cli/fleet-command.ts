// What every `mvm fleet …` client command shares: the daemon's address and token, --json, and a
// command whose work module is imported only when it runs (the CLI starts without it).
import type { Argv, CommandModule } from 'yargs';
import { withJson } from './command.js';

export const fleetConnection = <T>(y: Argv<T>) =>
  withJson(
    y
      .option('fleet-url', {
        type: 'string',
        describe: 'the fleet API URL (else MVM_FLEET_URL, else fleet_url in the profile)',
      })
      .option('fleet-token', {
        type: 'string',
        describe: 'a fleet API token (else MVM_FLEET_TOKEN, else fleet_token in the profile)',
      })
      // The old spellings: --url is the job server everywhere else.
      .option('url', { type: 'string', hidden: true, describe: 'deprecated: --fleet-url' })
      .option('token', { type: 'string', hidden: true, describe: 'deprecated: --fleet-token' }),
  );

/** The fleet's URL and token from --fleet-url/--fleet-token, or (with a warning) the old --url/--token. */
function fleetFlags(args: Record<string, unknown>): Record<string, unknown> {
  const old = ['url', 'token'].filter((k) => typeof args[k] === 'string');
  if (old.length)
    process.stderr.write(
      `mvm: warning: ${old.map((k) => `--${k}`).join(' and ')} for the fleet API ${old.length > 1 ? 'are' : 'is'} deprecated; write ${old.map((k) => `--fleet-${k}`).join(' and ')} (--url and --token are the job server's)\n`,
    );
  return { ...args, url: args['fleet-url'] ?? args.url, token: args['fleet-token'] ?? args.token };
}

/** A command builder whose handler is `action` of the module `load` imports. */
export function lazyFleetCommand(load: () => Promise<unknown>) {
  return (command: string, describe: string, builder: (y: Argv) => Argv, action: string): CommandModule => ({
    command,
    describe,
    builder: (y) => fleetConnection(builder(y)),
    handler: async (args) => {
      const actions = (await load()) as Record<string, (a: unknown) => Promise<void>>;
      await actions[action](fleetFlags(args));
    },
  });
}
