// Chunks and the files assembled from them: user inputs (attached before the job is queued) and
// worker outputs (committed while the job runs; idempotent per commit_id).
import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { immediate } from '../../shared/db.js';
import { newId } from '../../shared/ids.js';
import type { ServerContext } from '../context.js';
import { chunks, inputs, jobs, outputs } from '../db/schema.js';
import { badRequest, conflict, storageError, tooLarge } from '../http/errors.js';
import { dropChunks } from './gc.js';
import { checkInputName, checkOutputPath } from './rules.js';
import type { JobRow } from './jobs.js';

export async function storeChunk(ctx: ServerContext, jobId: string, body: Buffer, owner?: string): Promise<string> {
  if (body.length === 0) throw badRequest('empty chunk: send 1 byte or more');
  checkUncommitted(ctx, jobId, body.length, owner);
  const id = await ctx.files.writeChunk(jobId, body);
  await unlessStored(ctx, 'chunks', jobId, id, () =>
    ctx.db.insert(chunks).values({ id, job: jobId, size: body.length, timeCreate: ctx.now() }).run(),
  );
  return id;
}

/**
 * Chunks not yet committed into an input or output take disk that nothing accounts for: bounded
 * per job, and per user across the user's jobs (input chunks), with a 413 naming the limit.
 */
function checkUncommitted(ctx: ServerContext, jobId: string, adding: number, owner: string | undefined): void {
  const held = (where: SQL) =>
    Number(
      ctx.db
        .select({ n: sql<number>`coalesce(sum(${chunks.size}), 0)` })
        .from(chunks)
        .innerJoin(jobs, eq(jobs.id, chunks.job))
        .where(where)
        .get()?.n ?? 0,
    );
  const perJob = held(eq(chunks.job, jobId));
  if (perJob + adding > ctx.cfg.maxUncommittedPerJob) {
    throw tooLarge(
      `job ${jobId} holds ${perJob} bytes of chunks not yet committed; with this one it would exceed the limit of ${ctx.cfg.maxUncommittedPerJob} bytes per job: commit (attach) what was uploaded first`,
    );
  }
  if (owner === undefined) return;
  const perUser = held(eq(jobs.owner, owner));
  if (perUser + adding > ctx.cfg.maxUncommittedPerUser) {
    throw tooLarge(
      `your jobs hold ${perUser} bytes of chunks not yet committed; with this one it would exceed the limit of ${ctx.cfg.maxUncommittedPerUser} bytes per user: attach or cancel those uploads first`,
    );
  }
}

/**
 * Runs `record` (the database write naming a file just stored); when it throws — the database
 * locked or full — the file is removed, so that no file is left that no row names.
 */
async function unlessStored<T>(
  ctx: ServerContext,
  kind: 'chunks' | 'inputs' | 'outputs',
  job: string,
  id: string,
  record: () => T,
): Promise<T> {
  try {
    return record();
  } catch (err) {
    await ctx.files.remove(kind, job, id);
    throw err;
  }
}

/** Checks that every chunk belongs to the job and that their sizes add up to `size`. */
function checkChunks(ctx: ServerContext, jobId: string, ids: string[], size: number, what: string): void {
  if (ids.length > 100_000) throw badRequest(`${what}: too many chunks`);
  const rows = ids.length
    ? ctx.db
        .select()
        .from(chunks)
        .where(and(eq(chunks.job, jobId), inArray(chunks.id, [...new Set(ids)])))
        .all()
    : [];
  const sizes = new Map(rows.map((r) => [r.id, r.size]));
  const missing = ids.filter((c) => !sizes.has(c));
  if (missing.length)
    throw badRequest(`${what}: unknown chunk ${JSON.stringify(missing[0])} (upload chunks to this job first)`);
  const total = ids.reduce((n, c) => n + sizes.get(c)!, 0);
  if (total !== size)
    throw badRequest(`${what}: size ${size} does not match the ${ids.length} chunks given (${total} bytes)`);
}

