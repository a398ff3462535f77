// Bearer-token checks. Like buildomat: no token, an unknown token, or a token of another kind is
// 401; a user without the admin privilege on an admin endpoint is 403. The admin token does not
// act as a user (user endpoints need a user token).
import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { lookupToken, type FactoryRow, type Principal, type UserRow, type WorkerRow } from '../model/principals.js';
import { forbidden, unauthorized } from './errors.js';

function principal(ctx: ServerContext, req: FastifyRequest): Principal {
  const h = req.headers.authorization;
  if (!h) throw unauthorized("authentication required: send the header 'Authorization: Bearer <token>'");
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (!m) throw unauthorized("malformed Authorization header: expected 'Bearer <token>'");
  const p = lookupToken(ctx, m[1]);
  if (!p) throw unauthorized('invalid token: it matches no admin, user, factory or live worker');
  return p;
}

const KIND_NAME: Record<Principal['kind'], string> = {
  admin: 'the admin token',
  user: 'a user token',
  factory: 'a factory token',
  worker: 'a worker token',
};

function wrongKind(p: Principal, wanted: string): never {
  throw unauthorized(`this endpoint needs ${wanted}; ${KIND_NAME[p.kind]} was given`);
}

export function requireAdmin(ctx: ServerContext, req: FastifyRequest): { admin: true; user?: UserRow } {
  const p = principal(ctx, req);
  if (p.kind === 'admin') return { admin: true };
  if (p.kind === 'user') {
    if (p.user.privileges.includes('admin')) return { admin: true, user: p.user };
    throw forbidden(`user ${p.user.name} is not an administrator: this endpoint needs the admin token`);
  }
  return wrongKind(p, 'the admin token');
}

export function requireUser(ctx: ServerContext, req: FastifyRequest): UserRow {
  const p = principal(ctx, req);
  if (p.kind === 'user') return p.user;
  return wrongKind(p, 'a user token');
}

export function requireFactory(ctx: ServerContext, req: FastifyRequest): FactoryRow {
  const p = principal(ctx, req);
  if (p.kind === 'factory') return p.factory;
  return wrongKind(p, 'a factory token');
}

export function requireWorker(ctx: ServerContext, req: FastifyRequest): WorkerRow {
  const p = principal(ctx, req);
  if (p.kind === 'worker') return p.worker;
  return wrongKind(p, 'a worker token');
}
