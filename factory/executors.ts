// The executors of a factory process: one local executor for testbeds whose agent runs here, an
// SSH executor per remote testbed (sharing one connection pool). Every exit wakes the loop.
import type { Logger } from '../shared/log.js';
import type { FactoryConfig } from './config/types.js';
import { LocalExecutor } from './executor/local.js';
import type { Executor } from './executor/types.js';
import { sshExecutorsFor } from './executor/ssh/executor.js';
import { SshPool } from './executor/ssh/pool.js';

export interface Executors {
  executorFor(testbed: string): Executor;
  /** Stops the restore/check runners of local testbeds a crashed factory left running. */
  stopOrphanRunners(): ReturnType<LocalExecutor['stopOrphanRunners']>;
  close(): Promise<void>;
}

export function buildExecutors(config: FactoryConfig, root: string, log: Logger, onExit: () => void): Executors {
  const local = new LocalExecutor({
    root,
    command: config.agentCommand,
    runnerCommand: config.runnerCommand,
    log: log.child({ executor: 'local' }),
  });
  local.onExit(onExit);
  const pool = new SshPool({ log: log.child({ executor: 'ssh' }) });
  const ssh = sshExecutorsFor(config.testbeds, { pool, log: log.child({ executor: 'ssh' }) });
  for (const e of ssh.values()) e.onExit(onExit);
  return {
    executorFor: (name) => ssh.get(name) ?? local,
    stopOrphanRunners: () =>
      local.stopOrphanRunners(config.testbeds.filter((t) => !ssh.has(t.name)).map((t) => t.name)),
    close: async () => {
      for (const e of ssh.values()) await e.close();
      await pool.close();
    },
  };
}
