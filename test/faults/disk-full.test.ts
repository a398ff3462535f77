// Fault: a full disk (a tiny tmpfs, lib/tmpfs.ts), on the agent's side and on the server's.
// Agent: a task filling the output directory fails the job cleanly — the agent says what it could
// not write in the job's events, completes every task and the job, uploads what is there, keeps
// every event, and exits normally; a disk that refuses the event spool costs memory, not events;
// a disk full before the job starts fails the job with the reason. Server: an upload to a full
// data folder is refused (507, clear message) with no file left behind, and once space is back
// the agent's retries finish the job with nothing lost.
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import type { FactoryWorker, Job } from '../../shared/api/types.js';
import { startMvm, waitFor } from '../helpers/mvm-process.js';
import { leaseJob, startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { agentLog, startLab } from '../agent/harness.js';
import { allRows, liveRows } from '../factory/fixture.js';
import { assertNoLeaks, MARK_ENV, newMark } from './lib/procs.js';
import { payloads, startFaultLab } from './lib/stack.js';
import { fillUp, mountTmpfs, tmpfsUnavailable } from './lib/tmpfs.js';

const why = tmpfsUnavailable();
if (why) {
  t.comment(`skipping the disk-full tests: ${why}`);
  t.plan(0, why);
}

const env = (mark: string) => ({ [MARK_ENV]: mark });

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

t.test(
  'the agent disk fills up mid-job (real factory): the job fails cleanly, the agent reports it, nothing else is lost',
  { skip: why },
  async (t) => {
    // The factory runs agents in <workdir>/<instance>: put that on a 2 MiB filesystem.
    const instances = mountTmpfs(t, join(tempDir(t, 'mvm-full-agent-'), 'instances'), 2 * 1024 * 1024);
    const lab = await startFaultLab(t, {
      testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }],
      factoryKeys: `workdir = "${instances}"`,
    });
    const factory = await lab.factory();
    const job = await lab.submitTasks(
      'bitaxe',
      [
        {
          name: 'fill',
          script: [
            'echo kept > "$MVM_OUTPUT_DIR/small.txt"',
            'head -c 8M /dev/urandom > "$MVM_OUTPUT_DIR/big.bin" || echo "write failed: $?" >&2',
            'for i in $(seq 1 3000); do echo "after $i"; done',
          ].join('\n'),
        },
        // Bigger than the page the agent frees when the first task ends (running-task.json).
        { name: 'next', script: `# ${'x'.repeat(64 * 1024)}\necho never` },
      ],
      { output_rules: ['/work/output/*'] },
    );
    const done = await lab.waitJob(job, ['completed', 'failed'], 60_000);
    t.equal(done.state, 'failed', 'the job failed');
    t.match(
      done.tasks.map((x) => x.state),
      ['completed', 'failed'],
      'every task completed: the first one, and the second as failed',
    );
    const events = await lab.events(job);
    const worker = payloads(events, 'worker');
    t.ok(
      payloads(events, 'stderr').some((p) => /No space left on device/.test(p)),
      "the task's own write failed with ENOSPC",
    );
    t.ok(
      worker.some((p) =>
        /^exec error: cannot write the script of task 1 to \S+task-1\.sh: ENOSPC: no space left on device/.test(p),
      ),
      `the agent says what it could not write: ${worker.find((p) => p.startsWith('exec error')) ?? 'nothing'}`,
    );
    t.ok(
      events.some((e) => e.stream === 'task' && e.task === 1 && /exit code 127$/.test(e.payload)),
      'task 1 ended with 127',
    );
    t.equal(
      payloads(events, 'stdout').filter((p) => p.startsWith('after ')).length,
      3000,
      'every line printed after the disk filled reached the server',
    );
    t.notOk(payloads(events, 'stdout').includes('never'), 'the second task never ran');
    const outs = await lab.user.get<Array<{ id: string; path: string; size: number }>>(`/0/jobs/${job}/outputs`);
    const small = outs.find((o) => o.path === '/work/output/small.txt');
    t.ok(small, 'the output written before the disk filled was uploaded');
    const body = small
      ? await (
          await request(`${lab.srv.url}/0/jobs/${job}/outputs/${small.id}`, {
            headers: { authorization: `Bearer ${lab.userToken}` },
          })
        ).body.text()
      : '';
    t.equal(body, 'kept\n', 'intact');
    await waitFor(() => liveRows(lab.dbFile).length === 0, 'the instance destroyed', 30_000, 100);
    const [row] = allRows(lab.dbFile);
    t.equal(row.failure, null, 'the agent was not lost: it finished and exited by itself');
    t.match(
      readFileSync(join(instances, row.id, 'agent.log'), 'utf8'),
      /"msg":"agent exiting"/,
      'the agent exited normally',
    );
    t.same(await lab.workers(), [] as FactoryWorker[]);
    t.equal(await factory.stop(), 0, 'the factory carried on');
    await lab.noLeaks(t);
  },
);

