// `mvm admin`: targets, factories and users on a job server, with the admin token. Names are
// resolved to ids with the list calls, so a person can use either.
import type { Factory, Target } from '../shared/api/types.js';
import type { AdminClient } from '../shared/buildomat/admin.js';
import { MvmError } from '../shared/errors.js';
import { isUlid } from '../shared/ids.js';
import { connectAdmin, explained, type ConnectionFlags } from './connect.js';
import { visible } from './format.js';
import { table } from './table.js';
import { processIo, type Io } from './io.js';
import type { Connection } from './profile.js';

const FACTORY_HINT = '`mvm admin factory list` shows the factories';

interface JsonFlag {
  json?: boolean;
}

export async function targetCreate(
  args: ConnectionFlags & JsonFlag & { name: string; desc?: string },
  io: Io = processIo,
) {
  const { conn, client } = connectAdmin(args);
  const id = await explained(conn, { doing: 'create the target' }, () =>
    client.createTarget(args.name, args.desc ?? args.name),
  );
  if (args.json) io.out(JSON.stringify({ id, name: args.name }));
  else {
    io.out(id);
    io.note(`mvm: created target ${args.name}`);
  }
}

export async function targetList(args: ConnectionFlags & JsonFlag, io: Io = processIo) {
  const { conn, client } = connectAdmin(args);
  const targets = await explained(conn, { doing: 'list targets' }, () => client.listTargets());
  if (args.json) return io.out(JSON.stringify(targets, null, 2));
  if (targets.length === 0) return io.out('no targets');
  const names = new Map(targets.map((t) => [t.id, t.name]));
  io.out(
    table(
      ['ID', 'NAME', 'REDIRECT', 'DESCRIPTION'],
      targets.map((t) => [t.id, t.name, t.redirect ? (names.get(t.redirect) ?? t.redirect) : '-', visible(t.desc)]),
    ),
  );
}

/** Finds a target by id or name. */
export function findTarget(targets: Target[], key: string): Target {
  const t = targets.find((x) => x.id === key) ?? targets.find((x) => x.name === key);
  if (!t) {
    throw new MvmError('NOT_FOUND', `no target named or numbered "${key}"`, {
      hint: `\`mvm admin target list\` shows them${targets.length ? ` (${targets.map((x) => x.name).join(', ')})` : ''}`,
    });
  }
  return t;
}

export async function targetRedirect(
  args: ConnectionFlags & JsonFlag & { name: string; to?: string; clear?: boolean },
  io: Io = processIo,
) {
  if (!args.to && !args.clear)
    throw new MvmError('USAGE', 'say where to redirect', {
      hint: 'pass --to OTHER, or --clear to remove the redirect',
    });
  if (args.to && args.clear) throw new MvmError('USAGE', '--to and --clear both given', { hint: 'pass one of them' });
  const { conn, client } = connectAdmin(args);
  const targets = await explained(conn, { doing: 'list targets' }, () => client.listTargets());
  const from = findTarget(targets, args.name);
  const to = args.to ? findTarget(targets, args.to) : undefined;
  if (to && to.id === from.id) throw new MvmError('USAGE', `target ${from.name} cannot redirect to itself`);
  await explained(conn, { doing: 'redirect the target' }, () => client.redirectTarget(from.id, to?.id ?? null));
  if (args.json)
    io.out(JSON.stringify({ id: from.id, name: from.name, redirect: to ? { id: to.id, name: to.name } : null }));
  else
    io.note(
      to ? `mvm: target ${from.name} now redirects to ${to.name}` : `mvm: target ${from.name} no longer redirects`,
    );
}

/** Prints a new token: bare on stdout (for `TOKEN=$(…)`), or the whole record with --json. */
function printCreated(io: Io, kind: string, r: { id: string; name: string; token: string }, json?: boolean) {
  if (json) io.out(JSON.stringify(r));
  else {
    io.note(`mvm: created ${kind} ${r.name} (id ${r.id}); its token follows and is shown only once`);
    io.out(r.token);
  }
}

