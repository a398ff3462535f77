// The buildomat OpenAPI document as data, and validators for its operations' bodies.
// Used by conformance checks in tests and by the job server to answer bad bodies precisely.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { projectPath } from '../paths.js';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface SpecOperation {
  method: string;
  template: string;
  operationId: string;
  regex: RegExp;
  params: string[];
  requestSchema?: unknown;
  requestContentType?: string;
  responses: Record<string, { contentType?: string; schema?: unknown }>;
}

type Json = Record<string, unknown>;

export function loadSpec(): Json {
  return JSON.parse(readFileSync(projectPath('shared', 'api', 'buildomat-openapi.json'), 'utf8'));
}

/** OpenAPI 3.0 `nullable` → JSON Schema: `{anyOf: [{type: 'null'}, schema]}`. Applied recursively. */
function denullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(denullable);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k === 'nullable' || k.startsWith('x-')) continue;
    out[k] = denullable(v);
  }
  if ((node as Json).nullable === true) return { anyOf: [{ type: 'null' }, out] };
  return out;
}

function templateRegex(template: string): { regex: RegExp; params: string[] } {
  const params: string[] = [];
  const src = template
    .split('/')
    .map((part) => {
      const m = /^\{(\w+)\}$/.exec(part);
      if (m) {
        params.push(m[1]);
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${src}$`), params };
}

const FRACTION_Z = /^\.\d+Z$/;
const CANONICAL_DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/;

/**
 * An RFC 3339 date-time check made cheap for what big bodies carry: an agent's event times, a
 * thousand in a second. Once "YYYY-MM-DDTHH:MM:SS.<digits>Z" was valid, that second with any other
 * fraction is valid too (the date, hour and minute are the same; seconds stay below 60, or 61 for
 * a valid leap second), so only the fraction is checked; anything else goes to `validate`.
 */
export function sameSecondDateTime(validate: (s: string) => boolean): (s: string) => boolean {
  let second = '';
  return (s) => {
    if (second !== '' && s.length > 21 && s.startsWith(second) && FRACTION_Z.test(s.slice(19))) return true;
    const ok = validate(s);
    if (ok && CANONICAL_DATE_TIME.test(s)) second = s.slice(0, 19);
    return ok;
  };
}

export class SpecValidator {
  readonly spec: Json;
  readonly operations: SpecOperation[];
  private readonly ajv: Ajv;
  private readonly cache = new Map<unknown, ValidateFunction>();

  constructor(spec: Json = loadSpec()) {
    this.spec = spec;
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    const uint = (max: number) => ({
      type: 'number' as const,
      validate: (n: number) => Number.isInteger(n) && n >= 0 && n <= max,
    });
    this.ajv.addFormat('uint', uint(Number.MAX_SAFE_INTEGER));
    this.ajv.addFormat('uint32', uint(2 ** 32 - 1));
    this.ajv.addFormat('uint64', uint(Number.MAX_SAFE_INTEGER));
    this.ajv.addFormat('binary', true);
    const dateTime = this.ajv.formats['date-time'] as { validate: (s: string) => boolean; compare?: unknown };
    this.ajv.addFormat('date-time', { ...dateTime, validate: sameSecondDateTime(dateTime.validate) } as never);
    const components = denullable((spec as { components: unknown }).components);
    this.ajv.addSchema({ $id: 'buildomat', components } as object);
    this.operations = [];
    for (const [template, ops] of Object.entries(spec.paths as Record<string, Json>)) {
      const { regex, params } = templateRegex(template);
      for (const [method, opRaw] of Object.entries(ops)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        const op = opRaw as Json;
        const content = ((op.requestBody as Json | undefined)?.content ?? {}) as Record<string, Json>;
        const [reqType] = Object.keys(content);
        const responses: SpecOperation['responses'] = {};
        for (const [status, r] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
          const resolved = (r.$ref ? this.resolve(r.$ref as string) : r) as Json;
          const rc = (resolved.content ?? {}) as Record<string, Json>;
          const [ct] = Object.keys(rc);
          responses[status] = { contentType: ct, schema: ct ? denullable(rc[ct].schema) : undefined };
        }
        this.operations.push({
          method: method.toUpperCase(),
          template,
          operationId: op.operationId as string,
          regex,
          params,
          requestContentType: reqType,
          requestSchema: reqType ? denullable(content[reqType].schema) : undefined,
          responses,
        });
      }
    }
  }

  private resolve(ref: string): unknown {
    let node: unknown = this.spec;
    for (const part of ref.replace(/^#\//, '').split('/')) node = (node as Json)[part];
    return node;
  }

  /** Finds the operation for a method and a concrete path (query string ignored). */
  find(method: string, path: string): SpecOperation | undefined {
    const p = path.split('?')[0];
    // Literal segments beat parameters: try templates with fewer parameters first.
    const candidates = this.operations
      .filter((o) => o.method === method.toUpperCase() && o.regex.test(p))
      .sort((a, b) => a.params.length - b.params.length);
    return candidates[0];
  }

  private validator(schema: unknown): ValidateFunction {
    let v = this.cache.get(schema);
    if (!v) {
      const rewritten = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"buildomat#/components/'));
      v = this.ajv.compile(rewritten);
      this.cache.set(schema, v);
    }
    return v;
  }

  /** Validates `value` against the named component schema; returns error strings (empty when valid). */
  validateSchema(name: string, value: unknown): string[] {
    return this.check({ $ref: `#/components/schemas/${name}` }, value);
  }

  check(schema: unknown, value: unknown): string[] {
    const v = this.validator(schema);
    return v(value) ? [] : formatErrors(v.errors ?? []);
  }

  /** Problems with a request body for `method path`; `undefined` body means none was sent. */
  validateRequest(method: string, path: string, contentType: string | undefined, body: unknown): string[] {
    const op = this.find(method, path);
    if (!op) return [`${method} ${path}: no such operation in the buildomat spec`];
    if (!op.requestContentType) return [];
    if (body === undefined) return [`${op.operationId}: request body required (${op.requestContentType})`];
    const ct = (contentType ?? '').split(';')[0].trim();
    if (ct !== op.requestContentType) {
      return [`${op.operationId}: request content-type ${ct || '(none)'}, spec says ${op.requestContentType}`];
    }
    if (op.requestContentType !== 'application/json') return [];
    return this.check(op.requestSchema, body).map((e) => `${op.operationId} request: ${e}`);
  }

  /** Problems with a response; `body` is parsed JSON when the response was JSON. */
  validateResponse(
    method: string,
    path: string,
    status: number,
    contentType: string | undefined,
    body: unknown,
  ): string[] {
    const op = this.find(method, path);
    if (!op) return [`${method} ${path}: no such operation in the buildomat spec`];
    const key = op.responses[String(status)]
      ? String(status)
      : op.responses[`${String(status)[0]}XX`]
        ? `${String(status)[0]}XX`
        : op.responses.default
          ? 'default'
          : undefined;
    if (!key) {
      return [`${op.operationId}: status ${status} not in the spec (${Object.keys(op.responses).join(', ')})`];
    }
    const r = op.responses[key];
    if (!r.contentType) {
      return body === undefined || body === '' ? [] : [`${op.operationId}: status ${status} must have no body`];
    }
    if (r.contentType !== 'application/json') return [];
    const ct = (contentType ?? '').split(';')[0].trim();
    if (ct !== 'application/json')
      return [`${op.operationId}: status ${status} content-type ${ct || '(none)'}, spec says application/json`];
    return this.check(r.schema, body).map((e) => `${op.operationId} ${status} response: ${e}`);
  }
}

function formatErrors(errors: ErrorObject[]): string[] {
  return errors.map((e) =>
    `${e.instancePath || '(body)'} ${e.message ?? ''}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`.trim(),
  );
}
