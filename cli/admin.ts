// `mvm admin`: targets, factories and users on a job server (admin token). Options are defined
// here; the work is imported only when a command runs.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { demandedPositional, withJson } from './command.js';
import { withConnection } from './options.js';

const admin = <T>(y: Argv<T>) => withConnection(y, 'MVM_ADMIN_TOKEN');
const nameArg = <T>(y: Argv<T>, what: string) => demandedPositional(y, 'name', { type: 'string', describe: what });

const factoryArg = <T>(y: Argv<T>) =>
  demandedPositional(y, 'factory', { type: 'string', describe: 'factory id or name' });

async function actions() {
  return import('./admin-actions.js');
}

/** A command whose handler gets the arguments its builder declares (no casts at the yargs boundary). */
function sub<A>(
  command: string,
  describe: string,
  builder: (y: Argv) => Argv<A>,
  run: (args: ArgumentsCamelCase<A>, act: Awaited<ReturnType<typeof actions>>) => Promise<void>,
): CommandModule<object, A> {
  return { command, describe, builder, handler: async (args) => run(args, await actions()) };
}

const target: CommandModule = {
  command: 'target',
  describe: 'create, list and redirect targets',
  builder: (y) =>
    y
      .command(
        sub(
          'create <name>',
          'create a target; prints its id',
          (y2) =>
            withJson(admin(nameArg(y2, 'target name'))).option('desc', { type: 'string', describe: 'description' }),
          (a, act) => act.targetCreate(a),
        ),
      )
      .command(
        sub(
          'list',
          'list targets',
          (y2) => withJson(admin(y2)),
          (a, act) => act.targetList(a),
        ),
      )
      .command(
        sub(
          'redirect <name>',
          'send jobs for target NAME to target OTHER (names or ids)',
          (y2) =>
            withJson(admin(nameArg(y2, 'target name or id')))
              .option('to', { type: 'string', describe: 'the target that runs the jobs instead' })
              .option('clear', { type: 'boolean', default: false, describe: 'remove the redirect' }),
          (a, act) => act.targetRedirect(a),
        ),
      )
      .demandCommand(1, 'name a target command: create, list, redirect'),
  handler: () => undefined,
};

const factory: CommandModule = {
  command: 'factory',
  describe: 'create, list, enable and disable factories',
  builder: (y) =>
    y
      .command(
        sub(
          'create <name>',
          'create a factory; prints its token (once)',
          (y2) => withJson(admin(nameArg(y2, 'factory name'))),
          (a, act) => act.factoryCreate(a),
        ),
      )
      .command(
        sub(
          'list',
          'list factories',
          (y2) => withJson(admin(y2)),
          (a, act) => act.factoryList(a),
        ),
      )
      .command(
        sub(
          'enable <factory>',
          'let a factory lease jobs again',
          (y2) =>
            withJson(admin(factoryArg(y2))).option('hold-workers', {
              type: 'boolean',
              default: false,
              describe: 'mark its new workers held',
            }),
          (a, act) => act.factorySetEnabled({ ...a, enable: true }),
        ),
      )
      .command(
        sub(
          'disable <factory>',
          'stop a factory from leasing jobs',
          (y2) => withJson(admin(factoryArg(y2))),
          (a, act) => act.factorySetEnabled({ ...a, enable: false }),
        ),
      )
      .demandCommand(1, 'name a factory command: create, list, enable, disable'),
  handler: () => undefined,
};

const user: CommandModule = {
  command: 'user',
  describe: 'create, list and revoke users',
  builder: (y) =>
    y
      .command(
        sub(
          'create <name>',
          'create a user; prints its token (once)',
          (y2) => withJson(admin(nameArg(y2, 'user name'))),
          (a, act) => act.userCreate(a),
        ),
      )
      .command(
        sub(
          'list',
          'list users',
          (y2) => withJson(admin(y2)),
          (a, act) => act.userList(a),
        ),
      )
      .command(
        sub(
          'revoke <name>',
          "revoke a user's token: it stops working at once (mvm server)",
          (y2) => withJson(admin(nameArg(y2, 'user name or id'))),
          (a, act) => act.userRevoke(a),
        ),
      )
      .command(
        sub(
          'token <name>',
          'give a user a new token, printed once; the old one stops working (mvm server)',
          (y2) => withJson(admin(nameArg(y2, 'user name or id'))),
          (a, act) => act.userNewToken(a),
        ),
      )
      .demandCommand(1, 'name a user command: create, list, revoke, token'),
  handler: () => undefined,
};

export const command: CommandModule = {
  command: 'admin',
  describe: 'administer a job server (targets, factories, users)',
  builder: (y) =>
    y
      .command(target)
      .command(factory)
      .command(user)
      .demandCommand(1, 'name an admin command: target, factory, user')
      .epilog(
        'The server URL and admin token come from --url/--token, else MVM_URL/MVM_ADMIN_TOKEN, else the profile ' +
          '(MVM_PROFILE or ~/.config/mvm/profile.toml: url = "…", admin_token = "…"). See doc/cli.md.',
      ),
  handler: () => undefined,
};
