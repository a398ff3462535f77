// factory-tick: the cost of one factory pass (factory/tick.ts `Factory.tick()`) with 1,000
// configured testbeds and a growing history of destroyed instances (0, 100k, 1M rows written
// straight into the SQLite file), against an in-process fake of the factory API so that the
// figure is the factory's own cost. Two kinds of pass per history size:
//   idle — nothing queued: the pass reads the live instances and free testbeds, asks for a lease;
//   busy — one job leased per pass, each job over JOB_TICKS passes later: the pass also creates,
//          carries forward and destroys instances (about JOB_TICKS live at a time).
// The SQL statements a pass prepares are collected and run through EXPLAIN QUERY PLAN, so a pass
// that grows with history names the statement that scans it.
// Run: npx tsc -p . && node dist/bench/run.js factory-tick [--quick]
import type Database from 'better-sqlite3';
import { statSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ulid } from 'ulid';
import { FactoryClient } from '../shared/buildomat/factory.js';
import { createLogger } from '../shared/log.js';
import { loadConfig } from '../factory/config/load.js';
import type { Executor } from '../factory/executor/types.js';
import { FactoryStore } from '../factory/store.js';
import { readStatus } from '../factory/status.js';
import { resolveTargets } from '../factory/targets.js';
import { Factory } from '../factory/tick.js';
import { runBench } from './lib/bench.js';
import { startFakeFactoryApi, type FakeFactoryApi } from './lib/fake-factory-api.js';
import { factoryConfig, TARGET } from './lib/lab.js';
import { median, round, summarize, type Summary } from './lib/stats.js';
import { waitFor } from './lib/wait.js';

const TESTBEDS = 1000;
const JOB_TICKS = 10;
const TARGET_MS = 10;
/** A pass is "flat" when its median at the largest history is within this factor of the empty one. */
const FLAT_FACTOR = 1.5;

runBench('factory-tick', async (ctx) => {
  const sizes = ctx.quick ? [0, 10_000] : [0, 100_000, 1_000_000];
  const ticks = ctx.quick ? 30 : 300;
  const api = await startFakeFactoryApi({ targetName: TARGET, jobTicks: JOB_TICKS });
  const dir = ctx.subdir('factory');
  const configFile = join(dir, 'factory.toml');
  const dbFile = join(dir, 'factory.sqlite3');
  writeFileSync(
    configFile,
    factoryConfig(
      { baseUrl: api.url, adminToken: 'bench-admin', factoryToken: 'bench-factory', testbeds: TESTBEDS },
      configFile,
    ),
  );
  const config = loadConfig(configFile);
  const store = FactoryStore.open(dbFile);
  store.syncTestbeds(config.testbeds);
  const warnings = collectWarnings();
  const factory = new Factory({
    config,
    store,
    client: new FactoryClient({ baseUrl: api.url, token: config.token }),
    targets: await resolveTargets(config),
    executorFor: () => fakeExecutor(dir),
    log: warnings.logger,
  });
  const sqlite = store.opened.sqlite;
  const phases = timePhases(factory);
  let errors = 0;
  const pass = async () => {
    api.tick();
    const t0 = performance.now();
    errors += (await factory.tick({ lease: true, leaseWaitMs: 0 })).errors;
    return performance.now() - t0;
  };
  try {
    // New testbeds may need their first health check (one with no devices passes at once).
    await waitFor(
      async () => (await pass(), readStatus(dbFile).testbeds.every((t) => t.state === 'free')),
      'every testbed free',
      300_000,
      0,
    );

    const history: Array<{
      instances: number;
      insert_s: number;
      db_mb: number;
      idle_ms: Summary;
      idle_phases_p50_ms: Record<string, number>;
      busy_ms: Summary;
      busy_live_instances: number;
    }> = [];
    let inserted = 0;
    for (const size of sizes) {
      const t0 = performance.now();
      insertHistory(sqlite, size - inserted);
      inserted = size;
      const insertS = round((performance.now() - t0) / 1000);
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
      const idle: number[] = [];
      phases.reset();
      for (let i = 0; i < ticks; i++) idle.push(await pass());
      const idlePhases = phases.medians();
      const busy = await busyPasses(api, pass, ticks);
      const live = store.liveInstances().length;
      await drain(api, store, pass);
      history.push({
        instances: size,
        insert_s: insertS,
        db_mb: round(statSync(dbFile).size / 1048576),
        idle_ms: summarize(idle, 2),
        idle_phases_p50_ms: idlePhases,
        busy_ms: summarize(busy, 2),
        busy_live_instances: live,
      });
    }
    const plans = await queryPlans(sqlite, api, pass);
    await drain(api, store, pass);
    const first = history[0];
    const last = history[history.length - 1];
    const growth = {
      idle: round(last.idle_ms.p50 / first.idle_ms.p50, 2),
      busy: round(last.busy_ms.p50 / first.busy_ms.p50, 2),
    };
    return {
      testbeds: TESTBEDS,
      passes_per_size: ticks,
      job_passes: JOB_TICKS,
      history,
      target_ms: TARGET_MS,
      met: {
        idle_p50: history.every((h) => h.idle_ms.p50 <= TARGET_MS),
        busy_p50: history.every((h) => h.busy_ms.p50 <= TARGET_MS),
      },
      growth_p50_x: growth,
      flat: growth.idle <= FLAT_FACTOR && growth.busy <= FLAT_FACTOR,
      pass_errors: errors,
      warnings: warnings.seen,
      unanswered_calls: Object.fromEntries(api.unknown),
      statements: plans.statements,
      full_scans: plans.scans,
    };
  } finally {
    await factory.close();
    store.close();
    await api.close();
  }
});

