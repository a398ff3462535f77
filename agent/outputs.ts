// Output upload: find the files the rules select, stream each from disk in 5 MiB chunks (one
// buffer, reused), then commit it and repeat the commit until the server says it is complete.
// Every problem becomes a `worker` event and fails the job; it never stops the agent.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { glob } from 'tinyglobby';
import type { Logger } from 'pino';
import { ulid } from 'ulid';
import type { WorkerClient } from '../shared/buildomat/worker.js';
import { ApiError } from '../shared/errors.js';
import { compileRules, type CompiledRule, type OutputRule, type WorkPaths } from './output-rules.js';
import { sleep } from '../shared/sleep.js';
import { persist } from '../shared/retry.js';

export const CHUNK_BYTES = 5 * 1024 * 1024;

export interface FoundOutput {
  local: string;
  /** The path the output is recorded under (`/work/...` for files in the work directory). */
  path: string;
  size: number;
  sizeChangeOk: boolean;
}

export interface Scan {
  files: FoundOutput[];
  problems: string[];
}

/** Files selected by the rules, each once, in rule order then path order. */
export async function scanOutputs(rules: OutputRule[], paths: WorkPaths): Promise<Scan> {
  const { rules: compiled, problems: ruleProblems } = compileRules(rules, paths);
  const problems = ruleProblems.map((p) => `output rule "${p.rule}": ${p.message}`);
  const ignores = compiled.filter((r) => r.ignore);
  const relaxed = compiled.filter((r) => r.sizeChangeOk && !r.ignore);
  const seen = new Set<string>();
  const files: FoundOutput[] = [];
  for (const r of compiled.filter((r) => !r.ignore)) {
    for (const local of await expand(r)) {
      if (seen.has(local)) continue;
      seen.add(local);
      const jobPath = paths.toJob(local);
      if (ignores.some((i) => i.matches(jobPath))) continue;
      let size: number;
      try {
        const st = await stat(local);
        if (!st.isFile()) continue;
        size = st.size;
      } catch (err) {
        // A literal rule naming a file that is not there simply matches nothing.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        problems.push(`output ${jobPath}: ${(err as Error).message}`);
        continue;
      }
      files.push({ local, path: jobPath, size, sizeChangeOk: relaxed.some((x) => x.matches(jobPath)) });
    }
  }
  return { files, problems };
}

async function expand(r: CompiledRule): Promise<string[]> {
  if (!r.isGlob) return [r.local];
  const found = await glob(r.glob, {
    cwd: r.base,
    absolute: false,
    onlyFiles: true,
    dot: true,
    followSymbolicLinks: false,
  });
  return found.sort().map((rel) => join(r.base, rel));
}

export interface UploadContext {
  client: Pick<WorkerClient, 'uploadChunk' | 'addOutput' | 'quota'>;
  job: string;
  rules: OutputRule[];
  paths: WorkPaths;
  /** Reports progress and problems as `worker` events. */
  report: (message: string) => void;
  log: Logger;
  signal?: AbortSignal;
  chunkBytes?: number;
  /** Polling interval while a commit is not complete yet, ms. */
  commitPollMs?: number;
}

/** Uploads every output; resolves `true` when something failed (the job must fail). */
export async function uploadOutputs(ctx: UploadContext): Promise<boolean> {
  const { report, paths, rules } = ctx;
  let failed = false;
  const scan = await scanOutputs(rules, paths);
  for (const p of scan.problems) {
    report(`upload error: ${p}`);
    failed = true;
  }
  report(`found ${scan.files.length} output file${scan.files.length === 1 ? '' : 's'}`);
  const maxBytes = await quota(ctx);
  const uploaded: string[] = [];
  const buffer = Buffer.allocUnsafe(ctx.chunkBytes ?? CHUNK_BYTES);
  for (const f of scan.files) {
    if (ctx.signal?.aborted) break;
    if (maxBytes !== undefined && f.size > maxBytes) {
      report(
        `upload error: ${f.path} is ${f.size} bytes, more than the server's limit of ${maxBytes} bytes per output`,
      );
      failed = true;
      continue;
    }
    report(`uploading: ${f.path} (${f.size} bytes)`);
    try {
      const err = await uploadOne(ctx, f, buffer);
      if (err) {
        report(`upload error: ${err}`);
        failed = true;
        continue;
      }
      uploaded.push(f.path);
      report(`uploaded: ${f.path}`);
    } catch (err) {
      if (ctx.signal?.aborted) break;
      report(`upload error: ${f.path}: ${(err as Error).message}`);
      failed = true;
    }
  }
  const { rules: compiled } = compileRules(rules, paths);
  for (const r of compiled.filter((x) => x.requireMatch && !x.ignore)) {
    if (!uploaded.some((p) => r.matches(p))) {
      report(`upload error: rule "=${r.rule}" required a match, but no output file matched it`);
      failed = true;
    }
  }
  return failed;
}

async function quota(ctx: UploadContext): Promise<number | undefined> {
  try {
    const q = await persist(() => ctx.client.quota(ctx.job, ctx.signal), {
      signal: ctx.signal,
      log: ctx.log,
      what: 'quota',
    });
    return q.max_bytes_per_output;
  } catch (err) {
    // A server without quotas (404) is fine: the commit still reports a file that is too large.
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** Uploads one file; returns a problem description, or undefined when it was committed. */
async function uploadOne(ctx: UploadContext, f: FoundOutput, buffer: Buffer): Promise<string | undefined> {
  const { client, job, signal, log } = ctx;
  const chunks: string[] = [];
  let total = 0;
  const fh = await open(f.local, 'r');
  try {
    for (;;) {
      const n = await readFull(fh, buffer);
      if (n === 0) break;
      total += n;
      const data = buffer.subarray(0, n);
      chunks.push(await persist(() => client.uploadChunk(job, data, signal), { signal, log, what: 'chunk upload' }));
      if (n < buffer.length) break;
    }
  } finally {
    await fh.close();
  }
  if (total !== f.size) {
    const msg = `${f.path} changed size during upload: ${f.size} -> ${total} bytes`;
    if (!f.sizeChangeOk) return msg;
    ctx.report(`upload warning: ${msg}`);
  }
  const commit = { path: f.path, size: total, chunks, commit_id: ulid() };
  const pollMs = ctx.commitPollMs ?? 250;
  for (let round = 0; ; round++) {
    const res = await persist(() => client.addOutput(job, commit, signal), { signal, log, what: 'output commit' });
    if (res.complete) return res.error ? `${f.path}: ${res.error}` : undefined;
    await sleep(Math.min(1000, pollMs * 2 ** Math.min(round, 4)), signal);
  }
}

async function readFull(fh: FileHandle, buf: Buffer): Promise<number> {
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, null);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off;
}
