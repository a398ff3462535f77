// `mvm factory -f config.toml -d data.sqlite3`: load and check the config, open the database,
// resolve targets, then run the loop until SIGTERM (drain) or a second signal (stop now).
import { dirname, join, resolve } from 'node:path';
import { FactoryClient } from '../shared/buildomat/factory.js';
import { ConfigError, describeError, MvmError } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/log.js';
import { retry } from '../shared/retry.js';
import { installShutdown } from '../shared/shutdown.js';
import { Waker } from '../shared/sleep.js';
import { loadConfig } from './config/load.js';
import type { FactoryConfig } from './config/types.js';
import { startApi, type RunningApi } from './api/serve.js';
import { buildExecutors } from './executors.js';
import { FactoryStore } from './store.js';
import { LockDirectory } from './lock-directory.js';
import type { OrphanRunner } from './executor/ssh/executor.js';
import { lockDatabase } from './db-lock.js';
import { checkFactoryToken } from './token-check.js';
import { testbedLockDir } from '../shared/testbed-locks.js';
import { runLoop } from './loop.js';
import { serverHttp } from './server-http.js';
import { resolveTargets } from './targets.js';
import { Factory } from './tick.js';

export interface CheckResult {
  config: FactoryConfig;
  summary: string;
  counts: { testbeds: number; devices: number; targets: number };
  warnings: string[];
}

/**
 * `--check` with the job server reachable: is the factory token accepted? A refusal throws
 * (exit 1 with the factory's hint); an unreachable server is only mentioned.
 */
/** Whether the job server accepts the factory token: true, or null when it could not be asked. */
export async function checkServer(config: FactoryConfig): Promise<{ accepted: boolean | null; message: string }> {
  try {
    await checkFactoryToken(config, AbortSignal.timeout(10_000));
    return { accepted: true, message: `job server ${config.baseUrl}: the factory token is accepted` };
  } catch (err) {
    if (err instanceof MvmError && err.code === 'CONFIG_INVALID') throw err;
    return {
      accepted: null,
      message: `job server ${config.baseUrl}: not reachable, the factory token was not checked (${describeError(err)})`,
    };
  }
}

/** `--check`: validates the file; throws ConfigError listing every problem. */
export function checkConfig(file: string): CheckResult {
  const config = loadConfig(file);
  const devices = config.testbeds.reduce((n, t) => n + t.devices.length, 0);
  const ok = `${config.file}: ok (${config.testbeds.length} testbed${config.testbeds.length === 1 ? '' : 's'}, ${devices} device${devices === 1 ? '' : 's'}, ${config.targets.length} target${config.targets.length === 1 ? '' : 's'})`;
  const warnings = config.warnings ?? [];
  return {
    config,
    summary: [ok, ...warnings.map((w) => `warning: ${w}`)].join('\n'),
    counts: { testbeds: config.testbeds.length, devices, targets: config.targets.length },
    warnings,
  };
}

/** The key lock credentials are derived from, beside the database (0600). */
export const LOCK_KEY_FILE = 'factory-lock-key';

export function instanceRoot(config: FactoryConfig, dbFile: string): string {
  return config.workdir ?? join(dirname(resolve(dbFile)), 'instances');
}

export async function runFactory(
  configFile: string,
  dbFile: string,
  log: Logger = createLogger({ name: 'factory' }),
): Promise<void> {
  const config = loadConfig(configFile);
  for (const w of config.warnings ?? []) log.warn(w);
  const h = config.health;
  const dbLock = lockDatabase(resolve(dbFile));
  let store: FactoryStore;
  try {
    store = FactoryStore.open(resolve(dbFile), undefined, {
      badAfter: h.badAfter,
      retryMs: h.retryMs,
      intervalMs: h.intervalMs,
    });
  } catch (err) {
    dbLock.release();
    throw err;
  }
  const shutdown = installShutdown(log);
  const waker = new Waker();
  const journalOrphans = (stopped: OrphanRunner[]) => {
    for (const o of stopped) {
      store.journal(
        'runner-orphan-stopped',
        `stopped a restore or health-check runner (pid ${o.pid}) a previous factory left running: ${o.outcome}; the operation runs again`,
        { testbed: o.testbed },
      );
      log.warn(
        { testbed: o.testbed, pid: o.pid, outcome: o.outcome },
        'stopped an orphaned runner left by a previous factory',
      );
    }
  };
  const executors = await buildExecutors(config, instanceRoot(config, dbFile), log, () => waker.wake(), journalOrphans);
  let factory: Factory | undefined;
  let api: RunningApi | undefined;
  try {
    store.syncTestbeds(config.testbeds);
    journalOrphans(await executors.stopOrphanRunners(shutdown.graceful));
    const client = new FactoryClient(serverHttp(config, config.token));
    // The server may start after the factory: keep trying while it is unreachable (until a signal).
    const targets = await retry(
      async () => {
        await checkFactoryToken(config, shutdown.graceful);
        return resolveTargets(config, shutdown.graceful);
      },
      {
        attempts: Infinity,
        baseMs: 500,
        maxMs: 10_000,
        signal: shutdown.graceful,
        retryable: (err) => !(err instanceof ConfigError) && err instanceof MvmError && err.retryable,
        onRetry: (err, attempt, delayMs) =>
          log.warn({ err: describeError(err), attempt, delayMs }, 'cannot resolve targets yet; retrying'),
      },
    ).catch((err) => {
      if (shutdown.graceful.aborted) return undefined;
      throw err;
    });
    if (!targets) {
      log.info('stopped before the first pass');
      return;
    }
    const locks = new LockDirectory(
      testbedLockDir(),
      join(dirname(resolve(dbFile)), LOCK_KEY_FILE),
      config.testbeds,
      store,
      log,
      (name) => {
        const ex = executors.executorFor(name);
        return ex.publishLock ? ex : undefined;
      },
    );
    locks.sync();
    factory = new Factory({
      config,
      store,
      client,
      targets,
      executorFor: executors.executorFor,
      log,
      onProgress: () => waker.wake(),
      locks,
    });
    api = await startApi({
      config,
      store,
      factory,
      dbFile: resolve(dbFile),
      log,
      credential: (holder) => locks.credential(holder),
      onChange: () => {
        locks.sync();
        waker.wake();
      },
    });
    for (const i of store.liveInstances()) {
      if (i.agentPid !== null)
        log.info(
          { instance: i.id, testbed: i.testbed, pid: i.agentPid, state: i.state },
          'found a live instance from before; checking its agent',
        );
    }
    log.info({ baseUrl: config.baseUrl, testbeds: config.testbeds.length, db: resolve(dbFile) }, 'factory starting');
    await runLoop(factory, {
      pollIntervalMs: config.pollIntervalMs,
      leaseWaitMs: config.leaseWaitMs,
      drainTimeoutMs: config.drainTimeoutMs,
      graceful: shutdown.graceful,
      force: shutdown.force,
      waker,
      log,
      onStarted: () => process.stdout.write('mvm factory started\n'),
    });
  } finally {
    await api?.close();
    await factory?.close();
    await executors.close();
    shutdown.dispose();
    store.close();
    dbLock.release();
  }
}
