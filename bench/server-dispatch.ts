// Dispatch latency of `mvm server`: how long from a job's submission until a waiting worker sees
// it in its (long-poll) ping, a waiting factory gets its lease, and a factory's whole pass
// (lease → create → associate → bootstrap → ping) hands the job to a new worker.
// Run: npx tsc -p . && node dist/bench/server-dispatch.js [rounds]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { FactoryLeaseResult, FactoryWorker, WorkerPingResult } from '../shared/api/types.js';
import { HttpClient } from '../shared/http.js';
import { newToken } from '../shared/ids.js';
import { MVM_BIN } from '../shared/paths.js';

const rounds = Number(process.argv[2] ?? 50);

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => Number(s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(2));
  return { n: s.length, median_ms: q(0.5), p90_ms: q(0.9), p99_ms: q(0.99), max_ms: Number(s.at(-1)!.toFixed(2)) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mvm-bench-'));
  const adminToken = newToken();
  // The tick is set to an hour: every assignment measured here comes from an event.
  const child = spawn(process.execPath, [MVM_BIN, 'server', '--data', dir, '--listen', '127.0.0.1:0', '--tick', '1h'], {
    env: { ...process.env, MVM_ADMIN_TOKEN: adminToken, MVM_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (l) => {
        const m = /^mvm server listening on (\S+)$/.exec(l);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`mvm server exited (${code}) before it was ready`)));
    });
    const admin = new HttpClient({ baseUrl: url, token: adminToken });
    const target = (await admin.post<{ id: string }>('/0/admin/target', { name: 'bench', desc: 'bench' })).id;
    const user = new HttpClient({ baseUrl: url, token: (await admin.post<{ token: string }>('/0/users', { name: 'bench' })).token });
    const factory = new HttpClient({ baseUrl: url, token: (await admin.post<{ token: string }>('/0/admin/factory', { name: 'bench' })).token, timeoutMs: 120_000 });
    const submit = async (name: string) =>
      (await user.post<{ id: string }>('/0/jobs', { name, target: 'bench', output_rules: [], tasks: [{ name: 't', script: 'true', env_clear: false, env: {} }] })).id;
    const newWorker = async (job?: string) => {
      const w = await factory.post<FactoryWorker>('/0/factory/worker', { target, job: job ?? null });
      await factory.patch(`/0/factory/worker/${w.id}`, { private: w.id });
      const token = newToken();
      await new HttpClient({ baseUrl: url }).post('/0/worker/bootstrap', { bootstrap: w.bootstrap, token });
      return { id: w.id, api: new HttpClient({ baseUrl: url, token, timeoutMs: 120_000 }) };
    };
    const finish = async (w: { id: string; api: HttpClient }, job: string) => {
      await w.api.post(`/0/worker/job/${job}/complete`, { failed: false });
      await factory.delete(`/0/factory/worker/${w.id}`);
    };

    const toPing: number[] = [];
    const toLease: number[] = [];
    const fullPass: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const w = await newWorker();
      const held = w.api.get<WorkerPingResult>('/0/worker/ping', { query: { wait_ms: 60_000 } });
      let t0 = performance.now();
      const a = await submit(`ping-${i}`);
      if ((await held).job?.id !== a) throw new Error('the held ping did not return the job');
      toPing.push(performance.now() - t0);
      await finish(w, a);

      const leased = factory.post<FactoryLeaseResult>('/0/factory/lease', { supported_targets: [target] }, { query: { wait_ms: 60_000 } });
      t0 = performance.now();
      const b = await submit(`lease-${i}`);
      const lease = (await leased).lease;
      if (lease?.job !== b) throw new Error('the held lease did not return the job');
      toLease.push(performance.now() - t0);
      const wb = await newWorker(b);
      const ping = await wb.api.get<WorkerPingResult>('/0/worker/ping', { query: { wait_ms: 60_000 } });
      if (ping.job?.id !== b) throw new Error('the new worker did not get the leased job');
      fullPass.push(performance.now() - t0);
      await finish(wb, b);
    }
    process.stdout.write(
      JSON.stringify(
        {
          bench: 'server-dispatch',
          rounds,
          submit_to_held_ping: stats(toPing),
          submit_to_held_lease: stats(toLease),
          submit_to_job_in_new_workers_ping: stats(fullPass),
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
