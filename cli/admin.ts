// `mvm admin`: targets, factories and users on a job server (admin token). Options are defined
// here; the work is imported only when a command runs.
import type { Argv, CommandModule } from 'yargs';
import { withJson } from './command.js';
import { withConnection } from './options.js';

const admin = <T>(y: Argv<T>) => withConnection(y, 'MVM_ADMIN_TOKEN');
const nameArg = <T>(y: Argv<T>, what: string) =>
  y.positional('name', { type: 'string', describe: what }) as Argv<T & { name: string }>;

async function actions() {
  return import('./admin-actions.js');
}

const target: CommandModule = {
  command: 'target',
  describe: 'create, list and redirect targets',
  builder: (y) =>
    y
      .command({
        command: 'create <name>',
        describe: 'create a target; prints its id',
        builder: (y2) =>
          withJson(admin(nameArg(y2, 'target name'))).option('desc', { type: 'string', describe: 'description' }),
        handler: async (args) => (await actions()).targetCreate(args as never),
      })
      .command({
        command: 'list',
        describe: 'list targets',
        builder: (y2) => withJson(admin(y2)),
        handler: async (args) => (await actions()).targetList(args as never),
      })
      .command({
        command: 'redirect <name>',
        describe: 'send jobs for target NAME to target OTHER (names or ids)',
        builder: (y2) =>
          withJson(admin(nameArg(y2, 'target name or id')))
            .option('to', { type: 'string', describe: 'the target that runs the jobs instead' })
            .option('clear', { type: 'boolean', default: false, describe: 'remove the redirect' }),
        handler: async (args) => (await actions()).targetRedirect(args as never),
      })
      .demandCommand(1, 'name a target command: create, list, redirect'),
  handler: () => undefined,
};

const factory: CommandModule = {
  command: 'factory',
  describe: 'create, list, enable and disable factories',
  builder: (y) =>
    y
      .command({
        command: 'create <name>',
        describe: 'create a factory; prints its token (once)',
        builder: (y2) => withJson(admin(nameArg(y2, 'factory name'))),
        handler: async (args) => (await actions()).factoryCreate(args as never),
      })
      .command({
        command: 'list',
        describe: 'list factories',
        builder: (y2) => withJson(admin(y2)),
        handler: async (args) => (await actions()).factoryList(args as never),
      })
      .command({
        command: 'enable <factory>',
        describe: 'let a factory lease jobs again',
        builder: (y2) =>
          withJson(admin(y2.positional('factory', { type: 'string', describe: 'factory id or name' }))).option(
            'hold-workers',
            {
              type: 'boolean',
              default: false,
              describe: 'mark its new workers held',
            },
          ),
        handler: async (args) => (await actions()).factorySetEnabled({ ...(args as object), enable: true } as never),
      })
      .command({
        command: 'disable <factory>',
        describe: 'stop a factory from leasing jobs',
        builder: (y2) => withJson(admin(y2.positional('factory', { type: 'string', describe: 'factory id or name' }))),
        handler: async (args) => (await actions()).factorySetEnabled({ ...(args as object), enable: false } as never),
      })
      .demandCommand(1, 'name a factory command: create, list, enable, disable'),
  handler: () => undefined,
};

const user: CommandModule = {
  command: 'user',
  describe: 'create, list and revoke users',
  builder: (y) =>
    y
      .command({
        command: 'create <name>',
        describe: 'create a user; prints its token (once)',
        builder: (y2) => withJson(admin(nameArg(y2, 'user name'))),
        handler: async (args) => (await actions()).userCreate(args as never),
      })
      .command({
        command: 'list',
        describe: 'list users',
        builder: (y2) => withJson(admin(y2)),
        handler: async (args) => (await actions()).userList(args as never),
      })
      .command({
        command: 'revoke <name>',
        describe: "revoke a user's token: it stops working at once (mvm server)",
        builder: (y2) => withJson(admin(nameArg(y2, 'user name or id'))),
        handler: async (args) => (await actions()).userRevoke(args as never),
      })
      .command({
        command: 'token <name>',
        describe: 'give a user a new token, printed once; the old one stops working (mvm server)',
        builder: (y2) => withJson(admin(nameArg(y2, 'user name or id'))),
        handler: async (args) => (await actions()).userNewToken(args as never),
      })
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
