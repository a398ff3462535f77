// The executors of a factory process: one local executor for testbeds whose agent runs here, an
// SSH executor per remote testbed (sharing one connection pool). Every exit, and a local agent
// coming online, wakes the loop. The SSH client (ssh2) is loaded only when a testbed runs its
// agent over SSH: a lab of local testbeds does not carry it in memory.
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { FactoryConfig } from './config/types.js';
import { LocalExecutor } from './executor/local.js';
import type { Executor } from './executor/types.js';
import type { OrphanRunner, SshExecutor } from './executor/ssh/executor.js';

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

export async function buildExecutors(
  config: FactoryConfig,
  root: string,
  log: Logger,
  wake: () => void,
  onOrphanRunners?: (stopped: OrphanRunner[]) => void,
): Promise<Executors> {
  const local = new LocalExecutor({
    root,
    command: config.agentCommand,
    runnerCommand: config.runnerCommand,
    log: log.child({ executor: 'local' }),
  });
  local.onExit(wake);
  local.onOnline(wake);
  const sshLog = log.child({ executor: 'ssh' });
  const remote = config.testbeds.some((t) => t.agent.mode === 'ssh')
    ? await sshExecutors(config, sshLog, onOrphanRunners)
    : undefined;
  for (const e of remote?.executors.values() ?? []) e.onExit(wake);
  const ssh = remote?.executors ?? new Map<string, SshExecutor>();
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
      await remote?.close();
    },
  };
}

async function sshExecutors(
  config: FactoryConfig,
  log: Logger,
  onOrphanRunners: ((stopped: OrphanRunner[]) => void) | undefined,
) {
  const [{ sshExecutorsFor }, { SshPool }] = await Promise.all([
    import('./executor/ssh/executor.js'),
    import('./executor/ssh/pool.js'),
  ]);
  const pool = new SshPool({ log });
  const executors = sshExecutorsFor(config.testbeds, { pool, log, onOrphanRunners });
  return {
    executors,
    close: async () => {
      for (const e of executors.values()) await e.close();
      await pool.close();
    },
  };
}
