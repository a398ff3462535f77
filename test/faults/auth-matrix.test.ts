// Security: every operation of the buildomat API (shared/api/buildomat-openapi.json) that the
// server implements refuses a request without a token, with a token it does not know, and with a
// token of the wrong kind — 401, as buildomat answers (a user without the admin privilege on an
// admin endpoint: 403) — and takes the right kind. Each request carries a body valid for the
// operation, so the answer is about the token and not about the body. A static check makes sure
// no server route escapes the matrix (every route is a spec operation).
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { specValidator } from '../helpers/conformance-proxy.js';
import { startScriptedWorker, startServer } from '../helpers/server.js';
import { newId, newToken } from '../../shared/ids.js';
import { projectPath } from '../../shared/paths.js';

type Json = Record<string, unknown>;
type Kind = 'admin' | 'user' | 'factory' | 'worker';

const spec = specValidator().spec as {
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json> };
};

/** A minimal value that the schema accepts (required properties only). */
function sample(schema: Json | undefined): unknown {
  if (!schema) return undefined;
  if (typeof schema.$ref === 'string') return sample(spec.components.schemas[schema.$ref.split('/').pop()!]);
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) {
    const alts = schema[k] as Json[] | undefined;
    if (alts) return sample(alts.find((a) => a.type !== 'null') ?? alts[0]);
  }
  if (Array.isArray(schema.enum)) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Json>;
      return Object.fromEntries(((schema.required ?? []) as string[]).map((k) => [k, sample(props[k])]));
    }
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 0;
    case 'boolean':
      return false;
    case 'string':
      return schema.format === 'date-time'
        ? new Date().toISOString()
        : 'x'.repeat(Math.max(1, Number(schema.minLength ?? 1)));
    default:
      return {};
  }
}

/** Which token an operation wants, by buildomat's path layout. */
function needs(template: string): Kind | 'none' {
  if (template === '/0/worker/bootstrap' || template.startsWith('/0/public/')) return 'none'; // the bootstrap string, or published files
  if (
    /^\/[01]\/(admin|users|control)(\/|$)/.test(template) ||
    template === '/0/workers' ||
    template === '/1/workers' ||
    template === '/0/workers/recycle'
  )
    return 'admin';
  if (template.startsWith('/0/factory/')) return 'factory';
  if (/^\/[01]\/worker\//.test(template)) return 'worker';
  return 'user';
}

function fill(template: string): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) =>
    name === 'task' ? '0' : name === 'privilege' ? 'admin' : newId(),
  );
}

t.test('every implemented operation refuses missing, unknown and wrong-kind tokens', async (t) => {
  const srv = await startServer(t);
  const target = await srv.createTarget('bitaxe');
  const tokens: Record<Kind, string> = {
    admin: srv.adminToken,
    user: await srv.createUser('alice'),
    factory: await srv.createFactory('lab'),
    worker: '',
  };
  tokens.worker = (await startScriptedWorker(srv, srv.client(tokens.factory), target)).token;

  const ops = Object.entries(spec.paths).flatMap(([template, methods]) =>
    Object.entries(methods)
      .filter(([m]) => ['get', 'post', 'put', 'patch', 'delete', 'head'].includes(m))
      .map(([m, op]) => {
        const content = ((op.requestBody as Json | undefined)?.content ?? {}) as Record<string, Json>;
        const [contentType] = Object.keys(content);
        return {
          method: m.toUpperCase(),
          template,
          id: op.operationId as string,
          contentType,
          schema: contentType ? (content[contentType].schema as Json) : undefined,
        };
      }),
  );
  const call = async (op: (typeof ops)[number], path: string, auth?: string) => {
    const headers: Record<string, string> = {};
    if (auth !== undefined) headers.authorization = `Bearer ${auth}`;
    let body: string | Buffer | undefined;
    if (op.contentType === 'application/json') {
      headers['content-type'] = op.contentType;
      body = JSON.stringify(sample(op.schema));
    } else if (op.contentType) {
      headers['content-type'] = op.contentType;
      body = Buffer.from('x');
    }
    const r = await request(srv.url + path, { method: op.method as 'GET', headers, body });
    const text = await r.body.text();
    return { status: r.statusCode, text };
  };

  const implemented: typeof ops = [];
  const missing: string[] = [];
  for (const op of ops) {
    const r = await call(op, fill(op.template));
    if (r.status === 404 && /no such endpoint/.test(r.text)) missing.push(`${op.method} ${op.template}`);
    else implemented.push(op);
  }
  t.comment(
    `${implemented.length} of ${ops.length} operations implemented; not implemented (404): ${missing.join(', ')}`,
  );
  t.ok(implemented.length >= 50, 'the matrix covers the implemented API');
  for (const op of implemented) {
    if (op.contentType === 'application/json') {
      t.same(
        specValidator().validateRequest(op.method, fill(op.template), op.contentType, sample(op.schema)),
        [],
        `${op.id}: the test's body is valid`,
      );
    }
  }

  // Wrong tokens first (no side effects), then the right ones.
  for (const op of implemented) {
    const kind = needs(op.template);
    const path = fill(op.template);
    const what = `${op.method} ${op.template}`;
    if (kind === 'none') {
      t.not((await call(op, path)).status, 500, `${what}: needs no token`);
      continue;
    }
    t.equal((await call(op, path)).status, 401, `${what}: no token → 401`);
    t.equal((await call(op, path, newToken())).status, 401, `${what}: unknown token → 401`);
    for (const other of Object.keys(tokens) as Kind[]) {
      if (other === kind) continue;
      const expected = kind === 'admin' && other === 'user' ? 403 : 401;
      t.equal((await call(op, path, tokens[other])).status, expected, `${what}: ${other} token → ${expected}`);
    }
  }
  // The worker's own failure report ends its token's life: keep it for last.
  const last = (op: (typeof ops)[number]) => (op.template === '/0/worker/fail' ? 1 : 0);
  for (const op of [...implemented].sort((a, b) => last(a) - last(b))) {
    const kind = needs(op.template);
    if (kind === 'none') continue;
    const r = await call(op, fill(op.template), tokens[kind]);
    t.ok(
      r.status !== 401 && r.status !== 403 && r.status < 500,
      `${op.method} ${op.template}: the ${kind} token is accepted (${r.status})`,
    );
  }
});

t.test('every route the server serves is a spec operation (nothing escapes the matrix)', async (t) => {
  const templates = new Set(
    Object.entries(spec.paths).flatMap(([p, ms]) => Object.keys(ms).map((m) => `${m.toUpperCase()} ${p}`)),
  );
  const dir = projectPath('server', 'routes');
  const routes: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(
      /\bapp\.(get|post|put|patch|delete)(?:<[^>]*>)?\(\s*'([^']+)'/g,
    )) {
      routes.push(`${m[1].toUpperCase()} ${m[2].replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  t.ok(routes.length >= 50, `${routes.length} routes found in server/routes`);
  // mvm additions beside the spec (doc/server.md), admin only: test/faults/revoke.test.ts checks them.
  const additions = new Set(['DELETE /0/users/{user}/token', 'POST /0/users/{user}/token']);
  t.same(
    routes.filter((r) => !templates.has(r) && !additions.has(r)),
    [],
    'no route outside the spec and the listed additions',
  );
});
