// `mvm fleet`: the fleet controller daemon (--config FILE --data DIR [--listen HOST:PORT]),
// `--check` (validate the config, every problem at once), and the client commands that talk to a
// running daemon (cli/fleet.ts). Cheap to import: the work is loaded inside the handlers.
import { defineCommand } from '../cli/command.js';
import { useDaemonHeap } from '../shared/daemon-heap.js';
import { MvmError } from '../shared/errors.js';
import { withFleetClientCommands } from '../cli/fleet.js';

export const command = defineCommand({
  command: 'fleet',
  describe:
    'the miner fleet controller: run the daemon (--config, --data), or talk to one (miners, show, history, mode, …)',
  builder: (y) =>
    withFleetClientCommands(y)
      .option('config', {
        alias: 'c',
        type: 'string',
        global: false,
        describe: 'the fleet config: [miner.NAME] entries, a factory config, or both (TOML)',
      })
      .option('data', {
        alias: 'd',
        type: 'string',
        global: false,
        describe: 'the folder for fleet.sqlite and the API tokens, created if missing',
      })
      .option('listen', {
        type: 'string',
        global: false,
        describe: 'HOST:PORT for the API (else [fleet] listen, else 127.0.0.1:9320; port 0 picks a free one)',
      })
      .option('check', {
        type: 'boolean',
        default: false,
        global: false,
        describe: 'validate the config, print every problem, and exit',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        global: false,
        describe: 'with --check: print one JSON object (ok, counts, problems)',
      })
      .example('$0 fleet --config fleet.toml --data /var/lib/mvm-fleet', 'run the fleet controller')
      .example('$0 fleet --config factory.toml --check', 'validate a config')
      .example('$0 fleet miners', 'list the miners of a running fleet (MVM_FLEET_URL, MVM_FLEET_TOKEN)'),
  handler: async (args) => {
    if (!args.config)
      throw new MvmError('USAGE', 'missing --config FILE (the fleet config)', {
        hint: 'see doc/fleet.md; `mvm fleet --help` lists the client commands',
      });
    if (args.check) {
      const { checkFleetConfig, labsSummary } = await import('./config/load.js');
      const { ConfigError } = await import('../shared/errors.js');
      const { printCheckJson } = await import('../shared/check-json.js');
      const { config, problems } = checkFleetConfig(args.config);
      if (problems.length || !config) {
        const err = new ConfigError(problems);
        if (args.json) printCheckJson(args.config, err);
        throw err;
      }
      const testbed = config.miners.filter((m) => m.source === 'testbed').length;
      if (args.json)
        return printCheckJson(config.file, undefined, {
          kind: config.kind,
          miners: config.miners.length,
          testbed_miners: testbed,
          lab: config.lab ? config.lab.url : null,
        });
      process.stdout.write(
        `${config.file}: ok (${config.kind} config, ${config.miners.length} miner${config.miners.length === 1 ? '' : 's'}, ${testbed} from testbeds, ${labsSummary(config)})\n`,
      );
      return;
    }
    if (!args.data)
      throw new MvmError('USAGE', 'missing --data DIR (where the fleet keeps its database)', {
        hint: 'e.g. mvm fleet --config fleet.toml --data /var/lib/mvm-fleet',
      });
    useDaemonHeap();
    const { runFleet } = await import('./daemon.js');
    await runFleet({ configFile: args.config, dataDir: args.data, listen: args.listen });
  },
});
