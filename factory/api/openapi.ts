// The factory's HTTP API, described once: served at /openapi.json, its request schemas validate
// every body and query (fastify/ajv), and the tests check every response against it.
import { MVM_VERSION } from '../../shared/paths.js';

const str = { type: 'string' } as const;
const time = { type: ['string', 'null'], format: 'date-time' } as const;
const nullableStr = { type: ['string', 'null'] } as const;
const strings = { type: 'array', items: str } as const;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const ttl = {
  anyOf: [
    { type: 'string', minLength: 1, maxLength: 32 },
    { type: 'number', minimum: 0 },
  ],
  description: 'a duration: "30m", "2h", "1d", or seconds',
};

export const schemas = {
  Error: {
    type: 'object',
    required: ['message', 'error_code', 'request_id'],
    properties: { message: str, hint: str, error_code: str, request_id: str },
  },
  Whoami: {
    type: 'object',
    required: ['name', 'admin'],
    additionalProperties: false,
    properties: { name: str, admin: { type: 'boolean' } },
  },
  Blocker: {
    type: 'object',
    required: ['kind', 'message'],
    additionalProperties: false,
    properties: {
      kind: {
        enum: [
          'unconfigured',
          'disabled',
          'retired',
          'maintenance',
          'bad',
          'unhealthy',
          'busy',
          'reserved',
          'checking',
          'restoring',
          'unavailable',
          'not-serving',
        ],
      },
      message: str,
      until: time,
    },
  },
  Lock: {
    type: 'object',
    required: ['kind', 'owner', 'reason', 'acquired_at', 'expires_at'],
    additionalProperties: false,
    properties: {
      kind: { enum: ['job', 'reservation', 'check', 'restore'] },
      owner: str,
      reason: nullableStr,
      acquired_at: time,
      expires_at: time,
    },
  },
  Device: {
    type: 'object',
    required: ['testbed', 'name', 'driver', 'hardware', 'software', 'address', 'attributes'],
    additionalProperties: false,
    properties: {
      testbed: str,
      name: str,
      driver: { enum: ['axeos', 'cgminer', 'nmminer', 'command'] },
      hardware: nullableStr,
      software: nullableStr,
      address: nullableStr,
      attributes: strings,
    },
  },
  Testbed: {
    type: 'object',
    required: [
      'name',
      'description',
      'enabled',
      'configured',
      'targets',
      'state',
      'free',
      'health',
      'health_reason',
      'health_changed_at',
      'check_failures',
      'last_check_at',
      'next_check_at',
      'unavailable',
      'blockers',
      'lock',
      'instance',
      'devices',
      'agent',
    ],
    additionalProperties: false,
    properties: {
      name: str,
      description: nullableStr,
      enabled: { type: 'boolean' },
      configured: { type: 'boolean' },
      targets: strings,
      state: { type: 'string', description: '"free", or the kind of the first blocker' },
      free: { type: 'boolean' },
      health: { enum: ['unknown', 'checking', 'good', 'bad', 'maintenance', 'retired'] },
      health_reason: nullableStr,
      health_changed_at: time,
      check_failures: { type: 'integer' },
      last_check_at: time,
      next_check_at: time,
      unavailable: nullableStr,
      blockers: { type: 'array', items: ref('Blocker') },
      lock: { oneOf: [ref('Lock'), { type: 'null' }] },
      instance: {
        oneOf: [
          { type: 'null' },
          {
            type: 'object',
            required: ['id', 'job', 'state', 'worker', 'created_at'],
            additionalProperties: false,
            properties: {
              id: str,
              job: nullableStr,
              state: { enum: ['created', 'running', 'destroying'] },
              worker: str,
              created_at: time,
            },
          },
        ],
      },
      devices: { type: 'array', items: ref('Device') },
      agent: {
        type: 'object',
        required: ['mode'],
        additionalProperties: false,
        properties: { mode: { enum: ['local', 'ssh'] }, host: str },
      },
    },
  },
  Reservation: {
    type: 'object',
    required: ['testbed', 'owner', 'reason', 'acquired_at', 'renewed_at', 'expires_at'],
    additionalProperties: false,
    properties: {
      testbed: str,
      owner: str,
      reason: nullableStr,
      acquired_at: time,
      renewed_at: time,
      expires_at: time,
      restore_on_release: {
        type: 'boolean',
        description: 'the baseline is restored when the reservation ends (false: an admin said no)',
      },
      credential: {
        type: 'string',
        description:
          'only in the answer to reserve and renew: the holder presents it to `mvm runner` (MVM_LOCK_CREDENTIAL) to act on the reserved devices',
      },
    },
  },
  History: {
    type: 'object',
    required: ['events', 'instances'],
    additionalProperties: false,
    properties: {
      events: {
        type: 'array',
        items: {
          type: 'object',
          required: ['at', 'kind', 'message', 'instance'],
          additionalProperties: false,
          properties: { at: time, kind: str, message: str, instance: nullableStr },
        },
      },
      instances: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'seq', 'job', 'state', 'created_at', 'destroyed_at', 'reason', 'failure', 'restore_outcome'],
          additionalProperties: false,
          properties: {
            id: str,
            seq: { type: 'integer' },
            job: nullableStr,
            state: str,
            created_at: time,
            destroyed_at: time,
            reason: nullableStr,
            failure: nullableStr,
            restore_outcome: nullableStr,
          },
        },
      },
    },
  },
  ReserveBody: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ttl,
      reason: { type: 'string', maxLength: 500 },
      owner: { type: 'string', minLength: 1, maxLength: 64, description: 'admins only: reserve for another user' },
      restore_on_release: {
        type: 'boolean',
        description:
          'admins only: false leaves the devices as they are when the reservation ends (a bench set up by hand); journalled',
      },
    },
  },
  RenewBody: {
    type: 'object',
    additionalProperties: false,
    properties: { ttl, reason: { type: 'string', maxLength: 500 } },
  },
  ReasonBody: {
    type: 'object',
    additionalProperties: false,
    properties: { reason: { type: 'string', maxLength: 500 } },
  },
  RequiredDevice: {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: { type: 'string', maxLength: 64 },
      hardware: { type: ['string', 'number'] },
      software: { type: ['string', 'number'] },
      attributes: { type: 'array', items: { type: 'string', maxLength: 200 }, maxItems: 64 },
      image: { type: 'string', maxLength: 1000 },
    },
  },
  RequirementBody: {
    type: 'object',
    required: ['devices'],
    additionalProperties: false,
    properties: { devices: { type: 'array', minItems: 1, maxItems: 32, items: ref('RequiredDevice') } },
  },
  RequirementTarget: {
    type: 'object',
    required: ['target', 'target_id', 'requirement', 'description', 'testbeds'],
    additionalProperties: false,
    properties: {
      target: str,
      target_id: str,
      requirement: {
        type: 'array',
        items: {
          type: 'object',
          required: ['attributes'],
          additionalProperties: false,
          properties: { hardware: str, attributes: strings },
        },
      },
      description: str,
      testbeds: strings,
    },
  },
  Unsatisfiable: {
    type: 'object',
    required: ['message', 'error_code', 'request_id', 'testbeds'],
    properties: {
      message: str,
      hint: str,
      error_code: str,
      request_id: str,
      testbeds: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'why'],
          additionalProperties: false,
          properties: { name: str, why: str },
        },
      },
    },
  },
  ExplainBody: {
    type: 'object',
    additionalProperties: false,
    properties: {
      target: { type: 'string', minLength: 1, maxLength: 128 },
      devices: { type: 'array', minItems: 1, maxItems: 32, items: ref('RequiredDevice') },
    },
  },
  Explanation: {
    type: 'object',
    required: ['target', 'served', 'summary', 'testbeds'],
    additionalProperties: false,
    properties: {
      target: str,
      served: { type: 'boolean', description: 'some testbed of this factory serves the target' },
      summary: str,
      testbeds: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'serves', 'free', 'reasons'],
          additionalProperties: false,
          properties: {
            name: str,
            serves: { type: 'boolean' },
            free: { type: 'boolean' },
            reasons: { type: 'array', items: ref('Blocker') },
          },
        },
      },
    },
  },
  UserBody: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, admin: { type: 'boolean' } },
  },
  UserCreated: {
    type: 'object',
    required: ['name', 'admin', 'token'],
    additionalProperties: false,
    properties: { name: str, admin: { type: 'boolean' }, token: str },
  },
  User: {
    type: 'object',
    required: ['name', 'admin', 'created_at'],
    additionalProperties: false,
    properties: { name: str, admin: { type: 'boolean' }, created_at: time },
  },
} as const;

