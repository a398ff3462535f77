// Targets: named kinds of machine a job asks for. A name may redirect to another target.
import { eq } from 'drizzle-orm';
import { newId, isUlid } from '../../shared/ids.js';
import type { Target } from '../../shared/api/types.js';
import type { ServerContext } from '../context.js';
import { targets } from '../db/schema.js';
import { didYouMean } from '../../shared/did-you-mean.js';
import { badRequest, conflict, notFound } from '../http/errors.js';

export type TargetRow = typeof targets.$inferSelect;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function createTarget(ctx: ServerContext, name: string, desc: string): string {
  if (!NAME_RE.test(name)) {
    throw badRequest(
      `target name ${JSON.stringify(name.slice(0, 80))}: use 1 to 64 characters of [A-Za-z0-9._-], starting with a letter or digit`,
    );
  }
  if (ctx.db.select().from(targets).where(eq(targets.name, name)).get()) {
    throw conflict(`target ${JSON.stringify(name)} already exists`);
  }
  const id = newId();
  ctx.db.insert(targets).values({ id, name, desc, timeCreate: ctx.now() }).run();
  return id;
}

export function formatTarget(t: TargetRow): Target {
  return { id: t.id, name: t.name, desc: t.desc, redirect: t.redirect, privilege: t.privilege };
}

/** A target by id, or (as a convenience) by name. */
export function findTarget(ctx: ServerContext, idOrName: string): TargetRow {
  const t =
    (isUlid(idOrName) ? ctx.db.select().from(targets).where(eq(targets.id, idOrName)).get() : undefined) ??
    ctx.db.select().from(targets).where(eq(targets.name, idOrName)).get();
  if (!t) throw notFound(`target ${JSON.stringify(idOrName)} not found`);
  return t;
}

/** "no such target", with the closest name and the names there are (a user token cannot list them). */
function noSuchTarget(ctx: ServerContext, name: string): string {
  const names = ctx.db
    .select({ name: targets.name })
    .from(targets)
    .all()
    .map((r) => r.name);
  const guess = didYouMean(name, names);
  const shown = names.length > 12 ? `${names.slice(0, 12).join(', ')}, …` : names.join(', ');
  return `could not resolve target name ${JSON.stringify(name)}: no such target${guess ? `; did you mean ${JSON.stringify(guess)}?` : ''}${names.length ? ` (the targets are: ${shown})` : ''}`;
}

/** Follows redirects from a target name to the target a job will run on. */
export function resolveTarget(ctx: ServerContext, name: string): TargetRow {
  let t = ctx.db.select().from(targets).where(eq(targets.name, name)).get();
  if (!t) throw badRequest(noSuchTarget(ctx, name));
  const seen = new Set<string>();
  while (t.redirect) {
    if (seen.has(t.id) || seen.size > 32) throw badRequest(`target ${JSON.stringify(name)}: redirect loop`);
    seen.add(t.id);
    const next: TargetRow | undefined = ctx.db.select().from(targets).where(eq(targets.id, t.redirect)).get();
    if (!next) throw badRequest(`target ${JSON.stringify(name)}: redirect points at a missing target`);
    t = next;
  }
  return t;
}

export function redirectTarget(ctx: ServerContext, idOrName: string, redirect: string | null | undefined): void {
  const t = findTarget(ctx, idOrName);
  let to: string | null = null;
  if (redirect) {
    const dest = findTarget(ctx, redirect);
    // Refuse a loop: follow the destination's chain and make sure it never comes back.
    let cur: TargetRow | undefined = dest;
    for (let i = 0; cur && i < 64; i++) {
      if (cur.id === t.id) throw badRequest(`redirecting ${t.name} to ${dest.name} would make a redirect loop`);
      cur = cur.redirect ? ctx.db.select().from(targets).where(eq(targets.id, cur.redirect)).get() : undefined;
    }
    to = dest.id;
  }
  ctx.db.update(targets).set({ redirect: to }).where(eq(targets.id, t.id)).run();
}
