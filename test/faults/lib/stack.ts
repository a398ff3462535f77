// The whole stack for fault tests: a real `mvm server`, a real `mvm factory` and the real
// `mvm agent` (test/factory/fixture.ts does the set-up and starts the factory: runFactory), with every process marked for leak checks
// (procs.ts) and the job's complete event log read back page by page.
import { join } from 'node:path';
import type { Test } from 'tap';
import type { FactoryWorker, JobEvent, TaskSubmit } from '../../../shared/api/types.js';
import { liveRows, startFactory, startLab, type Lab, type LabOptions } from '../../factory/fixture.js';
import type { MvmProcess } from '../../helpers/mvm-process.js';
import { assertNoLeaks, killMarked, MARK_ENV, newMark } from './procs.js';
import { mvmBin, waitFor } from '../../helpers/mvm-process.js';

export interface FaultLab extends Lab {
  mark: string;
  /** Where the factory runs each instance's agent: `<instances>/<instance id>/`. */
  instancesDir: string;
  /** Starts `mvm factory` (marked) and waits for its first pass unless `wait: false`. */
  factory(opts?: { env?: Record<string, string>; dbFile?: string; wait?: boolean }): Promise<MvmProcess>;
  /** Submits a job whose tasks carry the leak marker in their environment. */
  submitTasks(
    target: string,
    tasks: Array<Pick<TaskSubmit, 'name' | 'script'>>,
    extra?: { name?: string; output_rules?: string[] },
  ): Promise<string>;
  /** Every event of the job, following pages of 1000. */
  events(job: string): Promise<JobEvent[]>;
  workers(): Promise<FactoryWorker[]>;
  /** Asserts that no marked process survives (call after stopping the daemons). */
  noLeaks(t: Test, graceMs?: number): Promise<void>;
}

export interface FaultLabOptions extends Omit<LabOptions, 'realAgent'> {
  /** Extra `mvm agent run` flags, e.g. ['--spool-memory', '65536']. */
  agentArgs?: string[];
  /** Use the scripted agent (test/fixtures/agents) instead of the real one. */
  scriptedAgent?: boolean;
  /** The whole agent command instead (the factory appends --url, --workdir… to it). */
  agentCommand?: string[];
}

export async function startFaultLab(t: Test, opts: FaultLabOptions): Promise<FaultLab> {
  const agentCommand = opts.agentCommand ?? [
    process.execPath,
    mvmBin(),
    'agent',
    'run',
    '--grace',
    '1s',
    '--busy-ping',
    '1s',
    ...(opts.agentArgs ?? []),
  ];
  const lab = await startLab(t, {
    ...opts,
    // The lab writes the scripted agent's command unless realAgent; ours goes in [factory].
    realAgent: !opts.scriptedAgent,
    factoryKeys: [
      opts.scriptedAgent ? '' : `agent_command = ${JSON.stringify(agentCommand)}`,
      // The lab's devices are addresses nothing answers on, so no health check could ever pass:
      // testbeds of unknown health take jobs (a failure still marks them, as the tests check).
      opts.factoryKeys?.includes('quarantine_unhealthy') ? '' : 'quarantine_unhealthy = false',
      opts.factoryKeys ?? '',
    ].join('\n'),
  });
  const mark = newMark();
  // Safety net for a failed test: nothing marked outlives it (each process killed by its pid).
  t.teardown(() => {
    killMarked(mark);
  });
  const fl: FaultLab = Object.assign(lab, {
    mark,
    instancesDir: join(lab.dir, 'instances'),
    async factory(o: { env?: Record<string, string>; dbFile?: string; wait?: boolean } = {}) {
      return startFactory(lab, {
        env: { [MARK_ENV]: mark, MVM_LOG_LEVEL: 'info', ...o.env },
        dbFile: o.dbFile,
        wait: o.wait,
        t,
      });
    },
    async submitTasks(
      target: string,
      tasks: Array<Pick<TaskSubmit, 'name' | 'script'>>,
      extra: { name?: string; output_rules?: string[] } = {},
    ) {
      return lab.srv.submitJob(lab.userToken, {
        target,
        name: extra.name ?? 'fault job',
        output_rules: extra.output_rules,
        tasks: tasks.map((x) => ({ name: x.name, script: x.script, env_clear: false, env: { [MARK_ENV]: mark } })),
      });
    },
    async events(job: string) {
      const all: JobEvent[] = [];
      for (;;) {
        const page = await lab.user.get<JobEvent[]>(`/0/jobs/${job}/events`, {
          query: { minseq: all.length === 0 ? 0 : all.at(-1)!.seq + 1 },
        });
        if (page.length === 0) return all;
        all.push(...page);
      }
    },
    workers: () => lab.factoryApi.get<FactoryWorker[]>('/0/factory/workers'),
    noLeaks: (tt: Test, graceMs?: number) => assertNoLeaks(tt, mark, graceMs),
  });
  return fl;
}

/**
 * The real agent behind a gate: the command waits for the file `gate` before it execs `mvm agent
 * run`, so the agent's start is as slow as the test wants (until it creates the file).
 */
export function gatedAgentCommand(gate: string): string[] {
  return [
    '/bin/bash',
    '-c',
    `while [ ! -e '${gate}' ]; do sleep 0.05; done; exec "$0" "$@"`,
    process.execPath,
    mvmBin(),
    'agent',
    'run',
    '--busy-ping',
    '1s',
  ];
}

/** Waits for the factory to have started an agent process (at its gate, with gatedAgentCommand). */
export async function agentProcessStarted(lab: Lab): Promise<void> {
  await waitFor(
    () => liveRows(lab.dbFile).some((r) => r.agent_pid !== null),
    'the agent process started (and waiting)',
    30_000,
    50,
  );
}

/** The payloads of one stream (all tasks), in seq order. */
export function payloads(events: JobEvent[], stream: string): string[] {
  return events.filter((e) => e.stream === stream).map((e) => e.payload);
}

/** Asserts seq numbers run 1, 2, 3… with no gap or repeat. */
export function assertSeqs(t: Test, events: JobEvent[]): void {
  const bad = events.findIndex((e, i) => e.seq !== i + 1);
  t.equal(
    bad,
    -1,
    bad === -1 ? `${events.length} events numbered 1..${events.length}` : `event ${bad} has seq ${events[bad].seq}`,
  );
}
