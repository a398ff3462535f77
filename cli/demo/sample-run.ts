// Running the demo's sample job and telling the person what happened: the testbed's first health
// check, the job's live log (as `mvm job run --wait` prints it), the test's checks with the paths
// of its JSON and JUnit results, and the testbed's return to its baseline.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MvmError } from '../../shared/errors.js';
import type { HttpClient } from '../../shared/http.js';
import { sleep } from '../../shared/sleep.js';
import { runJob } from '../job-run.js';
import { processIo } from '../io.js';

type Say = (line?: string) => void;

interface TestbedView {
  state: string;
  free: boolean;
  health: string;
  health_reason: string | null;
}

/** Waits until the testbed can take a job, saying how its state changes. */
export async function waitForTestbed(api: HttpClient, name: string, say: Say, signal: AbortSignal): Promise<void> {
  let last = '';
  for (;;) {
    const t = await api.get<TestbedView>(`/v1/testbeds/${name}`);
    const now = `${t.state} (health ${t.health}${t.health_reason ? `: ${t.health_reason}` : ''})`;
    if (now !== last) say(`  ${name}: ${now}`);
    last = now;
    if (t.free) return;
    if (t.health === 'bad')
      throw new MvmError('DEVICE', `${name} failed its health checks: ${t.health_reason}`, {
        hint: 'see logs/factory.log in the demo folder',
      });
    await sleep(300, signal);
  }
}

function findFile(dir: string, name: string): string | undefined {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const found = findFile(p, name);
      if (found) return found;
    } else if (e.name === name) return p;
  }
  return undefined;
}

export interface SampleRun {
  job: string;
  ok: boolean;
  results?: string;
  junit?: string;
}

export async function runSampleJob(o: {
  spec: string;
  results: string;
  serverUrl: string;
  userToken: string;
  labUrl: string;
  labToken: string;
  say: Say;
}): Promise<SampleRun> {
  const outputs = join(o.results, new Date().toISOString().replace(/[:.]/g, '-'));
  let job = '';
  o.say('');
  o.say(`mvm demo: submitting the sample job (${o.spec}): flash v2.10.0 onto a Bitaxe Gamma, run its script, check it`);
  await runJob(
    {
      spec: o.spec,
      wait: true,
      outputs,
      url: o.serverUrl,
      token: o.userToken,
      'lab-url': o.labUrl,
      'lab-token': o.labToken,
    },
    {
      ...processIo,
      out: (line) => processIo.out(`  | ${line}`),
      note: (line) => {
        job = /submitted job (\S+)/.exec(line)?.[1] ?? job;
        processIo.out(`  ${line}`);
      },
    },
  );
  // runJob reports a failed job through the exit status; the demo goes on either way.
  const ok = process.exitCode !== 1;
  process.exitCode = undefined;
  const results = findFile(outputs, 'results.json');
  const junit = findFile(outputs, 'junit.xml');
  o.say('');
  o.say(`mvm demo: sample job ${job} ${ok ? 'passed' : 'FAILED'}`);
  if (results) {
    const r = JSON.parse(readFileSync(results, 'utf8')) as {
      preparation?: Array<{ device: string; from: string | null; to: string; ok: boolean; message: string }>;
      script: { ok: boolean; message: string } | null;
      checks: Array<{ name: string; device: string; ok: boolean; message: string }>;
    };
    for (const p of r.preparation ?? []) o.say(`  ${p.ok ? 'ok  ' : 'FAIL'} prepare ${p.device}: ${p.message}`);
    if (r.script) o.say(`  ${r.script.ok ? 'ok  ' : 'FAIL'} script: ${r.script.message}`);
    for (const c of r.checks) o.say(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name} (${c.device}): ${c.message}`);
    o.say(`  results: ${results}`);
  }
  if (junit) o.say(`  JUnit:   ${junit}`);
  return { job, ok, ...(results ? { results } : {}), ...(junit ? { junit } : {}) };
}

/** Waits until the job's instance is destroyed and says how the baseline restore went. */
export async function waitForRestore(
  api: HttpClient,
  testbed: string,
  job: string,
  say: Say,
  signal: AbortSignal,
): Promise<void> {
  for (;;) {
    const h = await api.get<{
      instances: Array<{ job: string | null; state: string; restore_outcome: string | null }>;
    }>(`/v1/testbeds/${testbed}/history?limit=10`);
    const i = h.instances.find((x) => x.job === job);
    if (i?.state === 'destroyed') {
      say(`  ${testbed} back to its baseline: ${i.restore_outcome ?? 'nothing to restore'}`);
      return;
    }
    await sleep(300, signal);
  }
}