/** A logger that keeps the distinct warnings of the passes (a failed phase says why here). */
function collectWarnings() {
  const seen: Record<string, number> = {};
  const logger = createLogger({
    level: 'warn',
    pretty: false,
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        const line = JSON.parse(chunk.toString('utf8')) as { msg?: string; err?: string };
        const key = `${line.msg ?? ''}${line.err ? `: ${line.err}` : ''}`.slice(0, 300);
        seen[key] = (seen[key] ?? 0) + 1;
        done();
      },
    }),
  });
  return { logger, seen };
}

/**
 * Times each phase of a pass by wrapping the factory's private `step` (which runs one phase): a
 * bench-only instrument that says which phase costs what. Missing (renamed), it times nothing.
 */
function timePhases(factory: Factory) {
  const times = new Map<string, number[]>();
  const f = factory as unknown as { step?: (r: unknown, what: string, ...rest: unknown[]) => Promise<void> };
  const step = f.step;
  if (typeof step === 'function') {
    f.step = async function (this: unknown, r: unknown, what: string, ...rest: unknown[]) {
      const t0 = performance.now();
      try {
        return await step.call(this, r, what, ...rest);
      } finally {
        const list = times.get(what) ?? [];
        list.push(performance.now() - t0);
        times.set(what, list);
      }
    };
  }
  return {
    reset: () => times.clear(),
    medians: () => Object.fromEntries([...times].map(([what, v]) => [what, round(median(v), 2)])),
  };
}

/** An executor whose agents start at once and never end on their own (the fake server ends the jobs). */
function fakeExecutor(dir: string): Executor {
  // A pid no process can have (above Linux's pid_max): were anything to signal it, nothing happens.
  const handle = () => ({ pid: 2_000_000_000, pgid: 2_000_000_000, startedAt: Date.now() });
  return {
    start: async () => handle(),
    isRunning: async () => true,
    exitStatus: () => undefined,
    adopt: async () => undefined,
    stop: async () => ({ outcome: 'gone' }),
    workdir: (id) => join(dir, id),
    onExit: () => undefined,
    runRunner: async () => ({ code: 0, signal: null, stdout: '{"ok":true}', stderr: '', timedOut: false }),
    infraReport: async () => '',
    cleanup: async () => undefined,
  };
}

