// `mvm demo [--data DIR]`: the quick start. For now it runs the embedded job server with a demo
// target and user, writes a profile for `mvm job`/`mvm admin`, and says how to submit a job; it
// will grow into the whole simulated lab.
import type { Argv, CommandModule } from 'yargs';

interface DemoArgs {
  data: string;
  listen: string;
}

export const command: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'run mvm on this machine: the job server with a demo target and user (the simulated lab comes later)',
  builder: (y: Argv) =>
    y
      .option('data', { type: 'string', default: './mvm-demo', describe: 'folder for the demo state (database, files, profile)' })
      .option('listen', { type: 'string', default: '127.0.0.1:9300', describe: 'HOST:PORT for the job server' }) as Argv<DemoArgs>,
  handler: async (args) => {
    const { runDemo } = await import('./demo-run.js');
    await runDemo(args.data, args.listen);
  },
};
