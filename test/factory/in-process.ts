// A lab's factory in the test's own process, for tests that drive its passes one at a time
// (factory.tick()): its config (with a patch), its store, a local executor, a client of the server.
import { join } from 'node:path';
import { FactoryClient } from '../../shared/buildomat/factory.js';
import { silentLogger } from '../../shared/log.js';
import { loadConfig } from '../../factory/config/load.js';
import type { FactoryConfig } from '../../factory/config/types.js';
import { LocalExecutor, type LocalExecutorOptions } from '../../factory/executor/local.js';
import { FactoryStore } from '../../factory/store.js';
import { resolveTargets } from '../../factory/targets.js';
import { Factory } from '../../factory/tick.js';
import type { Lab } from './fixture.js';

export interface InProcessOptions<E> {
  /** Config values in place of the file's. */
  patch?: Partial<FactoryConfig>;
  /** The store's database (default the lab's). */
  dbFile?: string;
  /** The executor of every testbed (default a LocalExecutor under the lab's instances/). */
  executor?: (opts: LocalExecutorOptions) => E;
}

export async function inProcessFactory<E extends LocalExecutor = LocalExecutor>(
  t: { teardown(fn: () => void): void },
  lab: Lab,
  o: InProcessOptions<E> = {},
) {
  const config = { ...loadConfig(lab.configFile), ...o.patch };
  const store = FactoryStore.open(o.dbFile ?? lab.dbFile);
  t.teardown(() => store.close());
  store.syncTestbeds(config.testbeds);
  const log = silentLogger();
  const opts: LocalExecutorOptions = { root: join(lab.dir, 'instances'), command: config.agentCommand, log };
  const executor = o.executor ? o.executor(opts) : (new LocalExecutor(opts) as E);
  const client = new FactoryClient({ baseUrl: config.baseUrl, token: config.token });
  const targets = await resolveTargets(config);
  const factory = new Factory({ config, store, client, targets, executorFor: () => executor, log });
  return { config, store, executor, client, factory };
}
