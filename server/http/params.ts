// Query-string and path parameters, checked with clear messages.
import type { FastifyRequest } from 'fastify';
import { isUlid } from '../../shared/ids.js';
import { badRequest, notFound } from './errors.js';

type Query = Record<string, string | string[] | undefined>;

function one(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Query)[name];
  if (Array.isArray(v)) throw badRequest(`query parameter ${name} given more than once`);
  return v;
}

export function queryInt(
  req: FastifyRequest,
  name: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const v = one(req, name);
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw badRequest(`query parameter ${name}=${JSON.stringify(v)}: expected an integer from ${min} to ${max}`);
  }
  return Number(v);
}

export function queryBool(req: FastifyRequest, name: string): boolean | undefined {
  const v = one(req, name);
  if (v === undefined || v === '') return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw badRequest(`query parameter ${name}=${JSON.stringify(v)}: expected true or false`);
}

export function queryString(req: FastifyRequest, name: string): string | undefined {
  return one(req, name);
}

/** A path parameter that must be a record id (ULID); anything else cannot exist. */
export function idParam(req: FastifyRequest, name: string, what = name): string {
  const v = (req.params as Record<string, string>)[name];
  if (!isUlid(v)) throw notFound(`${what} ${JSON.stringify(v.slice(0, 80))} not found (ids are 26-character ULIDs)`);
  return v;
}

export function waitMs(req: FastifyRequest, cap: number): number {
  return Math.min(queryInt(req, 'wait_ms', 0, 3_600_000) ?? 0, cap);
}
