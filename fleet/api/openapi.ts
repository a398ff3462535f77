// The fleet's HTTP API, described once: served at /openapi.json; its request schemas validate
// every body and query (unknown fields refused, not dropped); the tests check responses against it.
// Paths follow the miner-controller seed (/api/miners/, /api/pools/, /api/dashboard/...).
import { DRIVER_KINDS } from '../../runner/drivers/types.js';
import { MVM_VERSION } from '../../shared/paths.js';

const str = { type: 'string' } as const;
const nullableStr = { type: ['string', 'null'] } as const;
const num = { type: ['number', 'null'] } as const;
const time = { type: ['string', 'null'], format: 'date-time' } as const;
const strings = { type: 'array', items: str } as const;
const obj = { type: 'object' } as const;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const id = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  description: 'letters, digits and . _ - (up to 64)',
} as const;
const stat = {
  type: ['object', 'null'],
  required: ['min', 'mean', 'max'],
  properties: { min: { type: 'number' }, mean: { type: 'number' }, max: { type: 'number' } },
} as const;

const minerFields = {
  driver: { enum: DRIVER_KINDS.filter((k) => k !== 'command'), description: 'the command driver is for testbeds only' },
  address: { type: 'string', minLength: 1, maxLength: 500 },
  options: { type: 'object', description: 'driver options, as a testbed device has them' },
  model: { type: 'string', maxLength: 200 },
  expectedHashrateGhs: { type: 'number', minimum: 0 },
  location: { type: 'string', maxLength: 200 },
  tags: { type: 'array', maxItems: 32, items: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$' } },
  pollIntervalMs: { type: 'integer', minimum: 1000, maximum: 86_400_000 },
  hardware: { type: 'string', maxLength: 64 },
} as const;

const poolFields = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  url: {
    type: 'string',
    minLength: 1,
    maxLength: 500,
    description: 'stratum+tcp://host or stratum+ssl://host (a port in the URL is allowed when port matches)',
  },
  port: { type: 'integer', minimum: 1, maximum: 65535 },
  user: { type: 'string', minLength: 1, maxLength: 500 },
  password: { type: ['string', 'null'], maxLength: 500, description: 'stored; never returned' },
  tls: { type: 'boolean' },
} as const;

const telemetry = {
  type: ['object', 'null'],
  description: "the runner's normalised telemetry (raw left out)",
  properties: {
    at: str,
    online: { type: 'boolean' },
    hashrateGhs: num,
    expectedHashrateGhs: num,
    powerW: num,
    efficiencyJth: num,
    temperatures: obj,
    fans: { type: 'array' },
    sharesAccepted: num,
    sharesRejected: num,
    uptimeS: num,
    firmwareVersion: nullableStr,
    paused: { type: ['boolean', 'null'] },
  },
} as const;

const observed = {
  type: 'object',
  required: ['readable', 'same', 'current'],
  properties: { readable: { type: 'boolean' }, same: { type: ['boolean', 'null'] }, current: nullableStr },
} as const;

