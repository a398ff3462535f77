// The job server's Prometheus metrics, read from its database at scrape time: jobs by state,
// queue depth per target, submit→assign latency (jobs assigned since the last scrape are observed
// into the histogram), events appended, bytes stored and workers by state. Labels are states,
// targets and kinds only — never job or worker ids.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { withProcessMetrics } from '../../shared/observe/process-metrics.js';
import type { ServerContext } from '../context.js';

export const SERVER_METRIC_NAMES = [
  'mvm_server_jobs',
  'mvm_server_queue_depth',
  'mvm_server_job_assign_latency_seconds',
  'mvm_server_events_appended_total',
  'mvm_server_stored_bytes',
  'mvm_server_workers',
  'mvm_server_held_pings',
  'mvm_server_hold',
] as const;

/** Latency buckets: event-driven dispatch takes milliseconds, a busy lab minutes. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

export function buildServerMetrics(ctx: ServerContext, opts: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  const all = <T>(sql: string, ...params: unknown[]) => ctx.sqlite.prepare(sql).all(...params) as T[];

  new Gauge({
    name: 'mvm_server_jobs',
    help: 'Jobs by state (queued, waiting, running, completed, failed)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts: Record<string, number> = { queued: 0, waiting: 0, running: 0, completed: 0, failed: 0 };
      for (const r of all<{ state: string; n: number }>(
        `select case when failed then 'failed' when complete then 'completed' when worker is not null then 'running'
                     when waiting then 'waiting' else 'queued' end as state, count(*) as n from jobs group by state`,
      ))
        counts[r.state] = r.n;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'mvm_server_queue_depth',
    help: 'Jobs ready to run and not yet assigned, per target (after redirects)',
    labelNames: ['target'],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of all<{ name: string }>('select name from targets')) this.set({ target: t.name }, 0);
      for (const r of all<{ target: string; n: number }>(
        `select t.name as target, count(*) as n from jobs j join targets t on t.id = j.target_id
          where not j.complete and not j.failed and not j.waiting and j.worker is null group by t.name`,
      ))
        this.set({ target: r.target }, r.n);
    },
  });

  // Jobs assigned since the last scrape, found by (time_assigned, id) after a cursor that starts now.
  let cursor = { at: ctx.now(), id: '' };
  const latency = new Histogram({
    name: 'mvm_server_job_assign_latency_seconds',
    help: 'From submit to assignment to a worker, for jobs assigned since the server started',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
    collect() {
      const rows = all<{ id: string; submit: number; assigned: number }>(
        `select id, time_submit as submit, time_assigned as assigned from jobs
          where time_assigned > ? or (time_assigned = ? and id > ?) order by time_assigned, id`,
        cursor.at,
        cursor.at,
        cursor.id,
      );
      for (const r of rows) latency.observe(Math.max(0, r.assigned - r.submit) / 1000);
      const last = rows.at(-1);
      if (last) cursor = { at: last.assigned, id: last.id };
    },
  });
  new Counter({
    name: 'mvm_server_events_appended_total',
    help: 'Job events stored (console output, control messages), since the database was made',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(all<{ n: number | null }>('select sum(event_seq) as n from jobs')[0]?.n ?? 0);
    },
  });
  new Gauge({
    name: 'mvm_server_stored_bytes',
    help: 'Bytes of file bodies stored, by kind (chunks, inputs, outputs)',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      for (const kind of ['chunks', 'inputs', 'outputs'])
        this.set({ kind }, all<{ n: number | null }>(`select sum(size) as n from ${kind}`)[0]?.n ?? 0);
    },
  });
  new Gauge({
    name: 'mvm_server_workers',
    help: 'Workers not yet deleted by their factory, by state (starting, idle, busy, recycled)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts: Record<string, number> = { starting: 0, idle: 0, busy: 0, recycled: 0 };
      for (const r of all<{ state: string; n: number }>(
        `select case when recycle then 'recycled' when job is not null then 'busy' when token_hash is not null then 'idle'
                     else 'starting' end as state, count(*) as n from workers where not deleted group by state`,
      ))
        counts[r.state] = r.n;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'mvm_server_held_pings',
    help: 'Worker pings held open right now (long-poll)',
    registers: [registry],
    collect() {
      this.set(ctx.heldPings.size);
    },
  });
  new Gauge({
    name: 'mvm_server_hold',
    help: '1 while new leases are on hold (POST /0/control/hold)',
    registers: [registry],
    collect() {
      this.set(ctx.hold ? 1 : 0);
    },
  });
  return opts.processMetrics === false ? registry : withProcessMetrics(registry);
}
