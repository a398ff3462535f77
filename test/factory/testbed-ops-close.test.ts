// TestbedOps.close() with more checks queued than [health] concurrency: the
// queued ones used to stay pending forever (p-queue's clear() never settles them), so a factory's
// stop hung. The runner here is a real process that never answers; close() must return promptly,
// stop it, and leave the checks unrecorded for the next start.
import t from 'tap';
import { join } from 'node:path';
import { loadConfig } from '../../factory/config/load.js';
import { LocalExecutor } from '../../factory/executor/local.js';
import { FactoryStore } from '../../factory/store.js';
import { TestbedOps } from '../../factory/testbed-ops.js';
import { silentLogger } from '../../shared/log.js';
import { waitFor } from '../helpers/mvm-process.js';
import { liveWithCmdline } from '../faults/lib/procs.js';
import { startLab } from './fixture.js';

t.test('close() ends with a full queue: the running check stopped, the queued ones dropped', async (t) => {
  const names = ['tb-1', 'tb-2', 'tb-3', 'tb-4'];
  const lab = await startLab(t, {
    testbeds: names.map((name) => ({ name, targets: ['bitaxe'] })),
    healthKeys: '[health]\nconcurrency = 1',
  });
  const config = loadConfig(lab.configFile);
  const store = FactoryStore.open(lab.dbFile);
  t.teardown(() => store.close());
  store.syncTestbeds(config.testbeds);
  const log = silentLogger();
  // A runner that never answers, recognisable by the lab's folder on its command line.
  const marker = join(lab.dir, 'hung-runner');
  const executor = new LocalExecutor({
    root: join(lab.dir, 'instances'),
    command: config.agentCommand,
    runnerCommand: ['/bin/bash', '-c', 'sleep 600; true', marker],
    log,
  });
  const ops = new TestbedOps({ config, store, executorFor: () => executor, log });
  t.equal(ops.startChecks(names), 4, 'four checks started, one runs');
  await waitFor(() => liveWithCmdline(marker).length === 1, 'the first runner running', 20_000);
  let closed = false;
  const closing = ops.close().then(() => (closed = true));
  await waitFor(() => closed, 'close() to return', 20_000, 50);
  await closing;
  t.same(liveWithCmdline(marker), [], 'the running runner was stopped');
  t.equal(ops.busy, 0, 'nothing left in flight');
  t.same(
    store.testbeds().map((tb) => tb.health),
    names.map(() => 'checking'),
    'no verdict recorded: the next start releases and redoes the checks',
  );
});
