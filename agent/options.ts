// The options of `mvm agent run`, in one place: the CLI's yargs command and the agent's bundled
// entry point (agent/bundle-main.ts, what the factory starts) read the same table. Its entries are
// yargs option definitions (yargs infers the command's argument type from them).

export interface AgentOptionSpec {
  type: 'string' | 'number';
  describe: string;
  default?: string | number;
  demandOption?: boolean;
  /** The only values accepted. */
  choices?: readonly string[];
}

export const AGENT_RUN_OPTIONS = {
  url: { type: 'string', demandOption: true, describe: 'the job server, e.g. http://127.0.0.1:9300' },
  workdir: { type: 'string', demandOption: true, describe: 'where the agent keeps its state and job directories' },
  bootstrap: { type: 'string', describe: 'the worker bootstrap string (or env MVM_BOOTSTRAP)' },
  'bootstrap-file': { type: 'string', describe: 'read the bootstrap string from this file (mode 0600) and delete it' },
  testbed: { type: 'string', describe: 'the testbed description file (default: WORKDIR/testbed.json when present)' },
  grace: { type: 'string', default: '10s', describe: 'how long a stopped task may take to exit before SIGKILL' },
  'busy-ping': { type: 'string', default: '5s', describe: 'ping interval while a job runs' },
  'spool-memory': {
    type: 'number',
    default: 1024 * 1024,
    describe: 'bytes of queued events kept in memory before spilling to disk',
  },
  'task-user': {
    type: 'string',
    describe: "run tasks as this unprivileged user (default: the testbed description's task_user; needs root)",
  },
  containment: {
    type: 'string',
    choices: ['auto', 'mark'],
    describe:
      'auto (default, or env MVM_TASK_CONTAINMENT): each task in its own PID and mount namespace, the job folder on /work, where the host allows, else marked; mark: marked only',
  },
} as const satisfies Record<string, AgentOptionSpec>;

/** Options that cannot be given together. */
export const AGENT_RUN_CONFLICTS: ReadonlyArray<readonly [string, string]> = [['bootstrap', 'bootstrap-file']];

export const AGENT_RUN_DESCRIBE = 'bootstrap as a worker, run the job the server assigns, then exit';
