// What the energy and automation route plugins share: error replies (the plugins render their
// own, so they behave the same under any daemon), time parameters and loose JSON schemas.
import type { FastifyError, FastifyInstance } from 'fastify';
import { MvmError } from '../../shared/errors.js';

const STATUS: Partial<Record<MvmError['code'], number>> = { USAGE: 400, CONFIG_INVALID: 400, NOT_FOUND: 404, CONFLICT: 409, FORBIDDEN: 403 };

export function installErrorReplies(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof MvmError) {
      const status = STATUS[err.code] ?? 500;
      if (status === 500) req.log.error({ err }, 'request failed');
      const problems = (err as { problems?: unknown }).problems;
      return reply.code(status).send({ error: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}), ...(problems ? { problems } : {}) });
    }
    if (err.validation) return reply.code(400).send({ error: 'USAGE', message: `invalid request: ${err.message}` });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: 'USAGE', message: err.message });
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'internal error; see the fleet log' });
  });
}

/** An ISO time (or ms) query parameter; `fallback` when absent. */
export function timeParam(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw new MvmError('USAGE', `${name} is not a time: ${JSON.stringify(v)}`, { hint: 'use ISO 8601, e.g. 2026-12-04T16:00:00Z, or ms since the epoch' });
  return ms;
}

export function rangeParams(q: { from?: string; to?: string }, defaults: { from: number; to: number }, maxMs = 400 * 86_400_000): { from: number; to: number } {
  const from = timeParam(q.from, 'from', defaults.from);
  const to = timeParam(q.to, 'to', defaults.to);
  if (to <= from) throw new MvmError('USAGE', `"to" (${new Date(to).toISOString()}) must be after "from" (${new Date(from).toISOString()})`);
  if (to - from > maxMs) throw new MvmError('USAGE', `the range is over ${Math.round(maxMs / 86_400_000)} days`, { hint: 'ask for a shorter range' });
  return { from, to };
}

export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' }, problems: { type: 'array', items: { type: 'object', additionalProperties: true } } },
} as const;

export const rangeQuerySchema = {
  type: 'object',
  properties: { from: { type: 'string', description: 'ISO 8601 time or ms' }, to: { type: 'string', description: 'ISO 8601 time or ms' } },
  additionalProperties: false,
} as const;

export const looseObject = { type: 'object', additionalProperties: true } as const;
