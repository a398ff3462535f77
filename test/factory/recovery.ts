// Restart recovery, driven for real: run `mvm factory` with MVM_FAULT_POINT so it SIGKILLs itself
// at a named step, look at what it left (database, server, processes), start it again, and check
// that everything converges: the job ran once on one testbed, no worker is left, no agent runs.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { FactoryWorker } from '../../shared/api/types.js';
import { processAlive as isAlive } from './fixture.js';
import { waitFor } from '../helpers/mvm-process.js';
import { allRows, heldScript, liveRows, startFactory, type Lab } from './fixture.js';

export interface Crash {
  point: string;
  job: string;
  dbFile: string;
  gate: string;
  /** What the killed factory left. */
  rows: ReturnType<typeof allRows>;
  workers: FactoryWorker[];
  /** Agent processes alive right after the kill (pids from the database or pid files). */
  liveAgents: number[];
}

type T = Test;

/** Starts a factory that dies at `point`; `releaseEarly` lets the job finish at once (for teardown points). */
export async function crashAt(t: T, lab: Lab, point: string, releaseEarly: boolean): Promise<Crash> {
  const dir = join(lab.dir, point);
  mkdirSync(dir, { recursive: true });
  const dbFile = join(dir, 'factory.sqlite3');
  const gate = join(dir, 'go');
  if (releaseEarly) writeFileSync(gate, '');
  const f = await startFactory(lab, { env: { MVM_FAULT_POINT: point }, dbFile, wait: false });
  t.teardown(() => f.stop());
  const job = await lab.submit('bitaxe', heldScript(gate), `recovery ${point}`);
  t.equal(await f.exited, 'SIGKILL', `the factory died at ${point}`);
  const rows = allRows(dbFile);
  const workers = await lab.factoryApi.get<FactoryWorker[]>('/0/factory/workers');
  const liveAgents = agentPids(dir).filter(isAlive);
  for (const pid of liveAgents) t.teardown(() => killGroup(pid));
  return { point, job, dbFile, gate, rows, workers, liveAgents };
}

/** Restarts the factory and checks the state after its first pass, then lets the job finish. */
export async function recover(
  t: T,
  lab: Lab,
  c: Crash,
  opts: { expectJob?: 'completed' | 'failed' } = {},
): Promise<void> {
  const f = await startFactory(lab, { dbFile: c.dbFile });
  t.teardown(() => f.stop());
  // Within one pass: every worker left on the server belongs to a live instance.
  const live = liveRows(c.dbFile);
  const workers = await lab.factoryApi.get<FactoryWorker[]>('/0/factory/workers');
  for (const w of workers) {
    t.ok(
      live.some((i) => i.id === w.private && i.worker_id === w.id),
      `worker ${w.id} (private ${w.private}) belongs to a live instance after one pass`,
    );
  }
  const testbeds = live.map((i) => i.testbed);
  t.equal(new Set(testbeds).size, testbeds.length, 'no testbed has two live instances');

  writeFileSync(c.gate, '');
  const job = await lab.waitJob(c.job, ['completed', 'failed'], 30_000);
  t.equal(job.state, opts.expectJob ?? 'completed', 'the job ended as expected');
  await waitFor(() => liveRows(c.dbFile).length === 0, 'every instance destroyed', 20_000, 50);
  t.same(await lab.factoryApi.get<FactoryWorker[]>('/0/factory/workers'), [], 'no worker left on the server');
  const rows = allRows(c.dbFile);
  t.ok(
    rows.every((r) => r.state === 'destroyed'),
    'every instance destroyed',
  );
  for (const pid of agentPids(join(lab.dir, c.point))) t.equal(isAlive(pid), false, `agent ${pid} is gone`);
  t.equal(await f.stop(), 0, 'the restarted factory exits cleanly');
}

/** Pids from the agent.pid files under a case's instance folders. */
export function agentPids(dir: string): number[] {
  const out: number[] = [];
  for (const row of safeRows(join(dir, 'factory.sqlite3'))) {
    try {
      out.push(JSON.parse(readFileSync(join(dir, 'instances', row.id, 'agent.pid'), 'utf8')).pid);
    } catch {
      /* no agent started */
    }
  }
  return out;
}

/** How many times the agent of an instance bootstrapped (one agent per instance, never two). */
export function bootstraps(dir: string, instanceId: string): number {
  try {
    return readFileSync(join(dir, 'instances', instanceId, 'agent.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('bootstrapped as worker')).length;
  } catch {
    return 0;
  }
}

function safeRows(dbFile: string): ReturnType<typeof allRows> {
  try {
    return allRows(dbFile);
  } catch {
    return [];
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}
