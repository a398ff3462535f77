// The executors of a factory process: one local executor for testbeds whose agent runs here, an
// SSH executor per remote testbed (sharing one connection pool). Every exit wakes the loop.
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { FactoryConfig } from './config/types.js';
import { LocalExecutor } from './executor/local.js';
import type { Executor } from './executor/types.js';
import { sshExecutorsFor, type OrphanRunner } from './executor/ssh/executor.js';
import { SshPool } from './executor/ssh/pool.js';

export interface Executors {
  executorFor(testbed: string): Executor;
  /**
   * Stops the restore/check runners a crashed factory left running: those of local testbeds,
   * and on each SSH testbed's host (one that cannot be reached now is swept before its first
   * runner, and reported to onOrphanRunners then).
   */
  stopOrphanRunners(signal?: AbortSignal): Promise<OrphanRunner[]>;
  close(): Promise<void>;
}

export function buildExecutors(
  config: FactoryConfig,
  root: string,
  log: Logger,
  onExit: () => void,
  onOrphanRunners?: (stopped: OrphanRunner[]) => void,
): Executors {
  const local = new LocalExecutor({
    root,
    command: config.agentCommand,
    runnerCommand: config.runnerCommand,
    log: log.child({ executor: 'local' }),
  });
  local.onExit(onExit);
  const pool = new SshPool({ log: log.child({ executor: 'ssh' }) });
  const sshLog = log.child({ executor: 'ssh' });
  const ssh = sshExecutorsFor(config.testbeds, { pool, log: sshLog, onOrphanRunners });
  for (const e of ssh.values()) e.onExit(onExit);
  return {
    executorFor: (name) => ssh.get(name) ?? local,
    stopOrphanRunners: async (signal) => {
      const out = await local.stopOrphanRunners(config.testbeds.filter((t) => !ssh.has(t.name)).map((t) => t.name));
      await Promise.all(
        [...ssh.values()].map((e) =>
          // Bounded: an unreachable host must not hold up the start; its sweep waits for its first runner.
          e
            .stopOrphanRunners(
              signal ? AbortSignal.any([signal, AbortSignal.timeout(20_000)]) : AbortSignal.timeout(20_000),
            )
            .catch((err) =>
              sshLog.warn(
                { testbed: e.testbed, err: describeError(err) },
                'cannot look for orphaned runners on the host yet; done before its first runner',
              ),
            ),
        ),
      );
      return out;
    },
    close: async () => {
      for (const e of ssh.values()) await e.close();
      await pool.close();
    },
  };
}
