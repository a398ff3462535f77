// Every kind of bad input gets a 4xx with the spec's Error body and a message that says what was
// wrong — never a 500, never a partial write.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import type { ApiErrorBody, Job } from '../../shared/api/types.js';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { startScriptedWorker } from '../helpers/server.js';
import { startServerInProcess } from '../helpers/server-inprocess.js';

/** Violations about what the server answered (the requests here are wrong on purpose). */
const responseViolations = (v: string[]) =>
  v.filter((x) => / response:|status \d+ (not in the spec|must have no body|content-type)/.test(x));

const CHUNK_LIMIT = 64 * 1024;

t.test('bad input is refused with a clear 4xx', async (t) => {
  // The chunk limit is lowered from 10 MiB: an oversize chunk is refused the same way at any limit.
  const srv = await startServerInProcess(t, { config: { tickMs: 200, maxChunkBytes: CHUNK_LIMIT } });
  const proxy = await startConformanceProxy(srv.url);
  t.teardown(() => proxy.close());
  const target = await srv.createTarget('bitaxe');
  const userToken = await srv.createUser('dave');
  const factoryToken = await srv.createFactory('lab');

  async function call(
    method: string,
    path: string,
    token: string | undefined,
    body?: string | Buffer,
    contentType = 'application/json',
  ) {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = contentType;
    const r = await request(proxy.url + path, { method: method as 'GET', headers, body });
    const text = await r.body.text();
    return { status: r.statusCode, body: (text ? JSON.parse(text) : undefined) as ApiErrorBody };
  }
  async function refused(
    name: string,
    res: Promise<{ status: number; body: ApiErrorBody }>,
    status: number,
    message: RegExp,
  ) {
    const r = await res;
    t.equal(r.status, status, `${name}: status ${status}`);
    t.match(r.body, { message, request_id: String }, `${name}: ${message}`);
  }
  const job = (over: Record<string, unknown>) =>
    JSON.stringify({
      name: 'j',
      target: 'bitaxe',
      output_rules: [],
      tasks: [{ name: 't', script: 'true', env_clear: false, env: {} }],
      ...over,
    });

  await refused('malformed JSON', call('POST', '/0/jobs', userToken, '{"name": "j",'), 400, /malformed JSON body/);
  await refused(
    'empty JSON body',
    call('POST', '/0/jobs', userToken, ''),
    400,
    /malformed JSON body|request body required/,
  );
  await refused('no body', call('POST', '/0/jobs', userToken), 400, /request body required/);
  await refused(
    'missing field',
    call('POST', '/0/jobs', userToken, JSON.stringify({ name: 'j', target: 'bitaxe', output_rules: [] })),
    400,
    /must have required property 'tasks'/,
  );
  await refused(
    'unknown field',
    call('POST', '/0/jobs', userToken, job({ colour: 'red' })),
    400,
    /must NOT have additional properties \(colour\)/,
  );
  await refused(
    'unknown nested field',
    call(
      'POST',
      '/0/jobs',
      userToken,
      job({ tasks: [{ name: 't', script: 'x', env_clear: false, env: {}, shell: 'zsh' }] }),
    ),
    400,
    /\/tasks\/0 must NOT have additional properties \(shell\)/,
  );
  await refused(
    'wrong type',
    call('POST', '/0/jobs', userToken, job({ tasks: 'all of them' })),
    400,
    /\/tasks must be array/,
  );
  await refused(
    'unknown target',
    call('POST', '/0/jobs', userToken, job({ target: 'nosuch' })),
    400,
    /could not resolve target name "nosuch"/,
  );
  await refused(
    'relative output rule',
    call('POST', '/0/jobs', userToken, job({ output_rules: ['work/*'] })),
    400,
    /must be an absolute path/,
  );
  await refused(
    'input name traversal',
    call('POST', '/0/jobs', userToken, job({ inputs: ['../../etc/passwd'] })),
    400,
    /path traversal/,
  );
  await refused(
    'absolute input name',
    call('POST', '/0/jobs', userToken, job({ inputs: ['/etc/passwd'] })),
    400,
    /must be a relative path/,
  );
  await refused(
    'bad tag name',
    call('POST', '/0/jobs', userToken, job({ tags: { 'Bad Tag': 'x' } })),
    400,
    /tag names must be/,
  );
  await refused('no tasks', call('POST', '/0/jobs', userToken, job({ tasks: [] })), 400, /at least one task/);
  await refused(
    'wrong content type',
    call('POST', '/0/jobs', userToken, job({}), 'text/plain'),
    415,
    /unsupported content type/,
  );
  const listed = await srv.client(userToken).get<{ items: unknown[] }>('/1/jobs');
  t.equal(listed.items.length, 0, 'no refused submission left a job behind');

  await refused(
    'unknown route',
    call('GET', '/0/nothing/here', userToken),
    404,
    /no such endpoint: GET \/0\/nothing\/here/,
  );
  await refused(
    'unknown job id',
    call('GET', '/0/job/01ARZ3NDEKTSV4RRFFQ69G5FAV', userToken),
    404,
    /job "01ARZ3NDEKTSV4RRFFQ69G5FAV" not found/,
  );
  await refused(
    'malformed job id',
    call('GET', '/0/job/..%2F..%2Fetc', userToken),
    404,
    /not found \(ids are 26-character ULIDs\)/,
  );
  await refused(
    'bad minseq',
    call('GET', '/0/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/events?minseq=-1', userToken),
    400,
    /minseq/,
  );
  await refused(
    'duplicate target',
    call('POST', '/0/admin/target', srv.adminToken, JSON.stringify({ name: 'bitaxe', desc: 'again' })),
    409,
    /already exists/,
  );
  await refused(
    'bad target name',
    call('POST', '/0/admin/target', srv.adminToken, JSON.stringify({ name: '../x', desc: '' })),
    400,
    /target name/,
  );
  await refused(
    'redirect loop',
    call('PUT', `/0/admin/targets/${target}/redirect`, srv.adminToken, JSON.stringify({ redirect: target })),
    400,
    /redirect loop/,
  );

  // Inputs and chunks.
  const user = srv.client(userToken);
  const waiting = (await user.post<{ id: string }>('/0/jobs', JSON.parse(job({ inputs: ['fw.bin'] })))).id;
  const big = Buffer.alloc(CHUNK_LIMIT + 1, 1);
  await refused(
    'chunk over the limit',
    call('POST', `/0/jobs/${waiting}/chunk`, userToken, big, 'application/octet-stream'),
    413,
    new RegExp(`request body too large: chunks are at most ${CHUNK_LIMIT} bytes \\(got ${CHUNK_LIMIT + 1}\\)`),
  );
  await refused('chunk as JSON', call('POST', `/0/jobs/${waiting}/chunk`, userToken, '{}'), 415, /takes the raw bytes/);
  await refused(
    'empty chunk',
    call('POST', `/0/jobs/${waiting}/chunk`, userToken, Buffer.alloc(0), 'application/octet-stream'),
    400,
    /empty chunk|request body required/,
  );
  const chunkDir = join(srv.dataDir, 'files', 'chunks', waiting);
  const files = () => {
    try {
      return readdirSync(chunkDir);
    } catch {
      return [];
    }
  };
  t.same(files(), [], 'no partial chunk was written');
  t.same(readdirSync(join(srv.dataDir, 'tmp')), [], 'no temporary file left behind');
  const c = await user.post<{ id: string }>(`/0/jobs/${waiting}/chunk`, undefined, { body: Buffer.from('abc') });
  await refused(
    'undeclared input',
    call(
      'POST',
      `/1/jobs/${waiting}/input`,
      userToken,
      JSON.stringify({ name: 'other.bin', size: 3, chunks: [c.id], commit_id: 'x' }),
    ),
    400,
    /was not declared/,
  );
  await refused(
    'input traversal',
    call(
      'POST',
      `/1/jobs/${waiting}/input`,
      userToken,
      JSON.stringify({ name: '../fw.bin', size: 3, chunks: [c.id], commit_id: 'x' }),
    ),
    400,
    /path traversal/,
  );
  await refused(
    'input size mismatch',
    call(
      'POST',
      `/1/jobs/${waiting}/input`,
      userToken,
      JSON.stringify({ name: 'fw.bin', size: 4, chunks: [c.id], commit_id: 'x' }),
    ),
    400,
    /does not match/,
  );
  await refused(
    'input unknown chunk',
    call(
      'POST',
      `/1/jobs/${waiting}/input`,
      userToken,
      JSON.stringify({ name: 'fw.bin', size: 3, chunks: ['01ARZ3NDEKTSV4RRFFQ69G5FAV'], commit_id: 'x' }),
    ),
    400,
    /unknown chunk/,
  );
  t.equal((await user.get<Job>(`/0/job/${waiting}`)).state, 'waiting', 'refused attachments changed nothing');

  // Factory and worker side.
  const factory = srv.client(factoryToken);
  await refused(
    'lease with a target name',
    call('POST', '/0/factory/lease', factoryToken, JSON.stringify({ supported_targets: ['bitaxe'] })),
    400,
    /not a target id/,
  );
  await refused(
    'unknown worker',
    call('PATCH', '/0/factory/worker/01ARZ3NDEKTSV4RRFFQ69G5FAV', factoryToken, JSON.stringify({ private: 'x' })),
    404,
    /worker 01ARZ3NDEKTSV4RRFFQ69G5FAV not found/,
  );
  const running = (await user.post<{ id: string }>('/0/jobs', JSON.parse(job({})))).id;
  const w = await startScriptedWorker(srv, factory, target, srv.url);
  t.equal((await w.ping(5000)).job?.id, running);
  await refused(
    'bad factory stream',
    call(
      'POST',
      `/0/factory/worker/${w.id}/append`,
      factoryToken,
      JSON.stringify({ stream: 'bad stream!', time: new Date().toISOString(), payload: 'x' }),
    ),
    400,
    /invalid stream name "bad stream!"/,
  );
  await refused(
    'bad date',
    call(
      'POST',
      `/0/factory/worker/${w.id}/append`,
      factoryToken,
      JSON.stringify({ stream: 'console', time: 'yesterday', payload: 'x' }),
    ),
    400,
    /must match format "date-time"/,
  );
  const ev = (stream: string, task?: number) =>
    JSON.stringify([{ stream, time: new Date().toISOString(), payload: 'x', task }]);
  await refused(
    'stream too long',
    call('POST', `/1/worker/job/${running}/append`, w.token, ev('s'.repeat(65))),
    400,
    /invalid stream name/,
  );
  await refused(
    'unknown task in append',
    call('POST', `/1/worker/job/${running}/append`, w.token, ev('stdout', 7)),
    400,
    /task 7 does not exist/,
  );
  await refused(
    'unknown task complete',
    call('POST', `/0/worker/job/${running}/task/9/complete`, w.token, JSON.stringify({ failed: false })),
    404,
    /task 9 not found/,
  );
  const oc = await w.api.post<{ id: string }>(`/0/worker/job/${running}/chunk`, undefined, {
    body: Buffer.from('data'),
  });
  const out = (path: string, size = 4) =>
    JSON.stringify({ path, size, chunks: [oc.id], commit_id: `c-${path}-${size}` });
  await refused(
    'output traversal',
    call('POST', `/1/worker/job/${running}/output`, w.token, out('/work/../../etc/passwd')),
    400,
    /path traversal/,
  );
  await refused(
    'relative output',
    call('POST', `/1/worker/job/${running}/output`, w.token, out('work/x')),
    400,
    /must be an absolute path/,
  );
  await refused(
    'output size mismatch',
    call('POST', `/1/worker/job/${running}/output`, w.token, out('/work/x', 5)),
    400,
    /does not match/,
  );
  await refused(
    'chunk over the limit (worker)',
    call('POST', `/0/worker/job/${running}/chunk`, w.token, big, 'application/octet-stream'),
    413,
    /request body too large/,
  );
  t.same(readdirSync(join(srv.dataDir, 'files', 'chunks', running)), [oc.id], 'only the accepted chunk is on disk');
  await refused(
    'unsatisfiable range',
    call('GET', `/0/worker/job/${running}/inputs/01ARZ3NDEKTSV4RRFFQ69G5FAV`, w.token),
    404,
    /input .* not found/,
  );
  t.same(await user.get(`/0/jobs/${running}/outputs`), [], 'no output from refused commits');
  t.notOk(
    srv.logs.some((l) => /"level":50|request failed/.test(l)),
    'no request failed with a server error',
  );
  t.same(responseViolations(proxy.violations), [], 'every answer conforms to the spec');
});
