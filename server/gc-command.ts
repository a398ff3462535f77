// `mvm server gc --data DIR [--retention D]`: reclaims disk in a server's data folder, beside a
// running server or not (SQLite serialises the writes; files younger than an hour that no row
// names are left alone, as they may be writes in flight).
import { join } from 'node:path';
import { openDb } from '../shared/db.js';
import { rootLogger } from '../shared/log.js';
import { projectPath } from '../shared/paths.js';
import { schema } from './db/schema.js';
import { FileStore } from './model/files.js';
import { collectGarbage } from './model/gc.js';

export async function runGc(dataDir: string, retentionMs: number | undefined, json = false): Promise<void> {
  const opened = openDb(join(dataDir, 'server.sqlite'), schema, {
    migrationsFolder: projectPath('server', 'migrations'),
    busyTimeoutMs: 5000,
  });
  try {
    const r = await collectGarbage(
      {
        sqlite: opened.sqlite,
        db: opened.db,
        files: new FileStore(dataDir),
        log: rootLogger().child({ component: 'gc' }),
        now: Date.now,
      },
      { ...(retentionMs !== undefined ? { retentionMs } : {}), orphanAgeMs: 3_600_000 },
    );
    if (json) {
      const { bytes, chunks, expiredJobs, orphans } = r;
      process.stdout.write(JSON.stringify({ bytes, chunks, expired_jobs: expiredJobs, orphans }) + '\n');
      return;
    }
    process.stdout.write(
      `reclaimed ${r.bytes} bytes: ${r.chunks} chunks of ended jobs, ${r.expiredJobs} jobs past retention, ${r.orphans} files no row named\n`,
    );
  } finally {
    opened.close();
  }
}