type Op = {
  summary: string;
  admin?: boolean;
  body?: keyof typeof schemas;
  query?: Record<string, unknown>;
  ok: number;
  response: keyof typeof schemas | 'TestbedList' | 'DeviceList' | 'ReservationList' | 'UserList';
  errors?: number[];
};

const filters = {
  hardware: str,
  software: str,
  attribute: { anyOf: [str, strings] },
  driver: str,
  target: str,
  state: str,
  health: str,
  free: { type: 'boolean' },
};

/** The operations: path → method → what it takes and answers. The routes are built from this. */
export const operations: Record<string, Record<string, Op>> = {
  '/v1/whoami': { get: { summary: 'who the token belongs to', ok: 200, response: 'Whoami' } },
  '/v1/testbeds': {
    get: {
      summary: 'list and search testbeds (filters combine; attribute may repeat)',
      query: filters,
      ok: 200,
      response: 'TestbedList',
    },
  },
  '/v1/testbeds/{name}': { get: { summary: 'one testbed', ok: 200, response: 'Testbed', errors: [404] } },
  '/v1/testbeds/{name}/history': {
    get: {
      summary: 'recent journal entries and instances of a testbed',
      query: { limit: { type: 'integer', minimum: 1, maximum: 1000 } },
      ok: 200,
      response: 'History',
      errors: [404],
    },
  },
  '/v1/devices': { get: { summary: 'list and search devices', query: filters, ok: 200, response: 'DeviceList' } },
  '/v1/reservations': { get: { summary: 'current reservations', ok: 200, response: 'ReservationList' } },
  '/v1/testbeds/{name}/reservation': {
    post: {
      summary: 'reserve a testbed (owner: the token; admins may name another owner)',
      body: 'ReserveBody',
      ok: 201,
      response: 'Reservation',
      errors: [400, 403, 404, 409],
    },
    put: {
      summary: "renew the caller's reservation",
      body: 'RenewBody',
      ok: 200,
      response: 'Reservation',
      errors: [400, 403, 404],
    },
    delete: {
      summary: "release the caller's reservation (admins: ?force=true releases anyone's)",
      query: { force: { type: 'boolean' } },
      ok: 200,
      response: 'Reservation',
      errors: [403, 404],
    },
  },
  '/v1/testbeds/{name}/maintenance': {
    post: {
      summary: 'start maintenance (no jobs, no checks)',
      admin: true,
      body: 'ReasonBody',
      ok: 200,
      response: 'Testbed',
      errors: [403, 404, 409],
    },
    delete: {
      summary: 'end maintenance; a health check is due',
      admin: true,
      ok: 200,
      response: 'Testbed',
      errors: [403, 404, 409],
    },
  },
  '/v1/testbeds/{name}/decommission': {
    post: {
      summary: 'decommission (kept for history only)',
      admin: true,
      body: 'ReasonBody',
      ok: 200,
      response: 'Testbed',
      errors: [403, 404],
    },
  },
  '/v1/testbeds/{name}/recommission': {
    post: {
      summary: 'recommission; a health check is due',
      admin: true,
      ok: 200,
      response: 'Testbed',
      errors: [403, 404, 409],
    },
  },
  '/v1/testbeds/{name}/check': {
    post: {
      summary: 'run a health check now (also gives a bad testbed another chance)',
      body: 'ReasonBody',
      ok: 202,
      response: 'Testbed',
      errors: [404, 409],
    },
  },
  '/v1/requirements': {
    post: {
      summary:
        'the target for a device requirement, created on the job server if needed; 422 when no testbed can ever satisfy it',
      body: 'RequirementBody',
      ok: 200,
      response: 'RequirementTarget',
      errors: [400, 422, 503],
    },
  },
  '/v1/explain': {
    post: {
      summary: 'which testbeds serve a target (or requirement) and why each cannot take a job now',
      body: 'ExplainBody',
      ok: 200,
      response: 'Explanation',
      errors: [400],
    },
  },
  '/v1/users': {
    get: { summary: 'API users', admin: true, ok: 200, response: 'UserList', errors: [403] },
    post: {
      summary: 'create an API user; its token is shown once',
      admin: true,
      body: 'UserBody',
      ok: 201,
      response: 'UserCreated',
      errors: [400, 403, 409],
    },
  },
  '/v1/users/{name}': {
    delete: {
      summary: 'remove an API user: its token stops working at once (its reservations stay until released or expired)',
      admin: true,
      ok: 200,
      response: 'User',
      errors: [403, 404],
    },
  },
};

