// Who may call: the admin (one token), users and factories (tokens made here) and workers
// (tokens their agent chose at bootstrap). Only hashes of tokens are stored.
import { eq, sql } from 'drizzle-orm';
import { hashToken, newId, newToken } from '../../shared/ids.js';
import type { Factory, User } from '../../shared/api/types.js';
import { iso, type ServerContext } from '../context.js';
import { factories, settings, users, workers } from '../db/schema.js';
import { badRequest, conflict, notFound } from '../http/errors.js';

export type UserRow = typeof users.$inferSelect;
export type FactoryRow = typeof factories.$inferSelect;
export type WorkerRow = typeof workers.$inferSelect;

export type Principal =
  | { kind: 'admin' }
  | { kind: 'user'; user: UserRow }
  | { kind: 'factory'; factory: FactoryRow }
  | { kind: 'worker'; worker: WorkerRow };

const ADMIN_KEY = 'admin_token_hash';

/**
 * Sets up the admin token: `given` (from MVM_ADMIN_TOKEN) replaces the stored one; otherwise a
 * new token is made on first start. Returns the token only when it was just made (to print once).
 */
export function ensureAdminToken(ctx: ServerContext, given: string | undefined): string | undefined {
  const stored = ctx.db.select().from(settings).where(eq(settings.key, ADMIN_KEY)).get();
  if (given) {
    const h = hashToken(given);
    if (stored?.value !== h) {
      ctx.db
        .insert(settings)
        .values({ key: ADMIN_KEY, value: h })
        .onConflictDoUpdate({ target: settings.key, set: { value: h } })
        .run();
    }
    return undefined;
  }
  if (stored) return undefined;
  const token = newToken();
  ctx.db
    .insert(settings)
    .values({ key: ADMIN_KEY, value: hashToken(token) })
    .run();
  return token;
}

type Kind = Principal['kind'];

/**
 * Which kind a token hash was found as. Tokens are random and unique, so a hash never changes
 * kind; knowing it saves a busy worker's request three of its four lookups. The one lookup still
 * runs every time, so a deleted user, factory or worker is refused at once. Bounded: cleared when full.
 */
const kindOf = new WeakMap<ServerContext, Map<string, Kind>>();
const workerByHash = new WeakMap<ServerContext, ReturnType<typeof prepareWorkerByHash>>();
function prepareWorkerByHash(ctx: ServerContext) {
  return ctx.db
    .select()
    .from(workers)
    .where(eq(workers.tokenHash, sql.placeholder('h')))
    .prepare();
}
const KIND_CACHE_MAX = 10_000;

function find(ctx: ServerContext, kind: Kind, h: string): Principal | undefined {
  switch (kind) {
    case 'admin': {
      const admin = ctx.db.select().from(settings).where(eq(settings.key, ADMIN_KEY)).get();
      return admin?.value === h ? { kind: 'admin' } : undefined;
    }
    case 'user': {
      const user = ctx.db.select().from(users).where(eq(users.tokenHash, h)).get();
      return user ? { kind: 'user', user } : undefined;
    }
    case 'factory': {
      const factory = ctx.db.select().from(factories).where(eq(factories.tokenHash, h)).get();
      return factory ? { kind: 'factory', factory } : undefined;
    }
    case 'worker': {
      // Every worker request comes through here: a prepared query, built once.
      let q = workerByHash.get(ctx);
      if (!q) workerByHash.set(ctx, (q = prepareWorkerByHash(ctx)));
      const worker = q.get({ h });
      return worker && !worker.deleted ? { kind: 'worker', worker } : undefined;
    }
  }
}

export function lookupToken(ctx: ServerContext, token: string): Principal | undefined {
  const h = hashToken(token);
  let kinds = kindOf.get(ctx);
  if (!kinds) kindOf.set(ctx, (kinds = new Map()));
  const known = kinds.get(h);
  if (known) return find(ctx, known, h);
  for (const kind of ['admin', 'user', 'factory', 'worker'] as const) {
    const p = find(ctx, kind, h);
    if (p) {
      if (kinds.size >= KIND_CACHE_MAX) kinds.clear();
      kinds.set(h, kind);
      return p;
    }
  }
  return undefined;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

function checkName(what: string, name: string): void {
  if (!NAME_RE.test(name)) {
    throw badRequest(
      `${what} name ${JSON.stringify(name.slice(0, 80))}: use 1 to 64 characters of [A-Za-z0-9._@-], starting with a letter or digit`,
    );
  }
}

export function createUser(ctx: ServerContext, name: string): { id: string; name: string; token: string } {
  checkName('user', name);
  if (ctx.db.select().from(users).where(eq(users.name, name)).get())
    throw conflict(`user ${JSON.stringify(name)} already exists`);
  const id = newId();
  const token = newToken();
  ctx.db
    .insert(users)
    .values({ id, name, tokenHash: hashToken(token), privileges: [], timeCreate: ctx.now() })
    .run();
  return { id, name, token };
}

/**
 * Replaces a user's token: the old one stops working at once. With `issue`, the new token is
 * returned (shown once); without, nobody knows it: the user's token is revoked.
 */
export function replaceUserToken(
  ctx: ServerContext,
  idOrName: string,
  issue: boolean,
): { id: string; name: string; token?: string } {
  const u = findUser(ctx, idOrName);
  const token = newToken();
  ctx.db
    .update(users)
    .set({ tokenHash: hashToken(token) })
    .where(eq(users.id, u.id))
    .run();
  ctx.log.info({ user: u.id, name: u.name }, issue ? 'user token replaced' : 'user token revoked');
  return { id: u.id, name: u.name, ...(issue ? { token } : {}) };
}

export function formatUser(u: UserRow): User {
  return { id: u.id, name: u.name, privileges: u.privileges, time_create: iso(u.timeCreate) };
}

export function findUser(ctx: ServerContext, idOrName: string): UserRow {
  const u =
    ctx.db.select().from(users).where(eq(users.id, idOrName)).get() ??
    ctx.db.select().from(users).where(eq(users.name, idOrName)).get();
  if (!u) throw notFound(`user ${JSON.stringify(idOrName)} not found`);
  return u;
}

export function createFactory(ctx: ServerContext, name: string): { id: string; name: string; token: string } {
  checkName('factory', name);
  const id = newId();
  const token = newToken();
  ctx.db
    .insert(factories)
    .values({ id, name, tokenHash: hashToken(token), timeCreate: ctx.now() })
    .run();
  return { id, name, token };
}

export function formatFactory(f: FactoryRow): Factory {
  return {
    id: f.id,
    name: f.name,
    enable: f.enable,
    hold_workers: f.holdWorkers,
    last_ping: f.lastPing === null ? null : iso(f.lastPing),
  };
}

export function findFactory(ctx: ServerContext, idOrName: string): FactoryRow {
  const f =
    ctx.db.select().from(factories).where(eq(factories.id, idOrName)).get() ??
    ctx.db.select().from(factories).where(eq(factories.name, idOrName)).get();
  if (!f) throw notFound(`factory ${JSON.stringify(idOrName)} not found`);
  return f;
}
