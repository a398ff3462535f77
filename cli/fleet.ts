// `mvm fleet miners|show|history|mode|restart|pause|resume|pools|events`: a person's view of a
// running fleet controller, over its API. The work is imported only when a command runs.
import type { Argv, CommandModule } from 'yargs';
import { durationFlag, parseDurationFlag } from '../shared/duration.js';
import { lazyFleetCommand } from './fleet-command.js';
import { fleetEnergyCommands } from './fleet-energy.js';

const miner = <T>(y: Argv<T>) =>
  y.positional('miner', { type: 'string', describe: 'miner id' }) as Argv<T & { miner: string }>;

/** An ISO time, or a duration back from now (with its unit). */
const sinceOption = (flag: string, describe: string) =>
  ({
    type: 'string',
    describe,
    coerce: (v: string): string =>
      /^\d{4}-\d\d/.test(String(v)) ? String(v) : (parseDurationFlag(flag, v), String(v)),
  }) as const;

const cmd = lazyFleetCommand(() => import('./fleet-actions.js'));

const pools: CommandModule = {
  command: 'pools',
  describe: 'the pool catalogue and the pools of each miner',
  builder: (y) =>
    y
      .command(cmd('list', 'the catalogue (passwords never shown)', (y) => y, 'poolsList'))
      .command(
        cmd(
          'add <name>',
          'add a pool to the catalogue',
          (y) =>
            y
              .positional('name', { type: 'string' })
              .option('id', { type: 'string', describe: 'its id (default: made from the name)' })
              .option('pool-url', {
                type: 'string',
                demandOption: true,
                describe: 'stratum+tcp://host or stratum+ssl://host',
              })
              .option('port', { type: 'number', demandOption: true })
              .option('user', { type: 'string', demandOption: true, describe: 'worker name' })
              .option('password', { type: 'string', describe: 'worker password (stored, never shown)' })
              .option('tls', { type: 'boolean', default: false }),
          'poolsAdd',
        ),
      )
      .command(
        cmd(
          'rm <id>',
          'remove a pool (refused while a list uses it)',
          (y) => y.positional('id', { type: 'string' }),
          'poolsRemove',
        ),
      )
      .command(cmd('show <miner>', "a miner's pools in priority order", (y) => miner(y), 'poolsShow'))
      .command(
        cmd(
          'assign <miner> <pools..>',
          'give a miner an ordered pool list and apply it',
          (y) =>
            miner(y)
              .positional('pools', { type: 'string', array: true })
              .option('apply', { type: 'boolean', default: true, describe: '--no-apply: only assign' }),
          'poolsAssign',
        ),
      )
      .command(
        cmd('apply <miner>', "push the miner's assigned pools and read them back", (y) => miner(y), 'poolsApply'),
      )
      .command(
        cmd(
          'switch <miner> <index>',
          'mine on the pool at this index of the device list',
          (y) => miner(y).positional('index', { type: 'number' }),
          'poolsSwitch',
        ),
      )
      .demandCommand(1, 'name a pools command: list, add, rm, show, assign, apply, switch'),
  handler: () => {},
};

export const fleetClientCommands: CommandModule[] = [
  cmd(
    'miners',
    'list the miners with their live state',
    (y) => y.option('tag', { type: 'string' }).option('status', { choices: ['online', 'offline', 'unknown'] }),
    'miners',
  ),
  cmd('show <miner>', 'a miner: definition, last reading, recent events', (y) => miner(y), 'show'),
  cmd(
    'history <miner>',
    "a miner's history (the resolution follows the range)",
    (y) =>
      miner(y)
        .option('from', { ...sinceOption('from', 'ISO time or a duration back from now ("24h")'), default: '1h' })
        .option('to', { type: 'string', describe: 'ISO time (default now)' })
        .option('step', durationFlag.textOption('step', 'bucket size, e.g. 1m, 1h (default: chosen from the range)')),
    'history',
  ),
  cmd(
    'mode <miner> [mode]',
    "show a miner's modes, or set one",
    (y) => miner(y).positional('mode', { type: 'string' }),
    'mode',
  ),
  cmd(
    'restart <miner>',
    'restart a miner and wait until it answers again',
    (y) => miner(y).option('timeout', durationFlag.textOption('timeout', 'how long to wait, e.g. 2m')),
    'restart',
  ),
  cmd('pause <miner>', 'stop hashing', (y) => miner(y), 'pause'),
  cmd('resume <miner>', 'hash again', (y) => miner(y), 'resume'),
  pools,
  cmd(
    'events',
    'recent events, newest last (--follow: then live)',
    (y) =>
      y
        .option('miner', { type: 'string' })
        .option('limit', { type: 'number', default: 30 })
        .option('follow', { alias: 'f', type: 'boolean', default: false }),
    'events',
  ),
  ...fleetEnergyCommands,
];
