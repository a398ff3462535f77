// Input download: each input is streamed from the server into the job's input directory (via a
// temporary file, renamed when complete). A download cut short is started again; an input the
// server does not have, or a name that would escape the directory, is a problem for the job.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { WorkerPingInput } from '../shared/api/types.js';
import type { WorkerClient } from '../shared/buildomat/worker.js';
import { ApiError } from '../shared/errors.js';
import { persist } from '../shared/retry.js';

export interface DownloadContext {
  client: Pick<WorkerClient, 'downloadInput'>;
  job: string;
  inputs: WorkerPingInput[];
  inputDir: string;
  report: (message: string) => void;
  log: Logger;
  signal?: AbortSignal;
}

/** Where an input lands, or undefined when its name would leave the input directory. */
export function inputPath(inputDir: string, name: string): string | undefined {
  const root = resolve(inputDir);
  const p = resolve(root, name);
  return name !== '' && p.startsWith(root + sep) ? p : undefined;
}

/** Downloads every input; resolves `true` when one could not be had (the job must fail). */
export async function downloadInputs(ctx: DownloadContext): Promise<boolean> {
  let failed = false;
  for (const input of ctx.inputs) {
    if (ctx.signal?.aborted) return true;
    const dest = inputPath(ctx.inputDir, input.name);
    if (!dest) {
      ctx.report(`input error: input name "${input.name}" is not a relative path inside the input directory`);
      failed = true;
      continue;
    }
    ctx.report(`downloading input: ${input.name}`);
    try {
      await persist(() => downloadOne(ctx, input.id, dest), {
        signal: ctx.signal,
        log: ctx.log,
        what: `input ${input.name}`,
      });
      ctx.report(`downloaded input: ${input.name}`);
    } catch (err) {
      if (ctx.signal?.aborted) return true;
      const status = err instanceof ApiError ? err.status : undefined;
      const why = status === 404 ? 'the server has no such input' : (err as Error).message;
      ctx.report(`input error: could not download input "${input.name}" (${input.id}): ${why}`);
      failed = true;
    }
  }
  return failed;
}

async function downloadOne(ctx: DownloadContext, id: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = `${dest}.part`;
  try {
    const body = await ctx.client.downloadInput(ctx.job, id, ctx.signal);
    await pipeline(body, createWriteStream(tmp, { mode: 0o644 }), { signal: ctx.signal });
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    // A stream cut mid-body is as retryable as a refused connection.
    const code = (err as { code?: string }).code;
    if (!(err instanceof ApiError) && code && /^(ECONNRESET|EPIPE|UND_ERR_.*)$/.test(code)) {
      throw new ApiError('GET', `input ${id}`, undefined, `download of input ${id} was cut: ${code}`, { cause: err });
    }
    throw err;
  }
}
