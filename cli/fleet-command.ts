// What every `mvm fleet …` client command shares: the daemon's address and token, --json, and a
// command whose work module is imported only when it runs (the CLI starts without it).
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { withJson } from './command.js';

/** What `fleetConnection` adds to a command's arguments. */
type FleetArgs = ReturnType<typeof fleetConnection<object>> extends Argv<infer F> ? F : never;

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

interface FleetConnectionFlags {
  'fleet-url'?: string;
  'fleet-token'?: string;
  url?: string;
  token?: string;
}

/** The fleet's URL and token from --fleet-url/--fleet-token, or (with a warning) the old --url/--token. */
function fleetFlags<T extends FleetConnectionFlags>(args: T): T {
  const old = (['url', 'token'] as const).filter((k) => typeof args[k] === 'string');
  if (old.length)
    process.stderr.write(
      `mvm: warning: ${old.map((k) => `--${k}`).join(' and ')} for the fleet API ${old.length > 1 ? 'are' : 'is'} deprecated; write ${old.map((k) => `--fleet-${k}`).join(' and ')} (--url and --token are the job server's)\n`,
    );
  return { ...args, url: args['fleet-url'] ?? args.url, token: args['fleet-token'] ?? args.token };
}

/**
 * A command builder whose handler runs `action` with the module `load` imports (when the command
 * runs) and the arguments the builder declares, the fleet's connection flags included.
 */
export function lazyFleetCommand<M>(load: () => Promise<M>) {
  return <A>(
    command: string,
    describe: string,
    builder: (y: Argv) => Argv<A>,
    action: (actions: M, args: ArgumentsCamelCase<A & FleetArgs>) => Promise<void>,
  ): CommandModule<object, A & FleetArgs> => ({
    command,
    describe,
    builder: (y) => fleetConnection(builder(y)),
    handler: async (args) => action(await load(), fleetFlags(args)),
  });
}