export async function attachInput(
  ctx: ServerContext,
  job: JobRow,
  body: { name: string; size: number; chunks: string[]; commit_id: string },
): Promise<void> {
  checkInputName(body.name);
  const what = `input ${JSON.stringify(body.name)}`;
  const existing = ctx.db
    .select()
    .from(inputs)
    .where(and(eq(inputs.job, job.id), eq(inputs.name, body.name)))
    .get();
  if (existing) {
    if (existing.commitId === body.commit_id) return;
    throw conflict(`${what} is already attached to job ${job.id} (by another commit)`);
  }
  if (!job.waiting)
    throw conflict(
      `job ${job.id} is not waiting for inputs (state ${job.complete ? 'complete' : 'queued or running'})`,
    );
  if (!job.inputNames.includes(body.name)) {
    throw badRequest(
      `${what} was not declared when job ${job.id} was submitted (declared: ${job.inputNames.join(', ') || 'none'})`,
    );
  }
  if (body.size > ctx.cfg.maxBytesPerInput)
    throw badRequest(`${what}: ${body.size} bytes is over the limit of ${ctx.cfg.maxBytesPerInput} bytes per input`);
  checkChunks(ctx, job.id, body.chunks, body.size, what);
  const id = newId();
  await ctx.files.assemble('inputs', job.id, id, body.chunks);
  let duplicate = false;
  const ready = await unlessStored(ctx, 'inputs', job.id, id, () =>
    immediate(ctx.sqlite, () => {
      const again = ctx.db
        .select()
        .from(inputs)
        .where(and(eq(inputs.job, job.id), eq(inputs.name, body.name)))
        .get();
      if (again) {
        if (again.commitId === body.commit_id) {
          duplicate = true;
          return false;
        }
        throw conflict(`${what} is already attached to job ${job.id} (by another commit)`);
      }
      ctx.db
        .insert(inputs)
        .values({ id, job: job.id, name: body.name, size: body.size, commitId: body.commit_id, timeCreate: ctx.now() })
        .run();
      const have = ctx.db.select({ name: inputs.name }).from(inputs).where(eq(inputs.job, job.id)).all().length;
      const cur = ctx.db.select().from(jobs).where(eq(jobs.id, job.id)).get()!;
      if (cur.waiting && !cur.complete && have >= cur.inputNames.length) {
        ctx.db.update(jobs).set({ waiting: false, timeReady: ctx.now() }).where(eq(jobs.id, job.id)).run();
        return true;
      }
      return false;
    }),
  );
  // The same commit, attached meanwhile by a concurrent call: ours is a second copy of its body.
  if (duplicate) await ctx.files.remove('inputs', job.id, id);
  else await dropChunks(ctx, job.id, body.chunks); // assembled: the chunks are no longer needed
  ctx.log.info({ job: job.id, input: body.name, size: body.size }, 'input attached');
  if (ready) {
    ctx.bus.notify(`job:${job.id}`);
    ctx.bus.notify('queue');
    ctx.dispatch();
  }
}

export interface CommitResult {
  complete: boolean;
  error?: string | null;
}

/** Output commits: the first call starts the assembly; calls return complete once it is stored. */
export async function commitOutput(
  ctx: ServerContext,
  job: JobRow,
  body: { path: string; size: number; chunks: string[]; commit_id: string },
  holdMs = 2000,
): Promise<CommitResult> {
  const done = () =>
    ctx.db
      .select()
      .from(outputs)
      .where(and(eq(outputs.job, job.id), eq(outputs.commitId, body.commit_id)))
      .get();
  const prior = done();
  if (prior) {
    if (prior.path !== body.path || prior.size !== body.size) {
      throw badRequest(
        `commit_id ${JSON.stringify(body.commit_id)} already stored ${JSON.stringify(prior.path)} (${prior.size} bytes); use a new commit_id for another output`,
      );
    }
    return { complete: true };
  }
  let pending = ctx.pendingCommits.get(job.id)?.get(body.commit_id);
  if (!pending) {
    checkOutputPath(body.path);
    const what = `output ${JSON.stringify(body.path)}`;
    if (body.commit_id.length === 0 || body.commit_id.length > 128)
      throw badRequest('commit_id must be 1 to 128 characters');
    if (body.size > ctx.cfg.maxBytesPerOutput)
      throw badRequest(
        `${what}: ${body.size} bytes is over the limit of ${ctx.cfg.maxBytesPerOutput} bytes per output`,
      );
    checkChunks(ctx, job.id, body.chunks, body.size, what);
    const id = newId();
    const perJob = ctx.pendingCommits.get(job.id) ?? new Map<string, Promise<void>>();
    ctx.pendingCommits.set(job.id, perJob);
    pending = ctx.files.assemble('outputs', job.id, id, body.chunks).then(async () => {
      await unlessStored(ctx, 'outputs', job.id, id, () =>
        ctx.db
          .insert(outputs)
          .values({
            id,
            job: job.id,
            path: body.path,
            size: body.size,
            commitId: body.commit_id,
            timeCreate: ctx.now(),
          })
          .run(),
      );
      ctx.log.info({ job: job.id, output: id, path: body.path, size: body.size }, 'output stored');
      await dropChunks(ctx, job.id, body.chunks); // assembled: a 1 GiB output no longer takes 2 GiB
    });
    perJob.set(body.commit_id, pending);
    const forget = () => {
      perJob.delete(body.commit_id);
      if (perJob.size === 0) ctx.pendingCommits.delete(job.id);
    };
    pending.then(forget, (err) => {
      forget();
      ctx.log.error({ err, job: job.id, path: body.path }, 'output assembly failed');
    });
  }
  let failed: unknown;
  const settled = await Promise.race([
    pending.then(
      () => true,
      (err) => {
        failed = err;
        return true;
      },
    ),
    new Promise<false>((r) => setTimeout(() => r(false), holdMs).unref()),
  ]);
  if (failed) {
    // A locked database or a full disk passes: the commit is forgotten, so the client's retry
    // (same commit_id) assembles it again. Anything else is this output's final answer.
    const passing = storageError(failed);
    if (passing) throw passing;
    return { complete: true, error: `storing the output failed: ${(failed as Error).message}` };
  }
  return { complete: settled && !!done() };
}
