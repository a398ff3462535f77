// `mvm fleet miners|show|history|mode|restart|pause|resume|pools|events|labs`: a person's view of a
// running fleet controller, over its API. The work is imported only when a command runs.
import type { Argv, CommandModule } from 'yargs';
import { durationFlag, parseDurationFlag } from '../shared/duration.js';
import { demandedPositional } from './command.js';
import { lazyFleetCommand } from './fleet-command.js';
import { fleetEnergyCommands } from './fleet-energy.js';

const miner = <T>(y: Argv<T>) => demandedPositional(y, 'miner', { type: 'string', describe: 'miner id' });

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
      .command(
        cmd(
          'list',
          'the catalogue (passwords never shown)',
          (y) => y,
          (act, a) => act.poolsList(a),
        ),
      )
      .command(
        cmd(
          'add <name>',
          'add a pool to the catalogue',
          (y) =>
            demandedPositional(y, 'name', { type: 'string' })
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
          (act, a) => act.poolsAdd(a),
        ),
      )
      .command(
        cmd(
          'rm <id>',
          'remove a pool (refused while a list uses it)',
          (y) => demandedPositional(y, 'id', { type: 'string' }),
          (act, a) => act.poolsRemove(a),
        ),
      )
      .command(
        cmd(
          'show <miner>',
          "a miner's pools in priority order",
          (y) => miner(y),
          (act, a) => act.poolsShow(a),
        ),
      )
      .command(
        cmd(
          'assign <miner> <pools..>',
          'give a miner an ordered pool list and apply it',
          (y) =>
            demandedPositional(miner(y), 'pools', { type: 'string', array: true }).option('apply', {
              type: 'boolean',
              default: true,
              describe: '--no-apply: only assign',
            }),
          (act, a) => act.poolsAssign(a),
        ),
      )
      .command(
        cmd(
          'apply <miner>',
          "push the miner's assigned pools and read them back",
          (y) => miner(y),
          (act, a) => act.poolsApply(a),
        ),
      )
      .command(
        cmd(
          'switch <miner> <index>',
          'mine on the pool at this index of the device list',
          (y) => demandedPositional(miner(y), 'index', { type: 'number' }),
          (act, a) => act.poolsSwitch(a),
        ),
      )
      .demandCommand(1, 'name a pools command: list, add, rm, show, assign, apply, switch'),
  handler: () => {},
};

/** `mvm fleet`'s client commands, added to its builder. */
export const withFleetClientCommands = <T>(y: Argv<T>) =>
  y
    .command(
      cmd(
        'miners',
        'list the miners with their live state',
        (y) => y.option('tag', { type: 'string' }).option('status', { choices: ['online', 'offline', 'unknown'] }),
        (act, a) => act.miners(a),
      ),
    )
    .command(
      cmd(
        'show <miner>',
        'a miner: definition, last reading, recent events',
        (y) => miner(y),
        (act, a) => act.show(a),
      ),
    )
    .command(
      cmd(
        'history <miner>',
        "a miner's history (the resolution follows the range)",
        (y) =>
          miner(y)
            .option('from', { ...sinceOption('from', 'ISO time or a duration back from now ("24h")'), default: '1h' })
            .option('to', { type: 'string', describe: 'ISO time (default now)' })
            .option(
              'step',
              durationFlag.textOption('step', 'bucket size, e.g. 1m, 1h (default: chosen from the range)'),
            ),
        (act, a) => act.history(a),
      ),
    )
    .command(
      cmd(
        'mode <miner> [mode]',
        "show a miner's modes, or set one",
        (y) => miner(y).positional('mode', { type: 'string' }),
        (act, a) => act.mode(a),
      ),
    )
    .command(
      cmd(
        'restart <miner>',
        'restart a miner and wait until it answers again',
        (y) => miner(y).option('timeout', durationFlag.textOption('timeout', 'how long to wait, e.g. 2m')),
        (act, a) => act.restart(a),
      ),
    )
    .command(
      cmd(
        'pause <miner>',
        'stop hashing',
        (y) => miner(y),
        (act, a) => act.pause(a),
      ),
    )
    .command(
      cmd(
        'resume <miner>',
        'hash again',
        (y) => miner(y),
        (act, a) => act.resume(a),
      ),
    )
    .command(pools)
    .command(
      cmd(
        'events',
        'recent events, newest last (--follow: then live)',
        (y) =>
          y
            .option('miner', { type: 'string' })
            .option('limit', { type: 'number', default: 30 })
            .option('follow', { alias: 'f', type: 'boolean', default: false }),
        (act, a) => act.events(a),
      ),
    )
    .command(
      lazyFleetCommand(() => import('./fleet-labs.js'))(
        'labs',
        'every lab the fleet watches, whether it answers, and all their testbeds',
        (y) => y.option('lab', { type: 'string', describe: 'only this lab' }),
        (act, a) => act.labs(a),
      ),
    )
    .command(fleetEnergyCommands);
