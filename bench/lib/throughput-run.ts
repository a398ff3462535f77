// The throughput workload, shared by the throughput bench and the footprint bench (which samples
// the server and factory while it runs): N short jobs queued at once — submitted while dispatch is
// on hold, then released together — on a lab of T testbeds, until every job has ended. Afterwards
// the server's job times and the factory's instance rows say how long it took and how much testbed
// time went unused while jobs were waiting.
import type { Job } from '../../shared/api/types.js';
import { FactoryDbReader, type InstanceTimes } from './factory-db.js';
import type { BenchLab } from './lab.js';
import { median, round, summarize, type Summary } from './stats.js';
import { waitFor } from './wait.js';

/** The lab size of the throughput workload. */
export const THROUGHPUT_TESTBEDS = 20;

export interface ThroughputFigures {
  jobs: number;
  testbeds: number;
  failed_jobs: number;
  /** From the release of the queue to the last job's completion. */
  duration_s: number;
  jobs_per_min: number;
  /** Release → completion, per job. */
  job_s: Summary;
  /** Release → the factory took a testbed for the job (its instance created). */
  wait_s: Summary;
  /** Release → the factory had an instance on every testbed (or on one per job, when fewer). */
  all_testbeds_taken_s: number;
  /** Testbed-seconds a testbed was free while at least one job waited for one. */
  idle_while_queued_testbed_s: number;
  /** The same, counting at most one free testbed per waiting job (what could have been used). */
  idle_usable_testbed_s: number;
  /** Share of the testbed time during the run spent with an instance on it. */
  testbed_busy_pct: number;
  /** Median per step of an instance's life, and the gap before a freed testbed got its next job. */
  instance_p50_ms: Record<string, number>;
}

export async function throughputRun(lab: BenchLab, jobs: number): Promise<ThroughputFigures> {
  const admin = lab.server.admin;
  await admin.post('/0/control/hold');
  const ids: string[] = [];
  for (let i = 0; i < jobs; i++) ids.push(await lab.submit('echo hi', `throughput-${i}`));
  const released = Date.now();
  await admin.post('/0/control/resume');
  await waitFor(
    async () => (await admin.get<unknown[]>('/0/admin/jobs', { query: { active: true } })).length === 0,
    `${jobs} jobs to end`,
    20 * 60_000,
    250,
  );

  const all = await Promise.all(ids.map((id) => lab.user.getJob(id)));
  const db = new FactoryDbReader(lab.dbFile);
  const ours = new Set(ids);
  const instances = db.instances().filter((i) => i.job !== null && ours.has(i.job));
  db.close();
  const complete = (j: Job) => Date.parse(j.times!.complete!);
  // A job waits for a testbed until the factory creates its instance (the server assigns it to the
  // worker only later, once the agent has bootstrapped).
  const createdFor = new Map(instances.map((i) => [i.job, i.createdAt]));
  const taken = (j: Job) => createdFor.get(j.id) ?? Date.parse(j.times!.assigned ?? j.times!.complete!);
  const end = Math.max(...all.map(complete));
  const idle = idleTime(all, taken, instances, lab.testbeds, released, end);
  const durationS = (end - released) / 1000;
  return {
    jobs,
    testbeds: lab.testbeds,
    failed_jobs: all.filter((j) => j.state !== 'completed').length,
    duration_s: round(durationS, 2),
    jobs_per_min: round((jobs / durationS) * 60),
    job_s: summarize(
      all.map((j) => (complete(j) - released) / 1000),
      2,
    ),
    wait_s: summarize(
      all.map((j) => (taken(j) - released) / 1000),
      2,
    ),
    all_testbeds_taken_s: round((fillTime(instances, Math.min(jobs, lab.testbeds)) - released) / 1000, 2),
    idle_while_queued_testbed_s: round(idle.anyWaiting / 1000, 2),
    idle_usable_testbed_s: round(idle.usable / 1000, 2),
    testbed_busy_pct: round((idle.busy / (lab.testbeds * (end - released))) * 100),
    instance_p50_ms: instanceSteps(instances),
  };
}

/**
 * Sweeps the run's timeline: a job waits from the release until the factory took a testbed for it;
 * a testbed is taken from its instance's creation until the instance was destroyed (free again).
 */
function idleTime(
  jobs: Job[],
  taken: (j: Job) => number,
  instances: InstanceTimes[],
  testbeds: number,
  from: number,
  to: number,
) {
  const changes: Array<[number, number, number]> = []; // [time, Δwaiting, Δbusy]
  for (const j of jobs) changes.push([from, 1, 0], [taken(j), -1, 0]);
  for (const i of instances) changes.push([i.createdAt, 0, 1], [i.destroyedAt ?? to, 0, -1]);
  changes.sort((a, b) => a[0] - b[0]);
  let waiting = 0;
  let busy = 0;
  let last = from;
  const out = { anyWaiting: 0, usable: 0, busy: 0 };
  for (const [t, dw, db] of changes) {
    const dt = Math.max(0, Math.min(t, to) - Math.max(last, from));
    const free = Math.max(0, testbeds - busy);
    if (waiting > 0) out.anyWaiting += free * dt;
    out.usable += Math.min(free, waiting) * dt;
    out.busy += Math.min(busy, testbeds) * dt;
    last = Math.max(last, t);
    waiting += dw;
    busy += db;
  }
  return out;
}

/** When the n-th instance of the run was created. */
function fillTime(instances: InstanceTimes[], n: number): number {
  return instances.map((i) => i.createdAt).sort((a, b) => a - b)[n - 1] ?? NaN;
}

function instanceSteps(instances: InstanceTimes[]): Record<string, number> {
  const steps: Record<string, number[]> = {
    created_to_running: [],
    running_to_destroying: [],
    destroying_to_destroyed: [],
    freed_to_next_created: [],
  };
  const byTestbed = new Map<string, InstanceTimes[]>();
  for (const i of instances) {
    if (i.runningAt !== null) steps.created_to_running.push(i.runningAt - i.createdAt);
    if (i.runningAt !== null && i.destroyingAt !== null) steps.running_to_destroying.push(i.destroyingAt - i.runningAt);
    if (i.destroyingAt !== null && i.destroyedAt !== null)
      steps.destroying_to_destroyed.push(i.destroyedAt - i.destroyingAt);
    byTestbed.set(i.testbed, [...(byTestbed.get(i.testbed) ?? []), i]);
  }
  for (const list of byTestbed.values()) {
    list.sort((a, b) => a.createdAt - b.createdAt);
    for (let k = 1; k < list.length; k++)
      if (list[k - 1].destroyedAt !== null)
        steps.freed_to_next_created.push(list[k].createdAt - list[k - 1].destroyedAt!);
  }
  return Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, round(median(v))]));
}