export async function factoryCreate(args: ConnectionFlags & JsonFlag & { name: string }, io: Io = processIo) {
  const { conn, client } = connectAdmin(args);
  const r = await explained(conn, { doing: 'create the factory' }, () => client.createFactory(args.name));
  printCreated(io, 'factory', r, args.json);
}

export async function factoryList(args: ConnectionFlags & JsonFlag, io: Io = processIo) {
  const { conn, client } = connectAdmin(args);
  const factories = await explained(conn, { doing: 'list factories' }, () => client.listFactories());
  if (args.json) return io.out(JSON.stringify(factories, null, 2));
  if (factories.length === 0) return io.out('no factories');
  io.out(
    table(
      ['ID', 'NAME', 'ENABLED', 'LAST PING'],
      factories.map((f) => [
        f.id,
        f.name,
        f.enable ? (f.hold_workers ? 'yes (hold workers)' : 'yes') : 'no',
        f.last_ping ?? '-',
      ]),
    ),
  );
}

async function findFactory(client: AdminClient, conn: Connection, key: string): Promise<string> {
  if (isUlid(key)) return key;
  const factories: Factory[] = await explained(conn, { doing: 'list factories' }, () => client.listFactories());
  const f = factories.find((x) => x.id === key) ?? factories.find((x) => x.name === key);
  if (!f) {
    throw new MvmError('NOT_FOUND', `no factory named or numbered "${key}"`, { hint: FACTORY_HINT });
  }
  return f.id;
}

export async function factorySetEnabled(
  args: ConnectionFlags & JsonFlag & { factory: string; enable: boolean; 'hold-workers'?: boolean },
  io: Io = processIo,
) {
  const { conn, client } = connectAdmin(args);
  const id = await findFactory(client, conn, args.factory);
  if (args.enable) {
    await explained(conn, { doing: 'enable the factory', hint: FACTORY_HINT }, () =>
      client.enableFactory(id, { holdWorkers: args['hold-workers'] }),
    );
  } else {
    await explained(conn, { doing: 'disable the factory', hint: FACTORY_HINT }, () => client.disableFactory(id));
  }
  if (args.json)
    io.out(
      JSON.stringify({ id, enabled: args.enable, hold_workers: args.enable ? Boolean(args['hold-workers']) : false }),
    );
  else io.note(`mvm: factory ${args.factory} ${args.enable ? 'enabled' : 'disabled'}`);
}

export async function userCreate(args: ConnectionFlags & JsonFlag & { name: string }, io: Io = processIo) {
  const { conn, client } = connectAdmin(args);
  const r = await explained(conn, { doing: 'create the user' }, () => client.createUser(args.name));
  printCreated(io, 'user', r, args.json);
}

export async function userRevoke(args: ConnectionFlags & JsonFlag & { name: string }, io: Io = processIo) {
  const { conn, client } = connectAdmin(args);
  await explained(conn, { doing: 'revoke the user token' }, () => client.revokeUserToken(args.name));
  io.out(
    args.json
      ? JSON.stringify({ name: args.name, revoked: true })
      : `revoked the token of user ${args.name}; it no longer works`,
  );
}

export async function userNewToken(args: ConnectionFlags & JsonFlag & { name: string }, io: Io = processIo) {
  const { conn, client } = connectAdmin(args);
  const r = await explained(conn, { doing: 'replace the user token' }, () => client.newUserToken(args.name));
  io.out(
    args.json
      ? JSON.stringify(r)
      : `new token for user ${r.name} (shown only now; the old one no longer works):\n${r.token}`,
  );
}

export async function userList(args: ConnectionFlags & JsonFlag, io: Io = processIo) {
  const { conn, client } = connectAdmin(args);
  const users = await explained(conn, { doing: 'list users' }, () => client.listUsers());
  if (args.json) return io.out(JSON.stringify(users, null, 2));
  if (users.length === 0) return io.out('no users');
  io.out(
    table(
      ['ID', 'NAME', 'CREATED', 'PRIVILEGES'],
      users.map((u) => [u.id, u.name, u.time_create, u.privileges.join(',') || '-']),
    ),
  );
}
