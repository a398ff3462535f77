// The automation API, a fastify plugin the fleet daemon registers: rules as data, what triggers
// and actions exist, dry-runs and an evaluation on demand.
//   GET    /api/automation/                  rules, each with its per-miner state
//   POST   /api/automation/                  create (refused, with every reason, when it cannot be satisfied)
//   GET    /api/automation/:id
//   PUT    /api/automation/:id               replace
//   DELETE /api/automation/:id               undo what it holds, then delete
//   GET    /api/automation/triggers/types
//   GET    /api/automation/actions/types
//   POST   /api/automation/:id/dry-run       what it would do now and over the known prices
//   POST   /api/automation/dry-run           the same for an unsaved rule (the body)
//   POST   /api/automation/evaluate          evaluate every rule now
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { MvmError } from '../../shared/errors.js';
import { errorSchema, installErrorReplies, looseObject, op } from '../energy/http.js';
import type { PriceStore } from '../energy/store.js';
import type { MinerStore } from '../types.js';
import { ACTION_TYPES, TRIGGER_TYPES } from './catalog.js';
import { dryRun } from './dryrun.js';
import type { RuleEngine } from './engine.js';
import type { RuleStore } from './store.js';
import type { Rule, RuleActuator } from './types.js';
import { validateRule } from './validate.js';

export interface AutomationRoutesOptions {
  rules: RuleStore;
  engine: RuleEngine;
  miners: Pick<MinerStore, 'list'>;
  actuator: Pick<RuleActuator, 'modes'>;
  prices: Pick<PriceStore, 'at' | 'range' | 'knownUntil'>;
  /** who is asking (a token's name); default "api" */
  actorOf?: (req: FastifyRequest) => string;
  now?: () => number;
}

const typed = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string' } },
  additionalProperties: true,
} as const;
const ruleBody = {
  type: 'object',
  required: ['name', 'trigger', 'action'],
  properties: {
    name: { type: 'string' },
    enabled: { type: 'boolean' },
    priority: { type: 'integer' },
    trigger: typed,
    conditions: { type: 'object', additionalProperties: true },
    action: typed,
    until: { type: 'boolean' },
    undoAction: { anyOf: [typed, { type: 'null' }] },
    cooldownMs: { type: 'integer' },
    hysteresis: { type: 'number' },
  },
  additionalProperties: true,
} as const;
const ruleReply = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    enabled: { type: 'boolean' },
    priority: { type: 'integer' },
    trigger: looseObject,
    conditions: looseObject,
    action: looseObject,
    undoAction: { anyOf: [looseObject, { type: 'null' }] },
    until: { type: 'boolean' },
    cooldownMs: { type: 'integer' },
    hysteresis: { type: 'number' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    updatedBy: { type: ['string', 'null'] },
    miners: { type: 'array', items: looseObject },
  },
} as const;
const idParams = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } as const;
const typesReply = { type: 'object', properties: { types: { type: 'array', items: looseObject } } } as const;

export const automationRoutes: FastifyPluginAsync<AutomationRoutesOptions> = async (app, o) => {
  installErrorReplies(app);
  const actor = (req: FastifyRequest) => (o.actorOf ? o.actorOf(req) : 'api');
  const now = o.now ?? Date.now;
  const withStates = (r: Rule) => ({
    ...r,
    miners: o.rules.states(r.id).map((s) => ({
      miner: s.minerId,
      holding: s.wanting,
      applied: s.applied,
      lastChangeAt: s.lastChangeAt ? new Date(s.lastChangeAt).toISOString() : null,
      note: s.lastNote,
    })),
  });
  const mustGet = (id: number) => {
    const r = o.rules.get(id);
    if (!r) throw new MvmError('NOT_FOUND', `no rule ${id}`, { hint: 'GET /api/automation/ lists the rules' });
    return r;
  };
  const check = (body: unknown) => validateRule(body, { miners: o.miners.list(), actuator: o.actuator });

  app.get(
    '/api/automation/',
    {
      config: op('list the rules'),
      schema: { response: { 200: { type: 'object', properties: { rules: { type: 'array', items: ruleReply } } } } },
    },
    async () => ({
      rules: o.rules.list().map(withStates),
    }),
  );

  app.get(
    '/api/automation/triggers/types',
    { config: op('list the trigger types'), schema: { response: { 200: typesReply } } },
    async () => ({ types: TRIGGER_TYPES }),
  );
  app.get(
    '/api/automation/actions/types',
    { config: op('list the action types'), schema: { response: { 200: typesReply } } },
    async () => ({ types: ACTION_TYPES }),
  );

  app.post(
    '/api/automation/',
    {
      config: op('create a rule', true),
      schema: { body: ruleBody, response: { 201: ruleReply, 400: errorSchema, 409: errorSchema } },
    },
    async (req, reply) => {
      const rule = o.rules.add(check(req.body), actor(req));
      o.engine.wake();
      return reply.code(201).send(withStates(rule));
    },
  );

  app.post(
    '/api/automation/dry-run',
    { config: op('dry-run a rule'), schema: { body: ruleBody, response: { 200: looseObject, 400: errorSchema } } },
    async (req) => {
      const input = check(req.body);
      const rule: Rule = {
        id: 0,
        createdAt: '',
        updatedAt: '',
        updatedBy: null,
        ...input,
        conditions: input.conditions ?? {},
        undoAction: input.undoAction ?? null,
      } as Rule;
      return dryRun(rule, { engine: o.engine, rules: o.rules, miners: o.miners, prices: o.prices, now: now() });
    },
  );

  app.post(
    '/api/automation/evaluate',
    { config: op('evaluate the rules now', true), schema: { response: { 200: looseObject } } },
    async () => o.engine.evaluate(),
  );

  app.get<{ Params: { id: number } }>(
    '/api/automation/:id',
    { config: op('read a rule'), schema: { params: idParams, response: { 200: ruleReply, 404: errorSchema } } },
    async (req) => withStates(mustGet(req.params.id)),
  );

  app.put<{ Params: { id: number } }>(
    '/api/automation/:id',
    {
      config: op('edit a rule', true),
      schema: {
        params: idParams,
        body: ruleBody,
        response: { 200: ruleReply, 400: errorSchema, 404: errorSchema, 409: errorSchema },
      },
    },
    async (req) => {
      mustGet(req.params.id);
      const rule = o.rules.update(req.params.id, check(req.body), actor(req));
      o.engine.wake();
      return withStates(rule);
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/api/automation/:id',
    {
      config: op('delete a rule', true),
      schema: { params: idParams, response: { 204: { type: 'null' }, 404: errorSchema } },
    },
    async (req, reply) => {
      mustGet(req.params.id);
      await o.engine.retire(req.params.id);
      o.rules.remove(req.params.id);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: number } }>(
    '/api/automation/:id/dry-run',
    { config: op('dry-run a rule'), schema: { params: idParams, response: { 200: looseObject, 404: errorSchema } } },
    async (req) =>
      dryRun(mustGet(req.params.id), {
        engine: o.engine,
        rules: o.rules,
        miners: o.miners,
        prices: o.prices,
        now: now(),
      }),
  );
};
