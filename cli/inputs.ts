// Uploading a job's input files: each file is sent as chunks (5 MiB, below the server's 10 MiB
// limit), then attached to the job by name with a commit id; the attach call is repeated until the
// server says the input is complete (it may assemble large inputs in the background).
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { UserClient } from '../shared/buildomat/user.js';
import { MvmError } from '../shared/errors.js';
import { newId } from '../shared/ids.js';
import { retry } from '../shared/retry.js';
import { sleep } from '../shared/sleep.js';

export const CHUNK_SIZE = 5 * 1024 * 1024;

export interface InputFile {
  /** The name the job sees (the file's base name). */
  name: string;
  file: string;
  size: number;
}

/**
 * Checks every input file up front so that a job is never submitted with an input that cannot be
 * sent. A plain path is named by its base name; `{ file, name }` names it (a relative path).
 */
export async function planInputs(
  files: Array<string | { file: string; name: string }>,
  maxBytes?: number,
): Promise<InputFile[]> {
  const seen = new Map<string, string>();
  const out: InputFile[] = [];
  for (const entry of files) {
    const file = typeof entry === 'string' ? entry : entry.file;
    let size: number;
    try {
      const st = await stat(file);
      if (!st.isFile())
        throw new MvmError('USAGE', `input ${file} is not a regular file`, {
          hint: 'pass files, not directories (tar them first)',
        });
      size = st.size;
    } catch (err) {
      if (err instanceof MvmError) throw err;
      throw new MvmError('USAGE', `cannot read input ${file}: ${(err as Error).message}`, {
        cause: err,
        hint: 'check the path given to --input',
      });
    }
    const name = typeof entry === 'string' ? basename(file) : entry.name;
    const other = seen.get(name);
    if (other !== undefined) {
      throw new MvmError('USAGE', `inputs ${other} and ${file} have the same name "${name}"`, {
        hint: 'the job sees inputs by base name; rename one of them',
      });
    }
    if (maxBytes !== undefined && size > maxBytes) {
      throw new MvmError('USAGE', `input ${file} is ${size} bytes; the server accepts at most ${maxBytes} per input`, {
        hint: 'compress or split it',
      });
    }
    seen.set(name, file);
    out.push({ name, file, size });
  }
  return out;
}

const CALL_RETRY = { attempts: 6, baseMs: 250, maxMs: 5_000 };

export async function uploadInput(
  client: UserClient,
  job: string,
  input: InputFile,
  opts: { chunkSize?: number; signal?: AbortSignal; onChunk?: (sent: number) => void } = {},
): Promise<void> {
  const chunkSize = opts.chunkSize ?? CHUNK_SIZE;
  const { signal } = opts;
  const chunks: string[] = [];
  const fh = await open(input.file, 'r');
  let sent = 0;
  try {
    const buf = Buffer.alloc(Math.min(chunkSize, Math.max(input.size, 1)));
    while (sent < input.size) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, input.size - sent), sent);
      if (bytesRead === 0) {
        throw new MvmError('IO', `input ${input.file} shrank while it was being uploaded`, {
          hint: 'do not change inputs during `mvm job run`',
        });
      }
      const data = Buffer.from(buf.subarray(0, bytesRead));
      chunks.push(await retry(() => client.uploadChunk(job, data, signal), { ...CALL_RETRY, signal }));
      sent += bytesRead;
      opts.onChunk?.(sent);
    }
  } finally {
    await fh.close();
  }
  const commit = { name: input.name, size: input.size, chunks, commit_id: newId() };
  for (let attempt = 1; ; attempt++) {
    const r = await retry(() => client.addInput(job, commit, signal), { ...CALL_RETRY, signal });
    if (r.error) {
      throw new MvmError('API_ERROR', `the server refused input ${input.name}: ${r.error}`, {
        hint: 'the job waits for its inputs; cancel it with `mvm job cancel` and submit again',
      });
    }
    if (r.complete) return;
    await sleep(Math.min(2_000, 100 * attempt), signal);
  }
}
