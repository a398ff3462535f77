// Downloading a job's outputs into a directory. Output paths come from the job (untrusted): each is
// mapped to DIR/<path without its leading slash> only when it stays inside DIR — no "..", no
// symlinked directories on the way — and is written to a temporary file that is renamed into place
// once its size checks out.
import { createWriteStream } from 'node:fs';
import { copyFile, lstat, mkdir, rename, rm } from 'node:fs/promises';
import { basename, join, posix, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { JobOutput } from '../shared/api/types.js';
import type { UserClient } from '../shared/buildomat/user.js';
import { MvmError } from '../shared/errors.js';
import { newId } from '../shared/ids.js';
import { retry } from '../shared/retry.js';

/** The path segments of an output path, or an explanation of why it is unsafe. */
export function outputSegments(path: string): { segments: string[] } | { problem: string } {
  if (!path.startsWith('/')) return { problem: 'is not absolute' };
  if (path.includes('\0')) return { problem: 'contains a NUL byte' };
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.length === 0) return { problem: 'names no file' };
  if (segments.some((s) => s === '..' || s === '.')) return { problem: 'contains "." or ".." segments' };
  return { segments };
}

/** Where output `path` goes under `dir`; throws when it would land anywhere else. */
export function safeOutputPath(dir: string, path: string): string {
  const r = outputSegments(path);
  if ('problem' in r) {
    throw new MvmError('IO', `refusing to write output ${JSON.stringify(path)}: its path ${r.problem}`, {
      hint: 'the job produced an unsafe output name; download the others with `mvm job outputs JOB --download DIR`',
    });
  }
  const root = resolve(dir);
  const file = resolve(root, ...r.segments);
  if (!file.startsWith(root + sep)) {
    throw new MvmError('IO', `refusing to write output ${JSON.stringify(path)}: it would land outside ${root}`);
  }
  return file;
}

/** Creates the directories from `root` down to `file`'s parent, refusing any that is a symlink. */
async function makeParents(root: string, file: string): Promise<void> {
  await mkdir(root, { recursive: true });
  const rel = file
    .slice(root.length + 1)
    .split(sep)
    .slice(0, -1);
  let at = root;
  for (const part of rel) {
    at = join(at, part);
    try {
      const st = await lstat(at);
      if (!st.isDirectory()) {
        throw new MvmError('IO', `cannot write outputs under ${at}: it exists and is not a directory`, {
          hint: 'download into an empty directory',
        });
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(at);
    }
  }
}

export interface DownloadedOutput {
  id: string;
  path: string;
  file: string;
  size: number;
}

/** The folder every output path lies in ("/work/output" for /work/output/a and /work/output/b/c), or "/". */
export function commonFolder(paths: string[]): string {
  if (paths.length === 0) return '/';
  let parts = posix.dirname(paths[0]).split('/');
  for (const p of paths.slice(1)) {
    const q = posix.dirname(p).split('/');
    let i = 0;
    while (i < parts.length && i < q.length && parts[i] === q[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join('/') || '/';
}

/**
 * Downloads every output of `job` into `dir` (as DIR/<path>, or with `flatten` as DIR/<path below
 * the outputs' common folder>); all unsafe names are refused before anything is written.
 */
export async function downloadOutputs(
  client: UserClient,
  job: string,
  dir: string,
  opts: { outputs?: JobOutput[]; flatten?: boolean; signal?: AbortSignal; onFile?: (o: DownloadedOutput) => void } = {},
): Promise<DownloadedOutput[]> {
  const outputs = opts.outputs ?? (await client.outputs(job, opts.signal));
  const root = resolve(dir);
  const strip = opts.flatten ? commonFolder(outputs.map((o) => o.path)) : '/';
  const under = (path: string) => (strip === '/' ? path : path.slice(strip.length));
  const planned = outputs.map((o) => ({ o, file: safeOutputPath(root, under(o.path)) }));
  const done: DownloadedOutput[] = [];
  for (const { o, file } of planned) {
    await makeParents(root, file);
    await retry(() => downloadOne(client, job, o, file, opts.signal), {
      attempts: 4,
      signal: opts.signal,
    });
    const d = { id: o.id, path: o.path, file, size: o.size };
    done.push(d);
    opts.onFile?.(d);
  }
  return done;
}

async function downloadOne(client: UserClient, job: string, o: JobOutput, file: string, signal?: AbortSignal) {
  const tmp = `${file}.${newId()}.part`;
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    const body = await client.downloadOutput(job, o.id, signal);
    await pipeline(body, count, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }), { signal });
    if (bytes !== o.size) {
      throw new MvmError('IO', `output ${o.path}: received ${bytes} bytes, the server listed ${o.size}`, {
        retryable: true,
        hint: 'retry the download: `mvm job outputs JOB --download DIR`',
      });
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Makes the job's one JUnit report available as DIR/junit.xml, where CI configurations look for it
 * (copied when it was downloaded deeper). Returns its path, or undefined when there is not exactly one.
 */
export async function flatJunit(dir: string, downloaded: DownloadedOutput[]): Promise<string | undefined> {
  const reports = downloaded.filter((d) => basename(d.file) === 'junit.xml');
  if (reports.length !== 1) return undefined;
  const flat = join(resolve(dir), 'junit.xml');
  if (reports[0].file !== flat) {
    if (downloaded.some((d) => d.file === flat)) return undefined;
    await copyFile(reports[0].file, flat);
  }
  return flat;
}

/** The output `wanted` names: its exact path, else the one output whose path ends with "/<wanted>". */
export function findOutput(outputs: JobOutput[], wanted: string): JobOutput {
  const exact = outputs.find((o) => o.path === wanted);
  if (exact) return exact;
  const tail = `/${wanted.replace(/^\/+/, '')}`;
  const matches = outputs.filter((o) => o.path.endsWith(tail));
  if (matches.length === 1) return matches[0];
  const listed = outputs.length ? outputs.map((o) => o.path).join(', ') : 'none';
  throw new MvmError(
    'NOT_FOUND',
    matches.length === 0
      ? `the job has no output ${JSON.stringify(wanted)} (its outputs: ${listed})`
      : `${JSON.stringify(wanted)} names ${matches.length} outputs: ${matches.map((o) => o.path).join(', ')}`,
    { hint: 'name the output by its full path, as `mvm job outputs JOB` lists it' },
  );
}

/** Copies one output to `to` (through a temporary file renamed into place), or to stdout. */
export async function copyOutput(
  client: UserClient,
  job: string,
  outputs: JobOutput[],
  wanted: string,
  to?: string,
): Promise<JobOutput> {
  const o = findOutput(outputs, wanted);
  if (to) {
    await retry(() => downloadOne(client, job, o, resolve(to)), { attempts: 4 });
    return o;
  }
  const body = await client.downloadOutput(job, o.id);
  await pipeline(body, process.stdout, { end: false });
  return o;
}
