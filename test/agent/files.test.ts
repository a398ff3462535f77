// Inputs and outputs against a scripted worker client: streaming, chunking, commits, bad input.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { downloadInputs, inputPath } from '../../agent/inputs.js';
import { parseRuleText, WorkPaths } from '../../agent/output-rules.js';
import { uploadOutputs } from '../../agent/outputs.js';
import { ApiError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import type { WorkerAddOutput } from '../../shared/api/types.js';
import { tempDir } from '../helpers/tmp.js';

t.test('input names cannot leave the input directory', async (t) => {
  t.equal(inputPath('/in', 'a/b.bin'), '/in/a/b.bin');
  t.equal(inputPath('/in', '../etc/passwd'), undefined);
  t.equal(inputPath('/in', '/etc/passwd'), undefined);
  t.equal(inputPath('/in', ''), undefined);
});

t.test('a missing input fails the job with a clear event; the other inputs still arrive', async (t) => {
  const dir = tempDir(t);
  const reports: string[] = [];
  let calls = 0;
  const client = {
    async downloadInput(_job: string, id: string) {
      calls++;
      if (id === 'gone') throw new ApiError('GET', 'x', 404, 'no such input');
      if (id === 'flaky' && calls < 4) throw new ApiError('GET', 'x', 503, 'busy');
      return Readable.from([Buffer.from(`body of ${id}`)]);
    },
  };
  const failed = await downloadInputs({
    client,
    job: 'J',
    inputs: [
      { name: 'missing.bin', id: 'gone' },
      { name: 'sub/ok.txt', id: 'flaky' },
      { name: '../escape', id: 'x' },
    ],
    inputDir: dir,
    report: (m) => reports.push(m),
    log: silentLogger(),
  });
  t.equal(failed, true);
  t.equal(readFileSync(join(dir, 'sub/ok.txt'), 'utf8'), 'body of flaky', 'a retryable failure is retried');
  t.notOk(
    existsSync(join(dir, 'missing.bin')) || existsSync(join(dir, 'missing.bin.part')),
    'nothing half-written is left',
  );
  t.same(reports, [
    'downloading input: missing.bin',
    'input error: could not download input "missing.bin" (gone): the server has no such input',
    'downloading input: sub/ok.txt',
    'downloaded input: sub/ok.txt',
    'input error: input name "../escape" is not a relative path inside the input directory',
  ]);
});

function fakeUploads(opts: { incompleteRounds?: number; commitError?: string; maxBytes?: number } = {}) {
  const chunks = new Map<string, Buffer>();
  const commits: WorkerAddOutput[] = [];
  let n = 0;
  const client = {
    async uploadChunk(_job: string, data: Buffer) {
      const id = `c${++n}`;
      chunks.set(id, Buffer.from(data)); // the agent reuses its buffer: keep a copy, as a server would
      return id;
    },
    async addOutput(_job: string, o: WorkerAddOutput) {
      commits.push(o);
      const round = commits.filter((c) => c.commit_id === o.commit_id).length;
      if (round <= (opts.incompleteRounds ?? 0)) return { complete: false };
      return { complete: true, error: opts.commitError ?? null };
    },
    async quota() {
      return { max_bytes_per_output: opts.maxBytes ?? 1 << 30 };
    },
  };
  const body = (o: WorkerAddOutput) => Buffer.concat(o.chunks.map((c) => chunks.get(c)!));
  return { client, commits, body, chunks };
}

t.test('outputs stream in 5 MiB chunks; the commit repeats until complete; bytes arrive intact', async (t) => {
  const work = join(tempDir(t), 'work');
  mkdirSync(join(work, 'output'), { recursive: true });
  const big = randomBytes(12 * 1024 * 1024 + 17);
  writeFileSync(join(work, 'output/big.bin'), big);
  writeFileSync(join(work, 'output/empty'), '');
  const srv = fakeUploads({ incompleteRounds: 2 });
  const reports: string[] = [];
  const failed = await uploadOutputs({
    client: srv.client,
    job: 'J',
    rules: ['/work/output/*'].map(parseRuleText),
    paths: new WorkPaths(work),
    report: (m) => reports.push(m),
    log: silentLogger(),
    commitPollMs: 1,
  });
  t.equal(failed, false);
  const done = new Map(srv.commits.map((c) => [c.path, c]));
  const bigCommit = done.get('/work/output/big.bin')!;
  t.same(
    bigCommit.chunks.map((c) => srv.chunks.get(c)!.length),
    [5 * 1024 * 1024, 5 * 1024 * 1024, 2 * 1024 * 1024 + 17],
  );
  t.ok(srv.body(bigCommit).equals(big), 'the chunks put together are the file');
  t.equal(bigCommit.size, big.length);
  t.equal(
    srv.commits.filter((c) => c.commit_id === bigCommit.commit_id).length,
    3,
    'one commit id, repeated until complete',
  );
  t.same(done.get('/work/output/empty')!.chunks, [], 'an empty file is committed with no chunks');
  t.same(reports, [
    'found 2 output files',
    `uploading: /work/output/big.bin (${big.length} bytes)`,
    'uploaded: /work/output/big.bin',
    'uploading: /work/output/empty (0 bytes)',
    'uploaded: /work/output/empty',
  ]);
});

t.test('a commit error, an output over quota and a bad rule fail the job, each with an event', async (t) => {
  const work = join(tempDir(t), 'work');
  mkdirSync(join(work, 'output'), { recursive: true });
  writeFileSync(join(work, 'output/a.txt'), 'a'.repeat(10));
  writeFileSync(join(work, 'output/b.txt'), 'b'.repeat(100));
  const srv = fakeUploads({ commitError: 'disk full', maxBytes: 50 });
  const reports: string[] = [];
  const failed = await uploadOutputs({
    client: srv.client,
    job: 'J',
    rules: ['/work/output/*', 'relative/*'].map(parseRuleText),
    paths: new WorkPaths(work),
    report: (m) => reports.push(m),
    log: silentLogger(),
  });
  t.equal(failed, true);
  t.same(reports, [
    'upload error: output rule "relative/*": an output rule must be an absolute path or glob (e.g. /work/out/*.log)',
    'found 2 output files',
    'uploading: /work/output/a.txt (10 bytes)',
    'upload error: /work/output/a.txt: disk full',
    "upload error: /work/output/b.txt is 100 bytes, more than the server's limit of 50 bytes per output",
  ]);
});

t.test('a file that changes size during upload fails, unless its rule says % (then a warning)', async (t) => {
  const { appendFileSync } = await import('node:fs');
  for (const [rule, fails] of [
    ['/work/output/*', true],
    ['%/work/output/*', false],
  ] as const) {
    const work = join(tempDir(t), 'work');
    mkdirSync(join(work, 'output'), { recursive: true });
    const file = join(work, 'output/grow.log');
    writeFileSync(file, 'x'.repeat(100));
    const srv = fakeUploads();
    const upload = srv.client.uploadChunk;
    srv.client.uploadChunk = async (job: string, data: Buffer) => {
      appendFileSync(file, 'more'); // something still writes the file while it is uploaded
      return upload(job, data);
    };
    const reports: string[] = [];
    const failed = await uploadOutputs({
      client: srv.client,
      job: 'J',
      rules: [parseRuleText(rule)],
      paths: new WorkPaths(work),
      report: (m) => reports.push(m),
      log: silentLogger(),
      chunkBytes: 64,
    });
    t.equal(failed, fails, rule);
    t.ok(
      reports.some((r) => r.includes('/work/output/grow.log changed size during upload: 100 -> 104 bytes')),
      'the event names the file and sizes',
    );
  }
});
