// What the factory API and the fleet API (both fastify, both described by an OpenAPI document)
// share: the error a handler throws to answer a status, the statuses of the typed errors, bearer
// tokens, and route schemas with their `$ref`s inlined for fastify's ajv.
import type { FastifyRequest } from 'fastify';
import type { ErrorCode } from './errors.js';

/** Thrown by a handler: answered as `status` with `{error_code, message, hint?, field?}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errorCode: string,
    readonly hint?: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The status and error_code a typed MvmError is answered with (others: 500). */
export const ERROR_STATUS: Partial<Record<ErrorCode, [number, string]>> = {
  USAGE: [400, 'BadRequest'],
  CONFIG_INVALID: [400, 'BadRequest'],
  NOT_FOUND: [404, 'NotFound'],
  CONFLICT: [409, 'Conflict'],
  ILLEGAL_TRANSITION: [409, 'Conflict'],
  FORBIDDEN: [403, 'Forbidden'],
  NETWORK: [503, 'Unavailable'],
  TIMEOUT: [503, 'Unavailable'],
};

/** `schema` with every `#/components/schemas/X` reference replaced by X from `schemas`. */
export function inlineRefs(schema: unknown, schemas: Record<string, unknown>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => inlineRefs(s, schemas));
  if (schema === null || typeof schema !== 'object') return schema;
  const o = schema as Record<string, unknown>;
  if (typeof o.$ref === 'string') return inlineRefs(schemas[o.$ref.split('/').pop()!], schemas);
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, inlineRefs(v, schemas)]));
}

/**
 * The principal of the request's `Authorization: Bearer <token>`, or a 401 saying what was wrong:
 * `hints.missing` where the admin token is, `hints.invalid` what the token is not, `hints.check`
 * which option or variable carries it.
 */
export function bearerPrincipal<P>(
  req: FastifyRequest,
  authenticate: (token: string) => P | undefined,
  hints: { missing: string; invalid: string; check: string },
): P {
  const h = req.headers.authorization;
  if (!h)
    throw new HttpError(
      401,
      "authentication required: send 'Authorization: Bearer <token>'",
      'Unauthorized',
      hints.missing,
    );
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (!m) throw new HttpError(401, "malformed Authorization header: expected 'Bearer <token>'", 'Unauthorized');
  const p = authenticate(m[1]);
  if (!p) throw new HttpError(401, `invalid token: ${hints.invalid}`, 'Unauthorized', hints.check);
  return p;
}
