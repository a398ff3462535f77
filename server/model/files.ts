// File bodies on disk under the data folder: chunks, then inputs and outputs assembled from them.
// Every file is written to tmp/, fsynced and renamed into place (and its folder fsynced), so a
// crash never leaves a partial file under a name the database points at.
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { newId } from '../../shared/ids.js';

export type FileKind = 'chunks' | 'inputs' | 'outputs';

export class FileStore {
  readonly root: string;
  private readonly tmp: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'files');
    this.tmp = join(dataDir, 'tmp');
  }

  async init(): Promise<void> {
    // Leftovers in tmp/ are writes that were never acknowledged.
    await rm(this.tmp, { recursive: true, force: true });
    // Job files are the users' data: 0700 whatever the umask (the database is 0600 likewise).
    await mkdir(this.tmp, { recursive: true, mode: 0o700 });
    for (const k of ['chunks', 'inputs', 'outputs']) await mkdir(join(this.root, k), { recursive: true, mode: 0o700 });
    for (const d of [this.tmp, this.root, ...['chunks', 'inputs', 'outputs'].map((k) => join(this.root, k))])
      await chmod(d, 0o700);
  }

  path(kind: FileKind, job: string, id: string): string {
    return join(this.root, kind, job, id);
  }

  async size(kind: FileKind, job: string, id: string): Promise<number | undefined> {
    try {
      return (await stat(this.path(kind, job, id))).size;
    } catch {
      return undefined;
    }
  }

  /**
   * Stores `body` as a new chunk of `job`; resolves with the chunk id once it is durable. A write
   * that fails (a full disk) leaves no file behind, not even in tmp/.
   */
  async writeChunk(job: string, body: Buffer): Promise<string> {
    const id = newId();
    const tmp = join(this.tmp, `${id}.chunk`);
    try {
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.place(tmp, 'chunks', job, id);
    } catch (err) {
      await rm(tmp, { force: true });
      await this.remove('chunks', job, id);
      throw err;
    }
    return id;
  }

  /** Removes a stored file (one whose database row could not be committed); gone already is fine. */
  async remove(kind: FileKind, job: string, id: string): Promise<void> {
    await rm(this.path(kind, job, id), { force: true });
  }

  /** Removes every file of `kind` of a job (its folder). */
  async removeJob(kind: FileKind, job: string): Promise<void> {
    await rm(join(this.root, kind, job), { recursive: true, force: true });
  }

  /** Concatenates chunks of `job` into a new `kind` file `id`; resolves with its size. */
  async assemble(kind: 'inputs' | 'outputs', job: string, id: string, chunkIds: string[]): Promise<number> {
    const tmp = join(this.tmp, `${id}.${kind}`);
    try {
      const out = createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
      const src = async function* (paths: string[]) {
        for (const p of paths) for await (const b of createReadStream(p)) yield b as Buffer;
      };
      await pipeline(src(chunkIds.map((c) => this.path('chunks', job, c))), out);
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      const { size } = await stat(tmp);
      await this.place(tmp, kind, job, id);
      return size;
    } catch (err) {
      await rm(tmp, { force: true });
      await this.remove(kind, job, id);
      throw err;
    }
  }

  private async place(tmp: string, kind: FileKind, job: string, id: string): Promise<void> {
    const dir = join(this.root, kind, job);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await rename(tmp, join(dir, id));
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}