export const schemas = {
  Error: {
    type: 'object',
    required: ['message', 'error_code', 'request_id'],
    properties: { message: str, hint: str, error_code: str, request_id: str, field: str },
  },
  Whoami: {
    type: 'object',
    required: ['name', 'role'],
    additionalProperties: false,
    properties: { name: str, role: { enum: ['admin', 'read'] } },
  },
  Health: { type: 'object', required: ['status', 'lifecycle'], properties: { status: str, lifecycle: str } },
  Miner: {
    type: 'object',
    required: [
      'id',
      'driver',
      'address',
      'options',
      'tags',
      'source',
      'readOnly',
      'status',
      'missed',
      'lastSeenAt',
      'last',
      'lastError',
      'desired',
      'createdAt',
      'updatedAt',
    ],
    properties: {
      id: str,
      ...minerFields,
      model: nullableStr,
      location: nullableStr,
      hardware: nullableStr,
      testbed: {
        type: ['string', 'null'],
        description: 'the testbed the device belongs to: NAME in the lab "default", NAME@LAB in another',
      },
      lab: { type: ['string', 'null'], description: 'the factory (lab) that owns the testbed' },
      expectedHashrateGhs: num,
      pollIntervalMs: { type: ['integer', 'null'] },
      source: { enum: ['config', 'testbed', 'api'] },
      readOnly: { type: 'boolean', description: 'defined in the config: edit it there and send SIGHUP' },
      status: { enum: ['unknown', 'online', 'offline'] },
      missed: { type: 'integer' },
      lastSeenAt: time,
      last: telemetry,
      lastError: nullableStr,
      desired: { type: ['object', 'null'] },
      createdAt: str,
      updatedAt: str,
    },
  },
  NewMiner: {
    type: 'object',
    required: ['id', 'driver', 'address'],
    additionalProperties: false,
    properties: { id, ...minerFields },
  },
  MinerPatch: { type: 'object', additionalProperties: false, minProperties: 1, properties: minerFields },
  Telemetry: {
    type: 'object',
    required: ['miner', 'status', 'telemetry'],
    properties: { miner: str, status: str, lastSeenAt: time, lastError: nullableStr, telemetry },
  },
  History: {
    type: 'object',
    required: ['minerId', 'resolution', 'stepMs', 'points'],
    properties: {
      minerId: str,
      resolution: { enum: ['raw', 'minute', 'hour'] },
      stepMs: { type: 'integer' },
      points: {
        type: 'array',
        items: {
          type: 'object',
          required: ['t', 'n'],
          properties: {
            t: { type: 'number' },
            n: { type: 'integer' },
            hashrateGhs: stat,
            powerW: stat,
            efficiencyJth: stat,
            temperatures: obj,
            fanRpm: stat,
            fanPercent: stat,
          },
        },
      },
    },
  },
  Modes: {
    type: 'object',
    required: ['miner', 'driver', 'modes', 'aliases', 'desired'],
    properties: { miner: str, driver: str, modes: strings, aliases: obj, desired: nullableStr },
  },
  ModeBody: {
    type: 'object',
    required: ['mode'],
    additionalProperties: false,
    properties: { mode: { type: 'string', minLength: 1, maxLength: 32 } },
  },
  RestartBody: {
    type: 'object',
    additionalProperties: false,
    properties: {
      timeout: {
        anyOf: [
          { type: 'string', minLength: 1, maxLength: 16 },
          { type: 'number', minimum: 1 },
        ],
        description: 'how long to wait for the miner to answer again: "2m", or seconds',
      },
    },
  },
  EmptyBody: { type: 'object', additionalProperties: false, properties: {} },
  SettingsBody: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      fan: { type: 'integer', description: 'percent, automatic control off' },
      frequency: { type: 'integer', description: 'MHz' },
      voltage: { type: 'integer', description: 'core mV' },
    },
  },
  SwitchBody: {
    type: 'object',
    required: ['index'],
    additionalProperties: false,
    properties: { index: { type: 'integer', minimum: 0, maximum: 7 } },
  },
  PrioritiseBody: { type: 'object', required: ['pool'], additionalProperties: false, properties: { pool: id } },
  AssignBody: {
    type: 'object',
    required: ['pools'],
    additionalProperties: false,
    properties: {
      pools: { type: 'array', minItems: 1, maxItems: 8, items: id },
      apply: { type: 'boolean', description: 'apply to the device now (default true for a miner)' },
    },
  },
  ActionResult: {
    type: 'object',
    required: ['miner', 'action', 'message', 'needsRestart', 'readBack', 'drift', 'testbed', 'event'],
    properties: {
      miner: str,
      action: str,
      message: str,
      needsRestart: { type: 'boolean' },
      readBack: { type: ['object', 'null'], properties: { mode: observed, pools: observed } },
      drift: { type: 'boolean' },
      testbed: nullableStr,
      event: ref('Event'),
    },
  },
  Verify: {
    type: 'object',
    required: ['miner', 'readBack', 'drift'],
    properties: {
      miner: str,
      readBack: { type: 'object', properties: { mode: observed, pools: observed } },
      drift: { type: 'boolean' },
      event: { oneOf: [ref('Event'), { type: 'null' }] },
    },
  },
  Pool: {
    type: 'object',
    required: ['id', 'name', 'url', 'port', 'user', 'tls', 'passwordSet'],
    additionalProperties: false,
    properties: {
      id: str,
      name: str,
      url: str,
      port: { type: 'integer' },
      user: str,
      tls: { type: 'boolean' },
      passwordSet: { type: 'boolean' },
    },
  },
  NewPool: {
    type: 'object',
    required: ['name', 'url', 'port', 'user'],
    additionalProperties: false,
    properties: { id, ...poolFields },
  },
  PoolPatch: { type: 'object', additionalProperties: false, minProperties: 1, properties: poolFields },
  MinerPools: {
    type: 'object',
    required: ['miner', 'pools', 'from', 'desired'],
    properties: {
      miner: str,
      pools: { type: ['array', 'null'], items: ref('Pool') },
      from: { type: ['string', 'null'], description: '"miner", "tag:NAME", or null' },
      desired: { type: ['array', 'null'], items: str },
    },
  },
  Assignment: {
    type: 'object',
    required: ['scope', 'pools'],
    properties: {
      scope: obj,
      pools: strings,
      applied: {
        type: 'array',
        description: 'with apply=true: each miner with the tag',
        items: {
          type: 'object',
          required: ['miner', 'ok', 'message'],
          properties: { miner: str, ok: { type: 'boolean' }, message: str },
        },
      },
    },
  },
  Stats: {
    type: 'object',
    required: [
      'miners',
      'online',
      'offline',
      'unknown',
      'hashrateGhs',
      'expectedHashrateGhs',
      'powerW',
      'efficiencyJth',
      'at',
    ],
    properties: {
      miners: { type: 'integer' },
      online: { type: 'integer' },
      offline: { type: 'integer' },
      unknown: { type: 'integer' },
      hashrateGhs: { type: 'number' },
      expectedHashrateGhs: { type: 'number' },
      powerW: { type: 'number' },
      efficiencyJth: num,
      at: str,
    },
  },
  Event: {
    type: 'object',
    required: ['id', 'at', 'minerId', 'kind', 'level', 'message', 'actor', 'data'],
    properties: {
      id: { type: 'integer' },
      at: str,
      minerId: nullableStr,
      kind: str,
      level: { enum: ['info', 'warn', 'error'] },
      message: str,
      actor: nullableStr,
      data: { type: ['object', 'null'] },
    },
  },
  TokenBody: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: { name: id, role: { enum: ['admin', 'read'], description: 'default read' } },
  },
  TokenCreated: {
    type: 'object',
    required: ['name', 'role', 'token'],
    properties: { name: str, role: str, token: str },
  },
  Token: {
    type: 'object',
    required: ['name', 'role', 'createdAt'],
    properties: { name: str, role: str, createdAt: str },
  },
  Deleted: { type: 'object', required: ['deleted'], properties: { deleted: str } },
} as const;

