// Event-driven dispatch: a worker waiting in a long-poll ping gets a job the moment it is
// submitted, and a factory waiting in a long-poll lease gets its lease at once. The figures are
// printed as comments (no timed asserts); the tick is set to an hour so that only events dispatch.
import { performance } from 'node:perf_hooks';
import t from 'tap';
import type { WorkerPingResult } from '../../shared/api/types.js';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { leaseJob, startScriptedWorker } from '../helpers/server.js';
import { startServerInProcess } from '../helpers/server-inprocess.js';

/** Enough rounds to show the figures; bench/server-dispatch.ts measures them properly. */
const ROUNDS = 5;

function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1);
  return `median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${s.at(-1)!.toFixed(1)} ms over ${s.length} jobs`;
}

t.test('dispatch happens on events, not on the tick', async (t) => {
  const srv = await startServerInProcess(t, { config: { tickMs: 3_600_000 } });
  const proxy = await startConformanceProxy(srv.url);
  t.teardown(() => proxy.close());
  const target = await srv.createTarget('bitaxe');
  const userToken = await srv.createUser('frank');
  const factoryToken = await srv.createFactory('lab');
  const direct = srv.client(factoryToken);

  for (const [label, base] of [
    ['direct', srv.url],
    ['through the conformance proxy', proxy.url],
  ] as const) {
    const factory = srv.client(factoryToken, base);
    const submitToPing: number[] = [];
    const submitToLease: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // A factory waits for work; a job arrives; the lease comes back at once.
      const leased = leaseJob(factory, [target], 30_000);
      let t0 = performance.now();
      const id = await srv.submitJob(userToken, { target: 'bitaxe', name: `lease-${i}` });
      const l = await leased;
      submitToLease.push(performance.now() - t0);
      t.equal(l?.job, id);
      // A ready worker waits in its ping; the job is assigned the moment the worker is free.
      const w = await startScriptedWorker(srv, factory, target, base, { job: id });
      const first = await w.ping(30_000);
      t.equal(first.job?.id, id, 'the leased job goes to the worker made for it');
      await w.api.post(`/0/worker/job/${id}/complete`, { failed: false });
      await direct.delete(`/0/factory/worker/${w.id}`);

      const w2 = await startScriptedWorker(srv, factory, target, base);
      const held = w2.api.get<WorkerPingResult>('/0/worker/ping', { query: { wait_ms: 30_000 } });
      t0 = performance.now();
      const id2 = await srv.submitJob(userToken, { target: 'bitaxe', name: `ping-${i}` });
      const p = await held;
      submitToPing.push(performance.now() - t0);
      t.equal(p.job?.id, id2, 'the held ping returns the new job');
      await w2.api.post(`/0/worker/job/${id2}/complete`, { failed: false });
      await direct.delete(`/0/factory/worker/${w2.id}`);
    }
    t.comment(`submit → job in a held worker ping (${label}): ${summary(submitToPing)}`);
    t.comment(`submit → lease in a held factory lease (${label}): ${summary(submitToLease)}`);
  }
  t.same(proxy.violations, []);
});
