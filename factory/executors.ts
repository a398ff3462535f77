// The executors of a factory process: one local executor for testbeds whose agent runs here, an
// SSH executor per remote testbed (sharing one connection pool). Every exit wakes the loop. The
// SSH client (ssh2) is loaded only when a testbed runs its agent over SSH: a lab of local
// testbeds does not carry it in memory.
import type { Logger } from '../shared/log.js';
import type { FactoryConfig } from './config/types.js';
import { LocalExecutor } from './executor/local.js';
import type { Executor } from './executor/types.js';

export interface Executors {
  executorFor(testbed: string): Executor;
  /** Stops the restore/check runners of local testbeds a crashed factory left running. */
  stopOrphanRunners(): ReturnType<LocalExecutor['stopOrphanRunners']>;
  close(): Promise<void>;
}

export async function buildExecutors(
  config: FactoryConfig,
  root: string,
  log: Logger,
  onExit: () => void,
): Promise<Executors> {
  const local = new LocalExecutor({
    root,
    command: config.agentCommand,
    runnerCommand: config.runnerCommand,
    log: log.child({ executor: 'local' }),
  });
  local.onExit(onExit);
  const remote = config.testbeds.some((t) => t.agent.mode === 'ssh') ? await sshExecutors(config, log) : undefined;
  for (const e of remote?.executors.values() ?? []) e.onExit(onExit);
  const ssh = remote?.executors ?? new Map<string, Executor>();
  return {
    executorFor: (name) => ssh.get(name) ?? local,
    stopOrphanRunners: () =>
      local.stopOrphanRunners(config.testbeds.filter((t) => !ssh.has(t.name)).map((t) => t.name)),
    close: async () => {
      await remote?.close();
    },
  };
}

async function sshExecutors(config: FactoryConfig, log: Logger) {
  const [{ sshExecutorsFor }, { SshPool }] = await Promise.all([
    import('./executor/ssh/executor.js'),
    import('./executor/ssh/pool.js'),
  ]);
  const pool = new SshPool({ log: log.child({ executor: 'ssh' }) });
  const executors = sshExecutorsFor(config.testbeds, { pool, log: log.child({ executor: 'ssh' }) });
  return {
    executors,
    close: async () => {
      for (const e of executors.values()) await e.close();
      await pool.close();
    },
  };
}
