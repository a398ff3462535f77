// `mvm agent run`: the buildomat worker that runs one job on a testbed (the factory starts it).
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

interface RunArgs {
  url: string;
  workdir: string;
  bootstrap?: string;
  'bootstrap-file'?: string;
  testbed?: string;
  grace: string;
  'busy-ping': string;
  'spool-memory': number;
  'task-user'?: string;
  containment?: 'auto' | 'mark';
}

const run: CommandModule<object, RunArgs> = {
  command: 'run',
  describe: 'bootstrap as a worker, run the job the server assigns, then exit',
  builder: (y: Argv) =>
    y
      .option('url', { type: 'string', demandOption: true, describe: 'the job server, e.g. http://127.0.0.1:9300' })
      .option('workdir', {
        type: 'string',
        demandOption: true,
        describe: 'where the agent keeps its state and job directories',
      })
      .option('bootstrap', { type: 'string', describe: 'the worker bootstrap string (or env MVM_BOOTSTRAP)' })
      .option('bootstrap-file', {
        type: 'string',
        describe: 'read the bootstrap string from this file (mode 0600) and delete it',
      })
      .option('testbed', {
        type: 'string',
        describe: 'the testbed description file (default: WORKDIR/testbed.json when present)',
      })
      .option('grace', {
        type: 'string',
        default: '10s',
        describe: 'how long a stopped task may take to exit before SIGKILL',
      })
      .option('busy-ping', { type: 'string', default: '5s', describe: 'ping interval while a job runs' })
      .option('spool-memory', {
        type: 'number',
        default: 1024 * 1024,
        describe: 'bytes of queued events kept in memory before spilling to disk',
      })
      .option('task-user', {
        type: 'string',
        describe: "run tasks as this unprivileged user (default: the testbed description's task_user; needs root)",
      })
      .option('containment', {
        choices: ['auto', 'mark'] as const,
        describe:
          'auto (default, or env MVM_TASK_CONTAINMENT): each task in its own PID and mount namespace, the job folder on /work, where the host allows, else marked; mark: marked only',
      })
      .conflicts('bootstrap', 'bootstrap-file') as unknown as Argv<RunArgs>,
  handler: async (args: ArgumentsCamelCase<RunArgs>) => {
    const { agentMain } = await import('./main.js');
    await agentMain(args);
  },
};

export const command: CommandModule = {
  command: 'agent <command>',
  describe: 'run the agent that executes one job on a testbed',
  builder: (y) => y.command(run as unknown as CommandModule).demandCommand(1),
  handler: () => undefined,
};
