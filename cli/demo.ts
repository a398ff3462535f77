// `mvm demo`: the quick start — the job server, a simulated lab from config.example.toml, the
// factory and the fleet controller, a sample hardware job followed live, then the stack up until Ctrl-C.
import { defineCommand } from './command.js';

export const command = defineCommand({
  command: 'demo',
  describe: 'run the whole lab on this machine: job server, simulated devices, factory, and a sample hardware job',
  builder: (y) =>
    y
      .option('data', {
        type: 'string',
        default: './mvm-demo',
        describe: 'folder for all the demo state (databases, files, logs, results, profile)',
      })
      .option('listen', {
        type: 'string',
        default: '127.0.0.1:9300',
        describe: 'HOST:PORT for the job server (port 0 picks a free one)',
      })
      .option('api-listen', { type: 'string', default: '127.0.0.1:9310', describe: "HOST:PORT for the factory's API" })
      .option('fleet-listen', {
        type: 'string',
        default: '127.0.0.1:9320',
        describe: "HOST:PORT for the fleet controller's API",
      })
      .option('free-ports', {
        type: 'boolean',
        default: false,
        describe:
          "put the simulated devices, the factory API and the fleet API on free ports instead of config.example.toml's",
      })
      .option('sample', {
        type: 'boolean',
        default: true,
        describe: 'submit the sample job (--no-sample: only start the lab)',
      })
      .example('$0 demo', 'start everything in ./mvm-demo and run the sample job')
      .example('$0 demo --data /tmp/lab --listen 127.0.0.1:0 --free-ports', 'the same on free ports'),
  handler: async (args) => {
    const { runDemo } = await import('./demo-run.js');
    await runDemo({
      data: args.data,
      listen: args.listen,
      apiListen: args['api-listen'],
      fleetListen: args['fleet-listen'],
      freePorts: args['free-ports'],
      sample: args.sample,
    });
  },
});
