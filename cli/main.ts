// The `mvm` entry point: parses the command line, runs one command, and is the only place that exits.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { describeError, MvmError } from '../shared/errors.js';
import { MVM_VERSION } from '../shared/paths.js';
import { command as admin } from './admin.js';
import { exitCodeFor } from './exit-codes.js';
import { command as demo } from './demo.js';
import { command as job } from './job.js';
import { command as testbeds } from './testbeds.js';
import { command as agent } from '../agent/command.js';
import { command as factory } from '../factory/command.js';
import { command as fleet } from '../fleet/command.js';
import { command as runner } from '../runner/command.js';
import { command as sim } from '../sim/command.js';
import { command as server } from '../server/command.js';

function printError(err: unknown): void {
  const lines = [`mvm: error: ${err instanceof Error ? err.message : String(err)}`];
  if (err instanceof MvmError && err.hint) lines.push(`  hint: ${err.hint}`);
  if (process.env.MVM_DEBUG && err instanceof Error && err.stack) lines.push(err.stack);
  process.stderr.write(lines.join('\n') + '\n');
}

async function main(argv: string[]): Promise<number> {
  const cli = yargs(argv)
    .scriptName('mvm')
    .usage('$0 <command> [options]\n\nMiner Vending Machine: run CI jobs on real hardware, and run a fleet of miners.')
    .option('log-level', {
      type: 'string',
      describe: 'log level (trace, debug, info, warn, error, silent)',
      global: true,
    })
    .middleware((args) => {
      if (typeof args['log-level'] === 'string') process.env.MVM_LOG_LEVEL = args['log-level'];
    })
    .command(server)
    .command(factory)
    .command(fleet)
    .command(agent)
    .command(runner)
    .command(sim)
    .command(job)
    .command(testbeds)
    .command(admin)
    .command(demo)
    .demandCommand(1, 'name a command; `mvm --help` lists them')
    .strict()
    .recommendCommands()
    .version(MVM_VERSION)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      // A usage problem stops here: the command must not run with a command line it did not accept.
      throw new MvmError('USAGE', msg, { hint: 'run with --help for usage' });
    });
  try {
    await cli.parseAsync();
  } catch (err) {
    printError(err);
    return exitCodeFor(err);
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

main(hideBin(process.argv)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`mvm: internal error: ${describeError(err)}\n`);
    process.exit(1);
  },
);