export type SchemaName = keyof typeof schemas;
type ListOf = `${SchemaName}[]`;

export interface Op {
  summary: string;
  /** Changes something: admin tokens only (read-only tokens get 403). */
  write?: boolean;
  body?: SchemaName;
  query?: Record<string, object>;
  ok: number;
  response: SchemaName | ListOf | 'stream';
  errors?: number[];
}

const action = (summary: string, body: SchemaName = 'EmptyBody'): Op => ({
  summary,
  write: true,
  body,
  ok: 200,
  response: 'ActionResult',
  errors: [400, 403, 404, 409, 422, 502, 503],
});
const at = {
  anyOf: [{ type: 'string', minLength: 1, maxLength: 40 }, { type: 'number' }],
  description: 'ISO time, ms since epoch, or a duration back from now ("24h")',
};

/** The operations: path → method → what it takes and answers. The routes are built from this. */
export const operations: Record<string, Record<string, Op>> = {
  '/api/whoami': { get: { summary: 'who the token belongs to', ok: 200, response: 'Whoami' } },
  '/api/miners/': {
    get: {
      summary: 'every miner with its live state',
      query: { tag: str, status: { enum: ['unknown', 'online', 'offline'] } },
      ok: 200,
      response: 'Miner[]',
    },
    post: {
      summary: 'add a miner (stored in the database; config miners live in the config)',
      write: true,
      body: 'NewMiner',
      ok: 201,
      response: 'Miner',
      errors: [400, 403, 409],
    },
  },
  '/api/miners/{id}': {
    get: { summary: 'one miner', ok: 200, response: 'Miner', errors: [404] },
    put: {
      summary: 'edit a miner added through the API (config miners: 409)',
      write: true,
      body: 'MinerPatch',
      ok: 200,
      response: 'Miner',
      errors: [400, 403, 404, 409],
    },
    delete: {
      summary: 'remove a miner added through the API (config miners: 409)',
      write: true,
      ok: 200,
      response: 'Deleted',
      errors: [403, 404, 409],
    },
  },
  '/api/miners/{id}/telemetry': {
    get: {
      summary: 'the latest reading (refresh=true reads the miner now)',
      query: { refresh: { type: 'boolean' } },
      ok: 200,
      response: 'Telemetry',
      errors: [404, 502, 503],
    },
  },
  '/api/miners/{id}/history': {
    get: {
      summary: 'history at the resolution the range and step call for',
      query: { from: at, to: at, step: at },
      ok: 200,
      response: 'History',
      errors: [400, 404],
    },
  },
  '/api/miners/{id}/modes': {
    get: { summary: "the miner's modes and the one the fleet wants", ok: 200, response: 'Modes', errors: [404] },
  },
  '/api/miners/{id}/mode': { post: action('set the mode, then read it back', 'ModeBody') },
  '/api/miners/{id}/restart': { post: action('restart and wait until the miner answers again', 'RestartBody') },
  '/api/miners/{id}/pause': { post: action('stop hashing') },
  '/api/miners/{id}/resume': { post: action('hash again') },
  '/api/miners/{id}/settings': {
    post: action("fan, frequency and voltage, within the board's limits", 'SettingsBody'),
  },
  '/api/miners/{id}/verify': {
    post: {
      summary: 'read back mode and pools and record drift',
      write: true,
      body: 'EmptyBody',
      ok: 200,
      response: 'Verify',
      errors: [404, 502, 503],
    },
  },
  '/api/miners/{id}/pools': {
    get: {
      summary: "the miner's pools in priority order and where they come from",
      ok: 200,
      response: 'MinerPools',
      errors: [404],
    },
    put: {
      ...action('assign an ordered pool list to the miner and apply it (apply=false: only assign)', 'AssignBody'),
      response: 'ActionResult',
    },
    delete: {
      summary: "clear the miner's own pool list (its tags' apply again)",
      write: true,
      ok: 200,
      response: 'MinerPools',
      errors: [403, 404],
    },
  },
  '/api/miners/{id}/pools/apply': { post: action('apply the assigned pools, then read them back') },
  '/api/miners/{id}/pools/switch': {
    post: action('mine on the pool at this index of the device list now', 'SwitchBody'),
  },
  '/api/miners/{id}/pools/prioritise': { post: action('make a pool of the list the active one', 'PrioritiseBody') },
  '/api/tags/{tag}/pools': {
    put: {
      summary: 'assign an ordered pool list to every miner with the tag (apply=true: and apply it to each)',
      write: true,
      body: 'AssignBody',
      ok: 200,
      response: 'Assignment',
      errors: [400, 403, 404],
    },
    delete: { summary: "clear a tag's pool list", write: true, ok: 200, response: 'Deleted', errors: [403] },
  },
  '/api/pools/': {
    get: { summary: 'the pool catalogue (passwords never shown)', ok: 200, response: 'Pool[]' },
    post: { summary: 'add a pool', write: true, body: 'NewPool', ok: 201, response: 'Pool', errors: [400, 403, 409] },
  },
  '/api/pools/assignments': {
    get: { summary: 'every pool list, per miner and per tag', ok: 200, response: 'Assignment[]' },
  },
  '/api/pools/{id}': {
    put: { summary: 'edit a pool', write: true, body: 'PoolPatch', ok: 200, response: 'Pool', errors: [400, 403, 404] },
    delete: {
      summary: 'remove a pool (refused while a list uses it)',
      write: true,
      ok: 200,
      response: 'Deleted',
      errors: [403, 404, 409],
    },
  },
  '/api/dashboard/stats': {
    get: { summary: 'fleet hashrate, power, efficiency, online count', ok: 200, response: 'Stats' },
  },
  '/api/dashboard/events/recent': {
    get: {
      summary: 'recent events, newest first',
      query: {
        limit: { type: 'integer', minimum: 1, maximum: 1000 },
        miner: str,
        kind: { anyOf: [str, strings] },
        before: { type: 'integer', minimum: 1 },
      },
      ok: 200,
      response: 'Event[]',
    },
  },
  '/api/events/stream': {
    get: {
      summary: 'server-sent events: reading, status, event (miner= filters)',
      query: { miner: str },
      ok: 200,
      response: 'stream',
    },
  },
  '/api/tokens': {
    get: { summary: 'API tokens (names and roles)', write: true, ok: 200, response: 'Token[]', errors: [403] },
    post: {
      summary: 'make a token (role read: GET only); shown once',
      write: true,
      body: 'TokenBody',
      ok: 201,
      response: 'TokenCreated',
      errors: [400, 403, 409],
    },
  },
  '/api/tokens/{name}': {
    delete: { summary: 'revoke a token', write: true, ok: 200, response: 'Deleted', errors: [403, 404] },
  },
};

