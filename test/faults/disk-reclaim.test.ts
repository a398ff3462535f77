// Disk is reclaimed: chunks are deleted once assembled into an input or output and when their job
// ends; uncommitted chunks are capped per job and per user (a 413 naming the limit); with a
// retention period `mvm server gc` removes old jobs' outputs and events. Before, a 1 GiB output
// took 2.4 GB, cancelled jobs' chunks stayed and a user could upload without end.
import t from 'tap';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runMvm, waitFor } from '../helpers/mvm-process.js';
import { startServer } from '../helpers/server.js';
import { payloads, startFaultLab } from './lib/stack.js';

const MiB = 1024 * 1024;

function filesUnder(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir)) n += statSync(join(dir, e)).isDirectory() ? filesUnder(join(dir, e)) : 1;
  return n;
}

async function chunk(url: string, token: string, job: string, bytes: number) {
  const res = await fetch(`${url}/0/jobs/${job}/chunk`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: Buffer.alloc(bytes, 7),
  });
  return { status: res.status, body: (await res.json()) as { id?: string; message?: string; error_code?: string } };
}

t.test('uncommitted chunks capped per job and per user; chunks gone once attached and when the job ends', async (t) => {
  const srv = await startServer(t, {
    args: ['--max-uncommitted-per-job', String(25 * MiB), '--max-uncommitted-per-user', String(35 * MiB)],
  });
  await srv.createTarget('bitaxe');
  const user = await srv.createUser('alice');
  const a = await srv.submitJob(user, { target: 'bitaxe', inputs: ['fw.bin'] });
  const b = await srv.submitJob(user, { target: 'bitaxe', inputs: ['fw.bin'] });
  const ids = [(await chunk(srv.url, user, a, 10 * MiB)).body.id!, (await chunk(srv.url, user, a, 10 * MiB)).body.id!];
  const overJob = await chunk(srv.url, user, a, 10 * MiB);
  t.equal(overJob.status, 413, 'a third 10 MiB chunk on one job is refused');
  t.match(overJob.body, {
    error_code: 'PayloadTooLarge',
    message: /holds 20971520 bytes of chunks not yet committed; .* limit of 26214400 bytes per job/,
  });
  t.equal((await chunk(srv.url, user, b, 10 * MiB)).status, 201);
  const overUser = await chunk(srv.url, user, b, 10 * MiB);
  t.equal(overUser.status, 413, "over the user's limit across jobs");
  t.match(overUser.body.message, /your jobs hold 31457280 bytes .* limit of 36700160 bytes per user/);

  const chunksOf = (job: string) => filesUnder(join(srv.dataDir, 'files', 'chunks', job));
  t.equal(chunksOf(a), 2);
  await srv.client(user).post(`/1/jobs/${a}/input`, { name: 'fw.bin', size: 20 * MiB, chunks: ids, commit_id: 'c1' });
  t.equal(chunksOf(a), 0, 'attached: the chunks are deleted');
  t.equal(filesUnder(join(srv.dataDir, 'files', 'inputs', a)), 1, 'the input itself stays');
  t.equal((await chunk(srv.url, user, b, 10 * MiB)).status, 201, 'the freed room can be used again');

  await srv.client(user).post(`/0/jobs/${b}/cancel`, {});
  await waitFor(() => chunksOf(b) === 0, "the cancelled job's chunks to be purged", 30_000, 100);
  t.pass('chunks of an ended job are purged');
});

t.test('an output takes its own size once; gc with a retention removes old outputs and events', async (t) => {
  const lab = await startFaultLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
  const factory = await lab.factory();
  const job = await lab.submitTasks(
    'bitaxe',
    [{ name: 'out', script: 'head -c 12000000 /dev/urandom > "$MVM_OUTPUT_DIR/big.bin"; echo wrote' }],
    { output_rules: ['/work/output/*'] },
  );
  t.equal((await lab.waitJob(job, ['completed', 'failed'], 120_000)).state, 'completed');
  const data = lab.srv.dataDir;
  await waitFor(() => filesUnder(join(data, 'files', 'chunks', job)) === 0, 'no chunk left of the job', 30_000, 100);
  const outs = await lab.user.get<Array<{ size: number }>>(`/0/jobs/${job}/outputs`);
  t.same(
    outs.map((o) => o.size),
    [12_000_000],
    'the output is stored',
  );
  t.equal(filesUnder(join(data, 'files', 'outputs', job)), 1);
  t.equal(await factory.stop(), 0);

  const gc = await runMvm(['server', 'gc', '--data', data, '--retention', '1ms']);
  t.equal(gc.code, 0);
  t.match(gc.stdout, /^reclaimed \d+ bytes: \d+ chunks of ended jobs, 1 jobs past retention/);
  t.equal(filesUnder(join(data, 'files', 'outputs', job)), 0, 'the old output is removed');
  t.same(await lab.user.get(`/0/jobs/${job}/outputs`), [], 'and no longer listed');
  t.same(payloads(await lab.events(job), 'stdout'), [], 'its events are removed');
  t.equal((await lab.job(job)).state, 'completed', 'the job itself stays in the history');
  await lab.noLeaks(t);
});
