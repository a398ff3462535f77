// What every `mvm` entry point shares: the global options, one command line parsed, errors printed
// as "mvm: error: …" with their hint, and the exit status. Only the definition of the command named
// on the command line is imported (every one for --help, completion or a mistyped name).
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { flagRefusalBehind } from '../shared/duration.js';
import { describeError, MvmError } from '../shared/errors.js';
import { MVM_VERSION } from '../shared/paths.js';

/** Top-level commands by name, in the order `--help` lists them, each loading its definition. Each
 * module's `command` is typed with its own arguments; yargs takes any of them. */
export type CommandTable = Record<string, () => Promise<{ command: object }>>;

/** The definitions to register: the one `argv` names, or all of them. */
async function commandsFor(table: CommandTable, argv: string[]): Promise<CommandModule[]> {
  const first = argv.find((a) => !a.startsWith('-'));
  const one = first !== undefined && Object.hasOwn(table, first) && !argv.includes('--get-yargs-completions');
  const names = one ? [first] : Object.keys(table);
  return Promise.all(names.map(async (n) => (await table[n]()).command as CommandModule));
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

async function main(commands: CommandTable, argv: string[]): Promise<number> {
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
  for (const c of await commandsFor(commands, argv)) cli.command(c);
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

/** Runs the command line with `commands`, then exits with its status. */
export function runCli(commands: CommandTable): void {
  main(commands, hideBin(process.argv)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`mvm: internal error: ${describeError(err)}\n`);
      process.exit(1);
    },
  );
}
