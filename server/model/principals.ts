// Who may call: the admin (one token), users and factories (tokens made here) and workers
// (tokens their agent chose at bootstrap). Only hashes of tokens are stored.
import { eq } from 'drizzle-orm';
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
      ctx.db.insert(settings).values({ key: ADMIN_KEY, value: h }).onConflictDoUpdate({ target: settings.key, set: { value: h } }).run();
    }
    return undefined;
  }
  if (stored) return undefined;
  const token = newToken();
  ctx.db.insert(settings).values({ key: ADMIN_KEY, value: hashToken(token) }).run();
  return token;
}

export function lookupToken(ctx: ServerContext, token: string): Principal | undefined {
  const h = hashToken(token);
  const admin = ctx.db.select().from(settings).where(eq(settings.key, ADMIN_KEY)).get();
  if (admin?.value === h) return { kind: 'admin' };
  const user = ctx.db.select().from(users).where(eq(users.tokenHash, h)).get();
  if (user) return { kind: 'user', user };
  const factory = ctx.db.select().from(factories).where(eq(factories.tokenHash, h)).get();
  if (factory) return { kind: 'factory', factory };
  const worker = ctx.db.select().from(workers).where(eq(workers.tokenHash, h)).get();
  if (worker && !worker.deleted) return { kind: 'worker', worker };
  return undefined;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

function checkName(what: string, name: string): void {
  if (!NAME_RE.test(name)) {
    throw badRequest(`${what} name ${JSON.stringify(name.slice(0, 80))}: use 1 to 64 characters of [A-Za-z0-9._@-], starting with a letter or digit`);
  }
}

export function createUser(ctx: ServerContext, name: string): { id: string; name: string; token: string } {
  checkName('user', name);
  if (ctx.db.select().from(users).where(eq(users.name, name)).get()) throw conflict(`user ${JSON.stringify(name)} already exists`);
  const id = newId();
  const token = newToken();
  ctx.db.insert(users).values({ id, name, tokenHash: hashToken(token), privileges: [], timeCreate: ctx.now() }).run();
  return { id, name, token };
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
  ctx.db.insert(factories).values({ id, name, tokenHash: hashToken(token), timeCreate: ctx.now() }).run();
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
