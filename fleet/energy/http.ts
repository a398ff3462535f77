// What the energy and automation route plugins share: error replies (the plugins render their
// own, so they behave the same under any daemon), time parameters and loose JSON schemas.
import type { FastifyInstance } from 'fastify';
import { MvmError } from '../../shared/errors.js';
import { errorBody } from '../api/errors.js';

/**
 * Errors answered as the rest of the fleet API answers them (fleet/api/errors.ts), plus the list
 * of problems when a rule is refused. Installed by each plugin, so they answer the same under any app.
 */
export function installErrorReplies(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const e = errorBody(err, String(req.id));
    if (e.internal) req.log.error({ err, url: req.url.split('?')[0] }, 'request failed');
    const problems = (err as { problems?: unknown }).problems;
    return reply.code(e.status).send(problems ? { ...e.body, problems } : e.body);
  });
}

/** Route config the fleet API's auth hook reads: a write needs an admin token. */
export function op(summary: string, write = false): { op: { summary: string; write: boolean } } {
  return { op: { summary, write } };
}

/** An ISO time (or ms) query parameter; `fallback` when absent. */
export function timeParam(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms))
    throw new MvmError('USAGE', `${name} is not a time: ${JSON.stringify(v)}`, {
      hint: 'use ISO 8601, e.g. 2026-12-04T16:00:00Z, or ms since the epoch',
    });
  return ms;
}

export function rangeParams(
  q: { from?: string; to?: string },
  defaults: { from: number; to: number },
  maxMs = 400 * 86_400_000,
): { from: number; to: number } {
  const from = timeParam(q.from, 'from', defaults.from);
  const to = timeParam(q.to, 'to', defaults.to);
  if (to <= from)
    throw new MvmError(
      'USAGE',
      `"to" (${new Date(to).toISOString()}) must be after "from" (${new Date(from).toISOString()})`,
    );
  if (to - from > maxMs)
    throw new MvmError('USAGE', `the range is over ${Math.round(maxMs / 86_400_000)} days`, {
      hint: 'ask for a shorter range',
    });
  return { from, to };
}

export const errorSchema = {
  type: 'object',
  properties: {
    message: { type: 'string' },
    hint: { type: 'string' },
    error_code: { type: 'string' },
    request_id: { type: 'string' },
    field: { type: 'string' },
    problems: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
} as const;

export const rangeQuerySchema = {
  type: 'object',
  properties: {
    from: { type: 'string', description: 'ISO 8601 time or ms' },
    to: { type: 'string', description: 'ISO 8601 time or ms' },
  },
  additionalProperties: false,
} as const;

export const looseObject = { type: 'object', additionalProperties: true } as const;
