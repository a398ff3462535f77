// `mvm server --data DIR --listen HOST:PORT`: the embedded buildomat-compatible job server.
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { parseDuration } from '../shared/duration.js';
import { MvmError } from '../shared/errors.js';
import { DEFAULTS, type ServerConfig } from './config.js';

interface ServerArgs {
  data: string;
  listen: string;
  'lease-timeout'?: string;
  'bootstrap-timeout'?: string;
  'ping-timeout'?: string;
  'max-runtime'?: string;
  tick?: string;
  'metrics-auth'?: string;
}

export { parseListen } from '../shared/listen.js';
import { parseListen } from '../shared/listen.js';

function duration(flag: string, value: string | undefined, env: string, fallback: number): number {
  const text = value ?? process.env[env];
  if (text === undefined || text === '') return fallback;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    throw new MvmError('USAGE', `--${flag} ${JSON.stringify(text)} is not a duration`, { hint: 'write it like 500ms, 30s, 10m or 1h30m' });
  }
  return ms;
}

function metricsAuth(v: string | undefined): 'open' | 'token' {
  if (v === undefined || v === '' || v === 'open') return 'open';
  if (v === 'token') return 'token';
  throw new MvmError('USAGE', `--metrics-auth ${JSON.stringify(v)} is not open or token`, { hint: 'open: /metrics needs no token; token: the admin token or a user token' });
}

export function serverConfig(args: ServerArgs): ServerConfig {
  const { host, port } = parseListen(args.listen);
  return {
    ...DEFAULTS,
    dataDir: resolve(args.data),
    host,
    port,
    leaseMs: duration('lease-timeout', args['lease-timeout'], 'MVM_SERVER_LEASE_TIMEOUT', DEFAULTS.leaseMs),
    bootstrapTimeoutMs: duration('bootstrap-timeout', args['bootstrap-timeout'], 'MVM_SERVER_BOOTSTRAP_TIMEOUT', DEFAULTS.bootstrapTimeoutMs),
    pingTimeoutMs: duration('ping-timeout', args['ping-timeout'], 'MVM_SERVER_PING_TIMEOUT', DEFAULTS.pingTimeoutMs),
    maxRuntimeMs: duration('max-runtime', args['max-runtime'], 'MVM_SERVER_MAX_RUNTIME', DEFAULTS.maxRuntimeMs),
    tickMs: duration('tick', args.tick, 'MVM_SERVER_TICK', DEFAULTS.tickMs),
    metricsAuth: metricsAuth(args['metrics-auth'] ?? process.env.MVM_SERVER_METRICS_AUTH),
  };
}

export const command: CommandModule<object, ServerArgs> = {
  command: 'server',
  describe: 'run the embedded buildomat-compatible job server',
  builder: (y: Argv) =>
    y
      .option('data', { type: 'string', default: './mvm-server', describe: 'folder for the database and file bodies' })
      .option('listen', { type: 'string', default: '127.0.0.1:9300', describe: 'HOST:PORT to serve on (port 0: any free port)' })
      .option('lease-timeout', { type: 'string', describe: 'how long a factory lease lasts [60s; env MVM_SERVER_LEASE_TIMEOUT]' })
      .option('bootstrap-timeout', { type: 'string', describe: 'recycle workers not bootstrapped within this [30m; env MVM_SERVER_BOOTSTRAP_TIMEOUT]' })
      .option('ping-timeout', { type: 'string', describe: 'fail workers silent for this long [10m; env MVM_SERVER_PING_TIMEOUT]' })
      .option('max-runtime', { type: 'string', describe: 'fail jobs running longer than this [3h; env MVM_SERVER_MAX_RUNTIME]' })
      .option('tick', { type: 'string', describe: 'safety tick for timeouts and dispatch [1s; env MVM_SERVER_TICK]' })
      .option('metrics-auth', { type: 'string', describe: '/metrics: open, or token (admin or user token) [open; env MVM_SERVER_METRICS_AUTH]' })
      .example('$0 server --data ./lab --listen 127.0.0.1:9300', 'serve on port 9300, keeping state in ./lab')
      .epilog('Set MVM_ADMIN_TOKEN to choose the admin token; otherwise one is made on first start and printed once.') as Argv<ServerArgs>,
  handler: async (args) => {
    const cfg = serverConfig(args);
    const { runServer } = await import('./run.js');
    await runServer(cfg);
  },
};
