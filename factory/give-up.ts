// A job whose agents keep failing to start or come online is not placed forever: after
// `agent_start_attempts` such instances the factory fails it, through the worker it made for it
// (bootstrap as that worker, say why in the job's log, report the worker failed: the server then
// fails the job), instead of letting the lease lapse and the job be leased again.
import { randomBytes } from 'node:crypto';
import type { FactoryWorker } from '../shared/api/types.js';
import type { FactoryClient } from '../shared/buildomat/factory.js';
import { WorkerClient } from '../shared/buildomat/worker.js';
import type { FactoryConfig } from './config/types.js';
import { serverHttp } from './server-http.js';
import { AGENT_START_FAILURES, type FactoryStore } from './store.js';

/** The message the job fails with, when instance `instanceId` is its last allowed attempt; undefined while attempts remain. */
export function givingUp(
  config: FactoryConfig,
  store: FactoryStore,
  job: string | null,
  instanceId: string,
  reason: string,
  failure: string,
): string | undefined {
  if (!job) return undefined;
  const earlier = store.agentStartFailures(job, AGENT_START_FAILURES).filter((id) => id !== instanceId).length;
  if (earlier + 1 < config.agentStartAttempts) return undefined;
  return `mvm factory: ${reason} ${earlier + 1} time(s) for this job (agent_start_attempts = ${config.agentStartAttempts}); failing the job. Last: ${failure}. The testbed is being checked; see the factory's log and the agent's log (agent.log in the instance folder)`;
}

/** Fails `job` through worker `w` (associated, not yet bootstrapped by an agent). */
export async function failJobThroughWorker(
  config: FactoryConfig,
  client: FactoryClient,
  w: FactoryWorker,
  message: string,
  signal?: AbortSignal,
): Promise<void> {
  const worker = new WorkerClient(serverHttp(config));
  await worker.bootstrap(w.bootstrap, randomBytes(24).toString('base64url'), signal);
  await client.flush(w.id, { signal });
  // The job is assigned at bootstrap (mvm server) or at the first ping (buildomat).
  if ((await client.append(w.id, { stream: 'control', payload: message }, { signal })).retry) {
    await worker.ping(signal);
    await client.append(w.id, { stream: 'control', payload: message }, { signal });
  }
  await worker.fail(message, signal);
}
