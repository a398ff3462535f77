// `mvm factory`: the daemon (-f config -d database), `--check` (validate and exit), and `status`.
// Kept cheap to import: the work lives in run.ts / status.ts, loaded inside the handlers.
import { defineCommand } from '../cli/command.js';
import { useDaemonHeap } from '../shared/daemon-heap.js';
import { MvmError } from '../shared/errors.js';

const status = defineCommand({
  command: 'status',
  describe: 'show testbeds and instances from the factory database',
  builder: (y) =>
    y
      .option('db', { alias: 'd', type: 'string', default: 'data.sqlite3', describe: 'the factory database (SQLite)' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print machine-readable JSON',
      }),
  handler: async (args) => {
    const { readStatus, formatStatus } = await import('./status.js');
    const s = readStatus(args.db);
    process.stdout.write((args.json ? JSON.stringify(s, null, 2) : formatStatus(s)) + '\n');
  },
});

export const command = defineCommand({
  command: 'factory',
  describe: 'run the factory daemon that hands out testbeds',
  builder: (y) =>
    y
      .command(status)
      // Not global: `mvm factory status` has its own options.
      .option('file', { alias: 'f', type: 'string', global: false, describe: 'the factory config (TOML)' })
      .option('db', {
        alias: 'd',
        type: 'string',
        global: false,
        describe: 'the factory database (SQLite), created if missing',
      })
      .option('check', {
        type: 'boolean',
        default: false,
        global: false,
        describe:
          'validate the config, print every problem, and exit; asks the job server whether the factory token is accepted',
      })
      .option('server', {
        type: 'boolean',
        default: true,
        global: false,
        describe: 'with --check: ask the job server (--no-server: the file only)',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        global: false,
        describe: 'with --check: print one JSON object (ok, counts, warnings, problems, server)',
      })
      .example('$0 factory -f config.toml -d data.sqlite3', 'run the factory')
      .example('$0 factory -f config.toml --check', 'validate a config'),
  handler: async (args) => {
    if (!args.file)
      throw new MvmError('USAGE', 'missing -f FILE (the factory config)', { hint: 'see config.example.toml' });
    if (!args.check) useDaemonHeap();
    const { checkConfig, checkServer, runFactory } = await import('./run.js');
    if (args.check) {
      const { printCheckJson } = await import('../shared/check-json.js');
      let checked;
      try {
        checked = checkConfig(args.file);
      } catch (err) {
        if (args.json) printCheckJson(args.file, err);
        throw err;
      }
      const server = args.server ? await checkServer(checked.config) : undefined;
      if (args.json)
        return printCheckJson(checked.config.file, undefined, {
          ...checked.counts,
          warnings: checked.warnings,
          server: server ? { url: checked.config.baseUrl, token_accepted: server.accepted } : null,
        });
      process.stdout.write(checked.summary + '\n');
      if (server) process.stdout.write(server.message + '\n');
      return;
    }
    if (!args.db)
      throw new MvmError('USAGE', 'missing -d FILE (the factory database)', {
        hint: 'e.g. mvm factory -f config.toml -d data.sqlite3',
      });
    await runFactory(args.file, args.db);
  },
});