const LISTS: Record<string, string> = {
  TestbedList: 'Testbed',
  DeviceList: 'Device',
  ReservationList: 'Reservation',
  UserList: 'User',
};

export function responseSchema(name: string): object {
  return LISTS[name] ? { type: 'array', items: ref(LISTS[name]) } : ref(name);
}

/** The OpenAPI 3.1 document. */
export function openApiDocument(): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const [path, methods] of Object.entries(operations)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(methods)) {
      const params = [
        ...(path.includes('{name}') ? [{ name: 'name', in: 'path', required: true, schema: str }] : []),
        ...Object.entries(op.query ?? {}).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
      ];
      const errorResponses = Object.fromEntries(
        [...new Set([...(op.body || op.query ? [400] : []), 401, ...(op.admin ? [403] : []), ...(op.errors ?? [])])]
          .sort()
          .map((code) => [
            String(code),
            {
              description: code === 401 ? 'no token, or a token this API does not know' : 'refused',
              content: { 'application/json': { schema: ref(code === 422 ? 'Unsatisfiable' : 'Error') } },
            },
          ]),
      );
      paths[path][method] = {
        summary: op.summary,
        operationId: `${method}${path.replace(/\{name\}/g, 'ByName').replace(/[^A-Za-z]+(.)/g, (_, c: string) => c.toUpperCase())}`,
        security: [{ bearer: [] }],
        ...(params.length ? { parameters: params } : {}),
        ...(op.body
          ? { requestBody: { required: true, content: { 'application/json': { schema: ref(op.body) } } } }
          : {}),
        responses: {
          [String(op.ok)]: {
            description: 'ok',
            content: { 'application/json': { schema: responseSchema(op.response) } },
          },
          ...errorResponses,
        },
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'mvm factory API',
      version: MVM_VERSION,
      description: 'Testbeds, devices, reservations, health and device requirements of one mvm factory.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas },
    security: [{ bearer: [] }],
    paths,
  };
}