export function responseSchema(r: Op['response']): object {
  if (r === 'stream') return { type: 'string' };
  return r.endsWith('[]') ? { type: 'array', items: ref(r.slice(0, -2)) } : ref(r);
}

/** The OpenAPI 3.1 document. */
/** Paths of routes registered by plugins (energy, automation), described from their fastify schemas. */
export type ExtraPaths = Record<string, Record<string, object>>;

export function openApiDocument(extra: ExtraPaths = {}): object {
  const paths: Record<string, Record<string, object>> = {
    '/healthz': {
      get: {
        summary: 'liveness, no token',
        operationId: 'getHealthz',
        security: [],
        responses: { 200: { description: 'ok', content: { 'application/json': { schema: ref('Health') } } } },
      },
    },
  };
  for (const [path, methods] of Object.entries(operations)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(methods)) {
      const params = [
        ...[...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: str })),
        ...Object.entries(op.query ?? {}).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
      ];
      const codes = [
        ...new Set([...(op.body || op.query ? [400] : []), 401, ...(op.write ? [403] : []), ...(op.errors ?? [])]),
      ].sort();
      paths[path][method] = {
        summary: op.summary,
        operationId: `${method}${path
          .replace(/\{(\w+)\}/g, 'By_$1')
          .replace(/[^A-Za-z]+(.)/g, (_, c: string) => c.toUpperCase())
          .replace(/[^A-Za-z]/g, '')}`,
        security: [{ bearer: [] }],
        ...(params.length ? { parameters: params } : {}),
        ...(op.body
          ? {
              requestBody: {
                required: op.body !== 'EmptyBody' && op.body !== 'RestartBody',
                content: { 'application/json': { schema: ref(op.body) } },
              },
            }
          : {}),
        responses: {
          [String(op.ok)]: {
            description: 'ok',
            content:
              op.response === 'stream'
                ? { 'text/event-stream': { schema: responseSchema('stream') } }
                : { 'application/json': { schema: responseSchema(op.response) } },
          },
          ...Object.fromEntries(
            codes.map((c) => [
              String(c),
              {
                description:
                  c === 401
                    ? 'no token, or a token this API does not know'
                    : c === 403
                      ? 'a read-only token, or a change the fleet refuses'
                      : 'refused',
                content: { 'application/json': { schema: ref('Error') } },
              },
            ]),
          ),
        },
      };
    }
  }
  for (const [path, methods] of Object.entries(extra)) paths[path] = { ...paths[path], ...methods };
  return {
    openapi: '3.1.0',
    info: {
      title: 'mvm fleet API',
      version: MVM_VERSION,
      description: 'Miners, telemetry, history, modes, pools and events of one mvm fleet controller.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas },
    security: [{ bearer: [] }],
    paths,
  };
}