/** One job queued per pass; measured once the number of live instances has settled. */
async function busyPasses(api: FakeFactoryApi, pass: () => Promise<number>, ticks: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < 2 * JOB_TICKS + ticks; i++) {
    api.queue(1);
    const ms = await pass();
    if (i >= 2 * JOB_TICKS) out.push(ms);
  }
  return out;
}

/** Passes until every job is over and every instance destroyed, so history can be added. */
async function drain(api: FakeFactoryApi, store: FactoryStore, pass: () => Promise<number>): Promise<void> {
  await waitFor(
    async () => (await pass(), store.liveInstances().length === 0 && api.liveWorkers() === 0),
    'the busy instances to end',
    120_000,
    0,
  );
}

/** History ids need no cryptographic randomness; ulid's default (crypto per character) costs ~40 µs an id. */
const fastRandom = (): number => Math.random();

/** Appends `n` destroyed instances, spread over the testbeds, numbered after what each already has. */
function insertHistory(sqlite: Database.Database, n: number): void {
  if (n <= 0) return;
  const seq = new Map(
    (
      sqlite.prepare('select testbed, max(seq) as seq from instances group by testbed').all() as Array<{
        testbed: string;
        seq: number;
      }>
    ).map((r) => [r.testbed, r.seq]),
  );
  const target = ulid(Date.now(), fastRandom);
  const insert = sqlite.prepare(
    `insert into instances (id, testbed, seq, target, job, worker_id, state, created_at, running_at, destroying_at, destroyed_at,
       updated_at, reason, associated, agent_pid, agent_pgid, agent_started_at, stop_outcome, worker_deleted)
     values (?, ?, ?, ?, ?, ?, 'destroyed', ?, ?, ?, ?, ?, 'worker recycled: job over', 1, ?, ?, ?, 'gone', 1)`,
  );
  const start = Date.now() - n * 60_000; // a job a minute, in the past
  const batch = sqlite.transaction((from: number, to: number) => {
    for (let k = from; k < to; k++) {
      const testbed = `tb${(k % TESTBEDS) + 1}`;
      const s = (seq.get(testbed) ?? 0) + 1;
      seq.set(testbed, s);
      const t = start + k * 60_000;
      insert.run(
        ulid(t, fastRandom),
        testbed,
        s,
        target,
        ulid(t, fastRandom),
        ulid(t, fastRandom),
        t,
        t + 1_000,
        t + 50_000,
        t + 52_000,
        t + 52_000,
        40_000 + (k % 1000),
        40_000 + (k % 1000),
        t + 500,
      );
    }
  });
  for (let from = 0; from < n; from += 50_000) batch(from, Math.min(n, from + 50_000));
}

/**
 * The statements one idle and a few busy passes prepare, each through EXPLAIN QUERY PLAN (with a
 * placeholder value for every parameter); the plans that scan a whole table of history are listed.
 */
async function queryPlans(sqlite: Database.Database, api: FakeFactoryApi, pass: () => Promise<number>) {
  const seen = new Set<string>();
  const prepare = sqlite.prepare;
  sqlite.prepare = function (this: Database.Database, source: string) {
    seen.add(source);
    return prepare.call(this, source);
  } as typeof sqlite.prepare;
  try {
    await pass();
    for (let i = 0; i < JOB_TICKS + 2; i++) {
      api.queue(1);
      await pass();
    }
  } finally {
    sqlite.prepare = prepare;
  }
  const scans: Array<{ sql: string; plan: string[] }> = [];
  for (const source of seen) {
    let plan: string[];
    try {
      const params = Array.from({ length: (source.match(/\?/g) ?? []).length }, () => 'x');
      plan = (sqlite.prepare(`EXPLAIN QUERY PLAN ${source}`).all(...params) as Array<{ detail: string }>).map(
        (r) => r.detail,
      );
    } catch {
      continue; // not a statement EXPLAIN takes (a pragma)
    }
    // Only tables that grow with history matter: the testbeds table is the size of the config.
    if (plan.some((d) => /^SCAN (instances|events)\b/.test(d) && !/USING (COVERING )?INDEX instances_live/.test(d)))
      scans.push({ sql: source.slice(0, 300), plan });
  }
  return { statements: seen.size, scans };
}
