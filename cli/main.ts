// The `mvm` entry point: parses the command line, runs one command, and is the only place that exits.
// Only the definition of the command named on the command line is imported (every one for --help,
// completion or a mistyped name), so `mvm job …` and `mvm testbeds …` start without the others.
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { flagRefusalBehind } from '../shared/duration.js';
import { describeError, MvmError } from '../shared/errors.js';
import { MVM_VERSION } from '../shared/paths.js';

/** Every top-level command, in the order `mvm --help` lists them, with where its definition lives. */
// Each module's `command` is typed with its own arguments; yargs takes any of them.
const COMMANDS: Record<string, () => Promise<{ command: object }>> = {
  server: () => import('../server/command.js'),
  factory: () => import('../factory/command.js'),
  fleet: () => import('../fleet/command.js'),
  agent: () => import('../agent/command.js'),
  runner: () => import('../runner/command.js'),
  sim: () => import('../sim/command.js'),
  job: () => import('./job.js'),
  testbeds: () => import('./testbeds.js'),
  admin: () => import('./admin.js'),
  status: () => import('./status.js'),
  whoami: () => import('./whoami.js'),
  demo: () => import('./demo.js'),
};

/** The definitions to register: the one `argv` names, or all of them. */
async function commandsFor(argv: string[]): Promise<CommandModule[]> {
  const first = argv.find((a) => !a.startsWith('-'));
  const one = first !== undefined && Object.hasOwn(COMMANDS, first) && !argv.includes('--get-yargs-completions');
  const names = one ? [first] : Object.keys(COMMANDS);
  return Promise.all(names.map(async (n) => (await COMMANDS[n]()).command as CommandModule));
}

/** Exit statuses: 0 success, 1 the work failed (job failed, config invalid), 2 bad usage. */
function exitCodeFor(err: unknown): number {
  return err instanceof MvmError && err.code === 'USAGE' ? 2 : 1;
}

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
    .option('profile', {
      type: 'string',
      describe: 'use the profile [profile.NAME] of the profile file (else MVM_PROFILE_NAME; default: its top level)',
      global: true,
    })
    .middleware((args) => {
      if (typeof args['log-level'] === 'string') process.env.MVM_LOG_LEVEL = args['log-level'];
      if (typeof args.profile === 'string') process.env.MVM_PROFILE_NAME = args.profile;
    });
  for (const c of await commandsFor(argv)) cli.command(c);
  cli
    .completion('completion', 'print a bash or zsh completion script: mvm completion >> ~/.bashrc')
    .demandCommand(1, 'name a command; `mvm --help` lists them')
    .strict()
    .recommendCommands()
    .version(MVM_VERSION)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw flagRefusalBehind(err);
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
