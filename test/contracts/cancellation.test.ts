// One cancellation contract, through a real pass of the factory (in process, against a real
// `mvm server`): an agent start that outlives agent_start_timeout ends with a TimeoutError that
// says which bound passed — carried by the signal the executor got, not by a timer of its own.
import t from 'tap';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { loadConfig } from '../../factory/config/load.js';
import { LocalExecutor } from '../../factory/executor/local.js';
import type { AgentSpec } from '../../factory/executor/types.js';
import { FactoryStore } from '../../factory/store.js';
import { resolveTargets } from '../../factory/targets.js';
import { Factory } from '../../factory/tick.js';
import { FactoryClient } from '../../shared/buildomat/factory.js';
import { silentLogger } from '../../shared/log.js';
import { abortError } from '../../shared/sleep.js';
import { startLab } from '../factory/fixture.js';

/** A local executor whose start never finishes by itself: only its signal ends it. */
class HangingStart extends LocalExecutor {
  seen: Error[] = [];
  override start(_spec: AgentSpec, signal?: AbortSignal): Promise<never> {
    return new Promise((_resolve, reject) =>
      signal?.addEventListener('abort', () => {
        const err = abortError(signal);
        this.seen.push(err);
        reject(err);
      }),
    );
  }
}

t.test("a start past agent_start_timeout fails with the deadline's TimeoutError", async (t) => {
  const lab = await startLab(t, { testbeds: [{ name: 'bench-1', targets: ['bitaxe'] }] });
  const config = loadConfig(lab.configFile);
  config.agentStartTimeoutMs = 300;
  const store = FactoryStore.open(lab.dbFile);
  t.teardown(() => store.close());
  store.syncTestbeds(config.testbeds);
  const log = silentLogger();
  const executor = new HangingStart({ root: join(lab.dir, 'instances'), command: config.agentCommand, log });
  const client = new FactoryClient({ baseUrl: config.baseUrl, token: config.token });
  const factory = new Factory({
    config,
    store,
    client,
    targets: await resolveTargets(config),
    executorFor: () => executor,
    log,
  });
  await lab.submit('bitaxe', 'true');
  await factory.tick({ lease: true });
  t.match(executor.seen, [{ code: 'TIMEOUT', timeoutMs: 300 }], 'the executor saw the deadline as a TimeoutError');
  const rows = new Database(lab.dbFile, { readonly: true })
    .prepare("select reason, failure from instances where testbed = 'bench-1'")
    .all();
  t.match(rows, [
    {
      reason: 'agent failed to start',
      failure: /starting the agent of \w+ did not finish within 300 ms/,
    },
  ]);
});
