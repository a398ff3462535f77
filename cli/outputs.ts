// Downloading a job's outputs into a directory. Output paths come from the job (untrusted): each is
// mapped to DIR/<path without its leading slash> only when it stays inside DIR — no "..", no
// symlinked directories on the way — and is written to a temporary file that is renamed into place
// once its size checks out.
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
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

/** Downloads every output of `job` into `dir`; all unsafe names are refused before anything is written. */
export async function downloadOutputs(
  client: UserClient,
  job: string,
  dir: string,
  opts: { outputs?: JobOutput[]; signal?: AbortSignal; onFile?: (o: DownloadedOutput) => void } = {},
): Promise<DownloadedOutput[]> {
  const outputs = opts.outputs ?? (await client.outputs(job, opts.signal));
  const root = resolve(dir);
  const planned = outputs.map((o) => ({ o, file: safeOutputPath(root, o.path) }));
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
