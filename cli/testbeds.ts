// `mvm testbeds`: the vending machine for people — search testbeds and devices, reserve and
// release them, take them out of service, and ask why a job waits. Talks to one factory's API or,
// with several labs in the profile, to each of them;
// the work is imported only when a command runs.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { durationFlag } from '../shared/duration.js';
import { demandedPositional, withJson } from './command.js';
import { withConnection, withLab } from './options.js';

const filters = <T>(y: Argv<T>) =>
  y
    .option('hardware', { type: 'string', describe: 'a device with this hardware (e.g. 601, nano3s)' })
    .option('software', { type: 'string', describe: 'a device with this software' })
    .option('attribute', {
      type: 'string',
      array: true,
      describe: 'a device with this attribute (repeatable: all of them)',
    })
    .option('driver', { type: 'string', describe: 'a device with this driver (axeos, cgminer, nmminer, command)' })
    .option('target', { type: 'string', describe: 'testbeds serving this target' })
    .option('state', { type: 'string', describe: 'free, busy, reserved, unhealthy, maintenance, …' })
    .option('health', { type: 'string', describe: 'good, unknown, checking, bad, maintenance, retired' })
    .option('free', { type: 'boolean', describe: 'only testbeds that can take a job now' });

const name = <T>(y: Argv<T>) =>
  demandedPositional(y, 'name', {
    type: 'string',
    describe: 'testbed name (NAME@LAB when several labs have one of that name)',
  });
const lab = <T>(y: Argv<T>) => withJson(withLab(y));

type Actions = typeof import('./testbeds-actions.js');

/** A command whose action (in testbeds-actions.ts, imported when it runs) takes the arguments the builder declares. */
function cmd<A>(
  command: string,
  describe: string,
  builder: (y: Argv) => Argv<A>,
  action: (act: Actions, args: ArgumentsCamelCase<A>) => Promise<void>,
): CommandModule<object, A> {
  return { command, describe, builder, handler: async (args) => action(await import('./testbeds-actions.js'), args) };
}

const withCommands = (y: Argv) =>
  y
    .command(
      cmd(
        'list',
        'list testbeds with their state, health and holder',
        (y) => filters(lab(y)),
        (act, a) => act.listTestbeds(a),
      ),
    )
    .command(
      cmd(
        'show <name>',
        'a testbed: devices, health, what holds it, recent history',
        (y) => lab(name(y)).option('history', { type: 'number', default: 10, describe: 'journal entries to show' }),
        (act, a) => act.showTestbed(a),
      ),
    )
    .command(
      cmd(
        'devices',
        'list devices across testbeds',
        (y) => filters(lab(y)),
        (act, a) => act.listDevices(a),
      ),
    )
    .command(
      cmd(
        'reserve <name>',
        'reserve a testbed for yourself (no job gets it until you release it or the TTL lapses)',
        (y) =>
          lab(name(y))
            .option(
              'ttl',
              durationFlag.textOption('ttl', "how long, e.g. 30m, 2h (default: the factory's [api] default_ttl)"),
            )
            .option('reason', { type: 'string', describe: 'why, for the others' })
            .option('for', { type: 'string', describe: 'admins: reserve for this user' })
            .option('restore', {
              type: 'boolean',
              default: true,
              describe:
                'restore the baseline when it ends; admins may say --no-restore (a bench set up by hand for the next person)',
            })
            .option('wait', { type: 'boolean', default: false, describe: 'when it is taken, queue until it is free' })
            .option('timeout', {
              type: 'string',
              describe: 'with --wait: give up after this long, e.g. 10m (default 30m)',
            }),
        (act, a) => act.reserve(a),
      ),
    )
    .command(
      cmd(
        'renew <name>',
        'extend your reservation',
        (y) =>
          lab(name(y))
            .option('ttl', durationFlag.textOption('ttl', 'new TTL from now, e.g. 2h'))
            .option('reason', { type: 'string' }),
        (act, a) => act.renew(a),
      ),
    )
    .command(
      cmd(
        'release <name>',
        "release your reservation (admins: --force releases anyone's)",
        (y) => lab(name(y)).option('force', { type: 'boolean', default: false }),
        (act, a) => act.release(a),
      ),
    )
    .command(
      cmd(
        'maintenance <name> <onoff>',
        'take a testbed out of service for bench work (on), or put it back (off: checked before it takes jobs)',
        (y) =>
          demandedPositional(lab(name(y)), 'onoff', { choices: ['on', 'off'] as const, describe: 'on or off' }).option(
            'reason',
            { type: 'string' },
          ),
        (act, a) => act.maintenance(a),
      ),
    )
    .command(
      cmd(
        'decommission <name>',
        'retire a testbed (kept for its history)',
        (y) => lab(name(y)).option('reason', { type: 'string' }),
        (act, a) => act.decommission(a),
      ),
    )
    .command(
      cmd(
        'recommission <name>',
        'bring a retired testbed back (checked before it takes jobs)',
        (y) => lab(name(y)),
        (act, a) => act.recommission(a),
      ),
    )
    .command(
      cmd(
        'check <name>',
        'run a health check now (gives a bad testbed another chance)',
        (y) =>
          lab(name(y))
            .option('reason', { type: 'string' })
            .option('wait', {
              type: 'boolean',
              default: false,
              describe: 'wait for the verdict: exit 0 when healthy, 1 when bad',
            })
            .option('timeout', {
              type: 'string',
              describe: 'with --wait: give up after this long, e.g. 5m (default 15m)',
            }),
        (act, a) => act.check(a),
      ),
    )
    .command(
      cmd(
        'why <job>',
        'why a job waits: which testbeds serve it and what keeps each from taking it',
        (y) => withConnection(lab(demandedPositional(y, 'job', { type: 'string', describe: 'job id' })), 'MVM_TOKEN'),
        (act, a) => act.why(a),
      ),
    )
    .command(
      cmd(
        'user <action> [username]',
        'factory API users (admins): create (its token is printed once), remove (its token stops working), list',
        (y) =>
          lab(
            demandedPositional(y, 'action', { choices: ['create', 'remove', 'list'] as const }).positional('username', {
              type: 'string',
            }),
          ).option('admin', { type: 'boolean', default: false, describe: 'the user may act as an admin' }),
        (act, a) => act.userAction(a),
      ),
    );

export const command: CommandModule = {
  command: 'testbeds',
  describe: 'list, reserve and release testbeds through the factories of one or more labs',
  builder: (y) =>
    withCommands(y)
      .demandCommand(
        1,
        'name a testbeds command: list, show, devices, reserve, renew, release, maintenance, decommission, recommission, check, why, user',
      )
      .example('$0 testbeds list --hardware 601 --free', '')
      .example('$0 testbeds reserve bitaxe-gamma --ttl 2h --reason "fan test"', '')
      .example('$0 testbeds why 01JB…', ''),
  handler: () => {},
};
