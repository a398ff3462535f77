// Every field of a job is bounded, with a 400 that names the field and the limit, and listings
// stay answerable however many large jobs are stored (38 jobs with 15 MiB names used to make
// GET /1/jobs, GET /0/admin/jobs and `mvm job list` answer 500).
import t from 'tap';
import { runMvm } from '../helpers/mvm-process.js';
import { startServer } from '../helpers/server.js';

async function raw(url: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    json: (() => {
      try {
        return JSON.parse(text) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    })(),
  };
}

t.test('job fields over their limits are refused with the limit; listings of large jobs answer', async (t) => {
  const srv = await startServer(t);
  await srv.createTarget('bitaxe');
  const user = await srv.createUser('alice');
  const job = (over: Record<string, unknown> = {}, task: Record<string, unknown> = {}) => ({
    name: 'j',
    target: 'bitaxe',
    output_rules: [],
    tasks: [{ name: 't', script: 'true', env_clear: false, env: {}, ...task }],
    ...over,
  });
  const cases: Array<[string, unknown, RegExp]> = [
    [
      'a 15 MiB name',
      job({ name: 'n'.repeat(15 * 1024 * 1024) }),
      /^the job name is 15728640 bytes; the limit is 256 bytes$/,
    ],
    ['a 300-byte name', job({ name: 'n'.repeat(300) }), /the job name is 300 bytes; the limit is 256 bytes/],
    [
      'a 1 MiB script',
      job({}, { script: 'x'.repeat(1024 * 1024) }),
      /task 0: the script is 1048576 bytes; the limit is 262144 bytes/,
    ],
    [
      '20,000 env entries',
      job({}, { env: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`V${i}`, 'x'])) }),
      /task 0: env is 20000 entries; the limit is 256 entries/,
    ],
    [
      'a 200 KiB env value',
      job({}, { env: { BIG: 'v'.repeat(200 * 1024) } }),
      /task 0: env "BIG" is 204800 bytes; the limit is 65536 bytes/,
    ],
    [
      'a 2 KiB task name',
      job({}, { name: 't'.repeat(2048) }),
      /task 0: the name is 2048 bytes; the limit is 256 bytes/,
    ],
    [
      '200 output rules',
      job({ output_rules: Array.from({ length: 200 }, (_, i) => `/work/o${i}`) }),
      /the number of output rules is 200 rules; the limit is 100 rules/,
    ],
    [
      '101 tasks',
      job({ tasks: Array.from({ length: 101 }, () => ({ name: 't', script: 'true', env_clear: false, env: {} })) }),
      /the number of tasks is 101 tasks; the limit is 100 tasks/,
    ],
    [
      '5 scripts of 250 KiB',
      job({
        tasks: Array.from({ length: 5 }, () => ({
          name: 't',
          script: 's'.repeat(250 * 1024),
          env_clear: false,
          env: {},
        })),
      }),
      /the scripts and environments of all tasks is \d+ bytes; the limit is 1048576 bytes/,
    ],
  ];
  for (const [what, body, re] of cases) {
    const r = await raw(srv.url, user, 'POST', '/0/jobs', body);
    t.equal(r.status, 400, `${what}: 400`);
    t.match(String(r.json?.message), re, `${what}: the message names the limit`);
    t.equal(r.json?.error_code, 'LimitExceeded');
  }

  // 38 jobs at every limit at once: the listings still answer, and in bounded size.
  const big = job(
    { name: 'n'.repeat(256), tags: {} },
    { script: 's'.repeat(200 * 1024), env: { E: 'e'.repeat(60 * 1024) } },
  );
  for (let i = 0; i < 38; i++) t.equal((await raw(srv.url, user, 'POST', '/0/jobs', big)).status, 201);
  const list = await raw(srv.url, user, 'GET', '/1/jobs?limit=1000');
  t.equal(list.status, 200, 'GET /1/jobs answers');
  t.equal((list.json?.items as unknown[]).length, 38);
  const admin = await raw(srv.url, srv.adminToken, 'GET', '/0/admin/jobs');
  t.equal(admin.status, 200, 'GET /0/admin/jobs answers');
  t.ok(admin.text.length < 40 * 1024 * 1024, `bounded in size (${admin.text.length} bytes)`);
  t.equal((await raw(srv.url, user, 'GET', '/1/jobs?limit=100000')).status, 400, 'a page larger than 1000 is refused');
  const cli = await runMvm(['job', 'list', '--url', srv.url, '--token', user]);
  t.equal(cli.code, 0, 'mvm job list answers');
});
