// Reclaiming disk: chunks are removed once assembled into an input or output (dropChunks), the
// chunks of ended jobs are purged, and with a retention period the inputs, outputs and events of
// jobs that ended before it. `collectGarbage` runs on the server's safety tick (purges, at most
// every few seconds; retention hourly) and as `mvm server gc` on a data folder.
import { and, eq, inArray, isNotNull, lt, sql } from 'drizzle-orm';
import type Database from 'better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../shared/log.js';
import { chunks, events, inputs, jobs, outputs, type ServerSchema } from '../db/schema.js';
import type { FileKind, FileStore } from './files.js';

export interface GcDeps {
  sqlite: Database.Database;
  db: BetterSQLite3Database<ServerSchema>;
  files: FileStore;
  log: Logger;
  now(): number;
  /** Jobs with output commits being assembled: their chunks are still needed. */
  pendingCommits?: Map<string, unknown>;
}

export interface GcOptions {
  /** Inputs, outputs and events of jobs that ended longer ago than this are removed. */
  retentionMs?: number;
  /** Also remove files no row names, older than this (a file younger may be a write in flight). */
  orphanAgeMs?: number;
}

export interface GcReport {
  chunks: number;
  expiredJobs: number;
  orphans: number;
  bytes: number;
}

/** Removes chunks (rows, then files) that an assembled input or output no longer needs. */
export async function dropChunks(d: Pick<GcDeps, 'db' | 'files'>, job: string, ids: string[]): Promise<void> {
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += 500)
    d.db
      .delete(chunks)
      .where(and(eq(chunks.job, job), inArray(chunks.id, unique.slice(i, i + 500))))
      .run();
  for (const id of unique) await d.files.remove('chunks', job, id);
}

export async function collectGarbage(d: GcDeps, o: GcOptions = {}): Promise<GcReport> {
  const report: GcReport = { chunks: 0, expiredJobs: 0, orphans: 0, bytes: 0 };
  // Chunks of ended jobs: nothing can commit them any more.
  const ended = d.db
    .selectDistinct({ job: chunks.job })
    .from(chunks)
    .innerJoin(jobs, eq(jobs.id, chunks.job))
    .where(eq(jobs.complete, true))
    .all()
    .map((r) => r.job)
    .filter((j) => !d.pendingCommits?.has(j));
  for (const job of ended) {
    const rows = d.db.select({ id: chunks.id, size: chunks.size }).from(chunks).where(eq(chunks.job, job)).all();
    d.db.delete(chunks).where(eq(chunks.job, job)).run();
    await d.files.removeJob('chunks', job);
    report.chunks += rows.length;
    report.bytes += rows.reduce((n, r) => n + r.size, 0);
  }
  if (o.retentionMs !== undefined) {
    const before = d.now() - o.retentionMs;
    const old = d.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.complete, true), isNotNull(jobs.timeComplete), lt(jobs.timeComplete, before)))
      .all()
      .map((r) => r.id);
    for (const job of old) {
      const sum = (t: typeof outputs | typeof inputs) =>
        d.db
          .select({ n: sql<number>`coalesce(sum(${t.size}), 0)` })
          .from(t)
          .where(eq(t.job, job))
          .get()?.n ?? 0;
      const bytes = Number(sum(outputs)) + Number(sum(inputs));
      const hadAny =
        bytes > 0 ||
        d.db.select({ seq: events.seq }).from(events).where(eq(events.job, job)).limit(1).get() !== undefined;
      if (!hadAny) continue;
      d.sqlite.transaction(() => {
        d.db.delete(outputs).where(eq(outputs.job, job)).run();
        d.db.delete(inputs).where(eq(inputs.job, job)).run();
        d.db.delete(events).where(eq(events.job, job)).run();
      })();
      await d.files.removeJob('outputs', job);
      await d.files.removeJob('inputs', job);
      report.expiredJobs += 1;
      report.bytes += bytes;
    }
  }
  if (o.orphanAgeMs !== undefined) await removeOrphans(d, o.orphanAgeMs, report);
  if (report.chunks || report.expiredJobs || report.orphans) d.log.info({ ...report }, 'disk reclaimed');
  return report;
}

/** Files under files/<kind>/<job>/ that no row names (a crash between a write and its row). */
async function removeOrphans(d: GcDeps, ageMs: number, report: GcReport): Promise<void> {
  const tables = { chunks, inputs, outputs } as const;
  for (const kind of ['chunks', 'inputs', 'outputs'] as FileKind[]) {
    const root = join(d.files.root, kind);
    for (const job of await readdir(root).catch(() => [] as string[])) {
      const known = new Set(
        d.db
          .select({ id: tables[kind].id })
          .from(tables[kind])
          .where(eq(tables[kind].job, job))
          .all()
          .map((r) => r.id),
      );
      for (const id of await readdir(join(root, job)).catch(() => [] as string[])) {
        if (known.has(id)) continue;
        const path = join(root, job, id);
        const st = await stat(path).catch(() => undefined);
        if (!st || d.now() - st.mtimeMs < ageMs) continue;
        await rm(path, { force: true });
        report.orphans += 1;
        report.bytes += st.size;
      }
    }
  }
}
