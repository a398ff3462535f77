// `mvm fleet energy …` and `mvm fleet rules …`: energy prices, costs and automation rules of a
// running fleet controller, over its API. `mvm fleet` adds `fleetEnergyCommands` to its own; the
// work is imported only when a command runs.
import type { Argv, CommandModule } from 'yargs';
import { demandedPositional } from './command.js';
import { lazyFleetCommand } from './fleet-command.js';

const range = <T>(y: Argv<T>) =>
  y
    .option('from', { type: 'string', describe: 'ISO time, or "today" / "month" (UK time)' })
    .option('to', { type: 'string', describe: 'ISO time (default: now, or the end of the known prices)' });
const ruleFile = <T>(y: Argv<T>) =>
  y.option('file', {
    alias: 'f',
    type: 'string',
    demandOption: true,
    describe: 'the rule, JSON or YAML (- for stdin)',
  });
const id = <T>(y: Argv<T>) => demandedPositional(y, 'id', { type: 'number', describe: 'rule id' });

const cmd = lazyFleetCommand(() => import('./fleet-energy-actions.js'));

const energy: CommandModule = {
  command: 'energy',
  describe: 'energy prices, and the energy the miners used and what it cost',
  builder: (y) =>
    y
      .command(
        cmd(
          'current',
          "the price now, and the source's state",
          (y) => y,
          (act, a) => act.energyCurrent(a),
        ),
      )
      .command(
        cmd(
          'next',
          'the next half-hour slot',
          (y) => y,
          (act, a) => act.energyNext(a),
        ),
      )
      .command(
        cmd(
          'timeline',
          'the known prices (default: from the start of today)',
          (y) => range(y),
          (act, a) => act.energyTimeline(a),
        ),
      )
      .command(
        cmd(
          'cost [miner]',
          'energy used and its cost, per UK day and month (default: this month)',
          (y) => range(y).positional('miner', { type: 'string', describe: 'one miner (default: the fleet)' }),
          (act, a) => act.energyCost(a),
        ),
      )
      .command(
        cmd(
          'refresh',
          'fetch prices from the source now',
          (y) => y,
          (act, a) => act.energyRefresh(a),
        ),
      )
      .demandCommand(1, 'name an energy command: current, next, timeline, cost, refresh'),
  handler: () => {},
};

const rules: CommandModule = {
  command: 'rules',
  describe: 'automation rules: list, add, edit, remove, dry-run',
  builder: (y) =>
    y
      .command(
        cmd(
          'list',
          'the rules with what each holds',
          (y) => y,
          (act, a) => act.rulesList(a),
        ),
      )
      .command(
        cmd(
          'show <id>',
          'a rule and its state per miner',
          (y) => id(y),
          (act, a) => act.rulesShow(a),
        ),
      )
      .command(
        cmd(
          'add',
          'add a rule (refused, with every reason, when it cannot be satisfied)',
          (y) => ruleFile(y),
          (act, a) => act.rulesAdd(a),
        ),
      )
      .command(
        cmd(
          'edit <id>',
          'replace a rule',
          (y) => ruleFile(id(y)),
          (act, a) => act.rulesEdit(a),
        ),
      )
      .command(
        cmd(
          'rm <id>',
          'undo what a rule holds, then delete it',
          (y) => id(y),
          (act, a) => act.rulesRemove(a),
        ),
      )
      .command(
        cmd(
          'enable <id>',
          'enable a rule',
          (y) => id(y),
          (act, a) => act.rulesEnable(a),
        ),
      )
      .command(
        cmd(
          'disable <id>',
          'disable a rule (what it holds is undone)',
          (y) => id(y),
          (act, a) => act.rulesDisable(a),
        ),
      )
      .command(
        cmd(
          'dry-run [id]',
          'what a rule would do now and over the known prices, without acting',
          (y) =>
            y
              .positional('id', { type: 'number' })
              .option('file', { alias: 'f', type: 'string', describe: 'an unsaved rule (JSON or YAML)' }),
          (act, a) => act.rulesDryRun(a),
        ),
      )
      .command(
        cmd(
          'types',
          'the triggers and actions that exist',
          (y) => y,
          (act, a) => act.rulesTypes(a),
        ),
      )
      .command(
        cmd(
          'evaluate',
          'evaluate every rule now',
          (y) => y,
          (act, a) => act.rulesEvaluate(a),
        ),
      )
      .demandCommand(1, 'name a rules command: list, show, add, edit, rm, enable, disable, dry-run, types, evaluate'),
  handler: () => {},
};

export const fleetEnergyCommands: CommandModule[] = [energy, rules];