t.test(
  'the disk refuses the event spool while the server is down: events kept in memory, none lost',
  { skip: why },
  async (t) => {
    const lab = await startLab(t);
    const mark = newMark();
    const workdir = mountTmpfs(t, join(lab.dir, 'agent'), 1024 * 1024);
    const gate = join(lab.dir, 'go'); // outside the full disk
    const n = 20_000; // ~2 MB of events: more than the agent keeps in memory before spilling
    const job = await lab.submit({
      tasks: [
        {
          name: 'fill, then print',
          env_clear: false,
          env: env(mark),
          script: `head -c 8M /dev/urandom > "$MVM_OUTPUT_DIR/big.bin" || echo "disk full" >&2\nwhile [ ! -e '${gate}' ]; do sleep 0.05; done\nfor i in $(seq 1 ${n}); do echo "line $i ................................................................................"; done`,
        },
      ],
    });
    const w = await lab.worker(job);
    const agent = lab.startAgent(w.bootstrap, workdir);
    await waitFor(
      async () => agentLog(await lab.events(job)).includes('stderr[0]: disk full'),
      'the disk to be full',
      30_000,
      100,
    );
    await lab.srv.proc.kill9();
    writeFileSync(gate, '');
    await agent.waitForLine(/cannot spill queued events to disk; keeping them in memory/, 30_000);
    t.equal(agent.child.exitCode, null, 'the agent is still running');
    await lab.srv.restart();
    t.equal(await agent.exited, 0, 'the agent finished the job');
    t.equal((await lab.waitDone(job)).state, 'completed');
    const log = agentLog(await lab.events(job));
    const lines = log.filter((l) => l.startsWith('stdout[0]: line '));
    t.equal(lines.length, n, 'every line once');
    t.ok(
      lines.every((l, i) => l.startsWith(`stdout[0]: line ${i + 1} `)),
      'in order',
    );
    t.ok(
      log.some((l) => /^worker: agent warning: cannot spill queued events to disk \(ENOSPC/.test(l)),
      'the job log says the disk refused the spool',
    );
    await assertNoLeaks(t, mark);
  },
);

t.test(
  'the disk is full before the job starts: the job is not run and fails with the reason',
  { skip: why },
  async (t) => {
    const lab = await startLab(t);
    const workdir = mountTmpfs(t, join(lab.dir, 'agent'), 256 * 1024);
    // A worker with no job yet, so that the disk can be filled between bootstrap and assignment.
    const w = await lab.factory.post<FactoryWorker>('/0/factory/worker', { target: lab.target, job: null });
    await lab.factory.patch(`/0/factory/worker/${w.id}`, { private: `instance-${w.id}` });
    const agent = lab.startAgent(w.bootstrap, workdir);
    await agent.waitForLine(/^mvm agent bootstrapped as worker /, 30_000);
    fillUp(workdir);
    const runs = join(lab.dir, 'runs');
    const job = await lab.submit({ script: `echo run >> '${runs}'` });
    t.equal(await agent.exited, 0, 'the agent reported the failure and exited on poweroff');
    const j = await lab.waitDone(job);
    t.equal(j.state, 'failed', 'the job failed');
    const control = (await lab.events(job)).filter((e) => e.stream === 'control').map((e) => e.payload);
    t.ok(
      control.some((p) => /worker failed: cannot start job \S+: .*ENOSPC/.test(p)),
      `the reason is in the job's events: ${control.at(-1)}`,
    );
    t.notOk(existsSync(runs), 'nothing of the job ran');
  },
);

t.test(
  'the server data folder fills up: uploads refused (507) with no file left; once space is back, nothing is lost',
  { skip: why },
  async (t) => {
    const data = mountTmpfs(t, join(tempDir(t, 'mvm-full-server-'), 'data'), 16 * 1024 * 1024);
    const srv = await startServer(t, { dataDir: data, args: ['--tick', '200ms'] });
    const target = await srv.createTarget('bitaxe');
    const userToken = await srv.createUser('alice');
    const factory = srv.client(await srv.createFactory('lab'));
    const mark = newMark();
    const gate = join(tempDir(t, 'mvm-full-gate-'), 'go');
    const job = await srv.submitJob(userToken, {
      target: 'bitaxe',
      tasks: [
        {
          name: 'output',
          env_clear: false,
          env: env(mark),
          script: `while [ ! -e '${gate}' ]; do sleep 0.05; done\nhead -c 3M /dev/urandom > "$MVM_OUTPUT_DIR/out.bin"\nsha256sum "$MVM_OUTPUT_DIR/out.bin" | cut -c1-64`,
        },
      ],
      output_rules: ['/work/output/*'],
    });
    const waiting = await srv.submitJob(userToken, { target: 'bitaxe', inputs: ['fw.bin'] });
    t.equal((await leaseJob(factory, [target]))?.job, job);
    const w = await factory.post<FactoryWorker>('/0/factory/worker', { target, job });
    await factory.patch(`/0/factory/worker/${w.id}`, { private: `instance-${w.id}` });
    const agent = startMvm(
      ['agent', 'run', '--url', srv.url, '--workdir', tempDir(t, 'mvm-full-agent-'), '--busy-ping', '500ms'],
      {
        env: { MVM_BOOTSTRAP: w.bootstrap, MVM_LOG_LEVEL: 'info' },
        detached: true,
      },
    );
    t.teardown(() => agent.stop(5000));
    const user = srv.client(userToken);
    await waitFor(
      async () => (await user.get<Job>(`/0/job/${job}`)).state === 'running',
      'the job running',
      30_000,
      100,
    );

    const filler = fillUp(data);
    const chunkFiles = () => filesUnder(join(data, 'files', 'chunks')).length;
    const before = chunkFiles();
    const r = await request(`${srv.url}/0/jobs/${waiting}/chunk`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userToken}`, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(1024 * 1024, 7),
    });
    const answer = (await r.body.json()) as { message: string; error_code: string };
    t.equal(r.statusCode, 507, 'an upload to the full data folder is refused with 507');
    t.match(
      answer,
      {
        error_code: 'InsufficientStorage',
        message: /data folder is full \(ENOSPC\); nothing was stored: free space on the server, then retry/,
      },
      'and says why',
    );
    t.equal(chunkFiles(), before, 'the refused chunk left no file');
    t.same(filesUnder(join(data, 'tmp')), [], 'nor a partial one in tmp/');

    // The running job's output upload meets the full disk: the agent retries until space is back.
    writeFileSync(gate, '');
    // Its events come first (the output waits for them): refused too, and retried.
    await agent.waitForLine(/507 the server's data folder is full .*retrying/, 30_000);
    t.same(filesUnder(join(data, 'tmp')), [], 'no partial file while the agent retries');
    rmSync(filler);
    t.equal(await agent.exited, 0, 'the agent finished once space was back');
    const done = await waitFor(
      async () => {
        const j = await user.get<Job>(`/0/job/${job}`);
        return j.state === 'completed' || j.state === 'failed' ? j : undefined;
      },
      'the job to end',
      30_000,
      100,
    );
    t.equal(done!.state, 'completed', 'the job completed');
    const events = await user.get<Array<{ stream: string; payload: string }>>(`/0/jobs/${job}/events`, {
      query: { minseq: 0 },
    });
    const sums = events.filter((e) => e.stream === 'stdout').map((e) => e.payload);
    t.equal(sums.length, 1, 'the checksum line once');
    const outs = await user.get<Array<{ id: string; path: string; size: number }>>(`/0/jobs/${job}/outputs`);
    t.match(outs, [{ path: '/work/output/out.bin', size: 3 * 1024 * 1024 }], 'one output, full size');
    const res = await request(`${srv.url}/0/jobs/${job}/outputs/${outs[0].id}`, {
      headers: { authorization: `Bearer ${userToken}` },
    });
    const hash = createHash('sha256');
    for await (const c of res.body) hash.update(c as Buffer);
    t.equal(hash.digest('hex'), sums[0], 'the output is byte for byte what the task wrote');
    const again = await request(`${srv.url}/0/jobs/${waiting}/chunk`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userToken}`, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(1024, 7),
    });
    t.equal(again.statusCode, 201, 'uploads are stored again');
    await again.body.dump();
    t.notMatch(srv.proc.stderr.join('\n'), /"statusCode":500|internal server error/, 'no request failed with a 500');
    await assertNoLeaks(t, mark);
  },
);
