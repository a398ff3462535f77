// Running the job server: open the database and file store, set up the admin token, serve HTTP,
// dispatch on events plus a slow safety tick, and close cleanly on SIGTERM/SIGINT.
import { join } from 'node:path';
import { openDb } from '../shared/db.js';
import { MvmError } from '../shared/errors.js';
import { rootLogger, type Logger } from '../shared/log.js';
import { projectPath } from '../shared/paths.js';
import { installShutdown } from '../shared/shutdown.js';
import { Bus } from './bus.js';
import { closeServerNow } from '../shared/http-close.js';
import type { ServerConfig } from './config.js';
import type { ServerContext } from './context.js';
import { schema } from './db/schema.js';
import { buildApp } from './http/app.js';
import { assignQueued } from './model/dispatch.js';
import { FileStore } from './model/files.js';
import { Leases } from './model/leases.js';
import { ensureAdminToken } from './model/principals.js';
import { reap } from './model/reaper.js';
import { collectGarbage } from './model/gc.js';

/** How long a write waits for a lock another process holds on the database, ms. */
export const BUSY_TIMEOUT_MS = 50;

export interface RunningServer {
  url: string;
  ctx: ServerContext;
  /** The admin token when it was created by this start (to show once), else undefined. */
  newAdminToken: string | undefined;
  /** Runs the safety tick now: timeouts, lapsed leases, dispatch, disk reclaiming (tests moving the clock). */
  tick(): void;
  /** Stops serving, ends held calls, waits for output assemblies and closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  adminToken?: string;
  /** The clock for every stored time and timeout (default: Date.now; tests move their own). */
  now?: () => number;
}

export async function startServer(cfg: ServerConfig, opts: StartOptions = {}): Promise<RunningServer> {
  const log = (opts.log ?? rootLogger()).child({ component: 'server' });
  // The server is one thread with one connection, so only another process can hold a lock — and
  // SQLite waits for it synchronously, stalling every request, held pings and reads included (a
  // 5 s busy timeout stalled a busy server for minutes: test/faults/sqlite-lock.test.ts). So wait
  // only a moment, then answer 503, which every client retries with backoff.
  const opened = openDb(join(cfg.dataDir, 'server.sqlite'), schema, {
    migrationsFolder: projectPath('server', 'migrations'),
    busyTimeoutMs: BUSY_TIMEOUT_MS,
  });
  const files = new FileStore(cfg.dataDir);
  try {
    await files.init();
  } catch (err) {
    opened.close();
    throw new MvmError('IO', `cannot prepare the file store in ${cfg.dataDir}: ${(err as Error).message}`, {
      cause: err,
      hint: 'check that the --data folder is writable',
    });
  }
  const stopping = new AbortController();
  const now = opts.now ?? Date.now;
  let dispatching = false;
  const ctx: ServerContext = {
    cfg,
    sqlite: opened.sqlite,
    db: opened.db,
    files,
    bus: new Bus(),
    leases: new Leases(cfg.leaseMs, now),
    log,
    now,
    pendingCommits: new Map(),
    hold: false,
    heldPings: new Map(),
    stopping: stopping.signal,
    dispatch: () => {
      if (dispatching) return; // re-entered from a notify during assignment: the running pass covers it
      dispatching = true;
      try {
        assignQueued(ctx);
      } catch (err) {
        log.error({ err }, 'dispatch failed; the next event or tick retries');
      } finally {
        dispatching = false;
      }
    },
  };
  const newAdminToken = ensureAdminToken(ctx, opts.adminToken);

  const app = buildApp(ctx);
  try {
    await app.listen({ host: cfg.host, port: cfg.port });
  } catch (err) {
    opened.close();
    throw new MvmError('IO', `cannot listen on ${cfg.host}:${cfg.port}: ${(err as Error).message}`, {
      cause: err,
      hint: 'pick another --listen address, or stop the program using that port',
    });
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
  const url = `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${port}`;

  const gc = gcLoop(ctx);
  let closed = false;
  const safetyTick = () => {
    if (closed) return;
    try {
      reap(ctx);
      ctx.dispatch();
    } catch (err) {
      log.error({ err }, 'safety tick failed; retrying on the next one');
    }
    gc.run();
  };
  const tick = setInterval(safetyTick, cfg.tickMs);
  ctx.dispatch();

  return {
    url,
    ctx,
    newAdminToken,
    tick: safetyTick,
    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(tick);
      stopping.abort(new Error('server shutting down'));
      ctx.bus.wakeAll();
      await closeServerNow(app.server, () => app.close());
      // Let output assemblies in flight finish so nothing acknowledged is lost.
      await Promise.allSettled([...ctx.pendingCommits.values()].flatMap((m) => [...m.values()]));
      await gc.settled();
      opened.close();
      log.info('server stopped');
    },
  };
}

/**
 * Disk reclaiming on the safety tick: chunks of ended jobs at most every 5 s; with a retention
 * period, old jobs' files and events (and files no row names) hourly. One run at a time.
 */
function gcLoop(ctx: ServerContext): { run(): void; settled(): Promise<void> } {
  let running: Promise<void> | undefined;
  let lastPurge = 0;
  let lastRetention = 0;
  return {
    run() {
      const now = ctx.now();
      if (running || now - lastPurge < 5000) return;
      lastPurge = now;
      const retention = ctx.cfg.retentionMs !== undefined && now - lastRetention >= 3_600_000;
      if (retention) lastRetention = now;
      running = collectGarbage(ctx, retention ? { retentionMs: ctx.cfg.retentionMs, orphanAgeMs: 3_600_000 } : {})
        .then(
          () => undefined,
          (err) => ctx.log.warn({ err }, 'reclaiming disk failed; retrying on a later tick'),
        )
        .finally(() => (running = undefined));
    },
    /** The run in flight, if any, has ended (the database may close). */
    settled: () => running ?? Promise.resolve(),
  };
}

/** `mvm server`: runs until SIGTERM/SIGINT. */
export async function runServer(cfg: ServerConfig): Promise<void> {
  const log = rootLogger();
  const shutdown = installShutdown(log);
  const server = await startServer(cfg, { log, adminToken: process.env.MVM_ADMIN_TOKEN || undefined });
  if (server.newAdminToken) {
    process.stdout.write(`mvm server admin token (shown once, stored hashed): ${server.newAdminToken}\n`);
  }
  process.stdout.write(`mvm server listening on ${server.url}\n`);
  log.info({ url: server.url, data: cfg.dataDir }, 'server ready');
  await new Promise<void>((resolve) => shutdown.graceful.addEventListener('abort', () => resolve(), { once: true }));
  const forced = new Promise<void>((resolve) =>
    shutdown.force.addEventListener('abort', () => resolve(), { once: true }),
  );
  await Promise.race([server.close(), forced]);
  shutdown.dispose();
}
