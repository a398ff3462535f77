// The instance-folder layout: the names of the files the factory, the agent and the runner share
// in an agent's workdir (<root>/<instance id>, locally or on an SSH host), and where restores and
// health checks run. The only place these names are spelled.
import { createHash } from 'node:crypto';

export const INSTANCE_FILES = {
  /** The testbed description (shared/contracts/testbed.ts), written by the factory. */
  testbed: 'testbed.json',
  /** The worker's bootstrap string, 0600; the agent deletes it once read. */
  bootstrap: 'bootstrap',
  /** Who the agent is (shared/contracts/agent-pid.ts). */
  agentPid: 'agent.pid',
  /** Where a stopped remote agent's pid file is set aside, so a later stop cannot signal a reused group. */
  agentPidStopped: 'agent.pid.stopped',
  /** The agent's stdout and stderr. */
  agentLog: 'agent.log',
  /** The remote agent's exit status, written by its launcher's wrapper shell (one decimal line). */
  agentExit: 'agent.exit',
  /** The running task's process group (shared/contracts/running-task.ts), written by the agent. */
  runningTask: 'running-task.json',
  /** The runner's infrastructure-failure report (shared/contracts/infra-report.ts), beside testbed.json. */
  infraReport: 'infra-failures.jsonl',
  /** The started-job mark (agent/marker.ts): a job is never run twice in one workdir. */
  startedJob: 'job-started.json',
  /** The job's files (inputs, task folders); removed when the instance ends. */
  jobs: 'jobs',
} as const;

export type InstanceFile = keyof typeof INSTANCE_FILES;

/** Joins with '/': the same on this machine and on an SSH host. */
export function instancePath(workdir: string, file: InstanceFile): string {
  return `${workdir.replace(/\/+$/, '')}/${INSTANCE_FILES[file]}`;
}

/** Where restores and health checks of one testbed run, under the executor's root. */
export function testbedRunDir(root: string, testbed: string): string {
  return `${root.replace(/\/+$/, '')}/_testbeds/${testbedDirName(testbed)}`;
}

/**
 * A folder name for a testbed: its name when that is a plain word, else a sanitised form with a
 * hash, so names with "/", ".." or shell metacharacters never become paths of their own.
 */
export function testbedDirName(name: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) && !name.includes('..')) return name;
  const safe = name
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/\.\.+/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, 40);
  return `${safe || 'testbed'}-${createHash('sha256').update(name).digest('hex').slice(0, 10)}`;
}
