// `mvm server --data DIR --listen HOST:PORT`: the embedded buildomat-compatible job server.
import { resolve } from 'node:path';
import { defineCommand } from '../cli/command.js';
import { parseDurationFlag } from '../shared/duration.js';
import { useDaemonHeap } from '../shared/daemon-heap.js';
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
  'request-timeout'?: string;
  'max-connections-per-client'?: number;
  retention?: string;
  'max-uncommitted-per-job'?: number;
  'max-uncommitted-per-user'?: number;
  'metrics-auth'?: string;
}

export { parseListen } from '../shared/listen.js';
import { parseListen } from '../shared/listen.js';

function duration(flag: string, value: string | undefined, env: string, fallback: number): number {
  if (value !== undefined && value !== '') return parseDurationFlag(flag, value);
  const text = process.env[env];
  return text === undefined || text === '' ? fallback : parseDurationFlag(env, text);
}

function retention(text: string | undefined): number | undefined {
  const t = text ?? process.env.MVM_SERVER_RETENTION;
  return t === undefined || t === '' || t === 'off' ? undefined : duration('retention', t, 'MVM_SERVER_RETENTION', 0);
}

const gc = defineCommand({
  command: 'gc',
  describe:
    "reclaim disk in a data folder: chunks of ended jobs, files no row names, and (with --retention) old jobs' inputs, outputs and events",
  builder: (y) =>
    y
      .option('data', { type: 'string', default: './mvm-server', describe: "the server's data folder" })
      .option('retention', {
        type: 'string',
        describe: 'also remove inputs, outputs and events of jobs that ended longer ago than this (e.g. 30d)',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print what was reclaimed as one JSON object',
      }),
  handler: async (args) => {
    const { runGc } = await import('./gc-command.js');
    await runGc(resolve(args.data), retention(args.retention), args.json);
  },
});

function bytes(flag: string, n: number | undefined, fallback: number): number {
  if (n === undefined) return fallback;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new MvmError('USAGE', `--${flag} ${n} is not a number of bytes`, { hint: `e.g. --${flag} ${fallback}` });
  return n;
}

function connections(n: number | undefined): number {
  if (n === undefined) return DEFAULTS.maxConnectionsPerClient;
  if (!Number.isInteger(n) || n < 1 || n > 100_000) {
    throw new MvmError('USAGE', `--max-connections-per-client ${n} is not a number from 1 to 100000`, {
      hint: 'e.g. --max-connections-per-client 256',
    });
  }
  return n;
}

function metricsAuth(v: string | undefined): 'open' | 'token' {
  if (v === undefined || v === '' || v === 'open') return 'open';
  if (v === 'token') return 'token';
  throw new MvmError('USAGE', `--metrics-auth ${JSON.stringify(v)} is not open or token`, {
    hint: 'open: /metrics needs no token; token: the admin token or a user token',
  });
}

export function serverConfig(args: ServerArgs): ServerConfig {
  const { host, port } = parseListen(args.listen);
  return {
    ...DEFAULTS,
    dataDir: resolve(args.data),
    host,
    port,
    leaseMs: duration('lease-timeout', args['lease-timeout'], 'MVM_SERVER_LEASE_TIMEOUT', DEFAULTS.leaseMs),
    bootstrapTimeoutMs: duration(
      'bootstrap-timeout',
      args['bootstrap-timeout'],
      'MVM_SERVER_BOOTSTRAP_TIMEOUT',
      DEFAULTS.bootstrapTimeoutMs,
    ),
    pingTimeoutMs: duration('ping-timeout', args['ping-timeout'], 'MVM_SERVER_PING_TIMEOUT', DEFAULTS.pingTimeoutMs),
    maxRuntimeMs: duration('max-runtime', args['max-runtime'], 'MVM_SERVER_MAX_RUNTIME', DEFAULTS.maxRuntimeMs),
    tickMs: duration('tick', args.tick, 'MVM_SERVER_TICK', DEFAULTS.tickMs),
    requestTimeoutMs: duration(
      'request-timeout',
      args['request-timeout'],
      'MVM_SERVER_REQUEST_TIMEOUT',
      DEFAULTS.requestTimeoutMs,
    ),
    maxConnectionsPerClient: connections(args['max-connections-per-client']),
    maxUncommittedPerJob: bytes(
      'max-uncommitted-per-job',
      args['max-uncommitted-per-job'],
      DEFAULTS.maxUncommittedPerJob,
    ),
    maxUncommittedPerUser: bytes(
      'max-uncommitted-per-user',
      args['max-uncommitted-per-user'],
      DEFAULTS.maxUncommittedPerUser,
    ),
    ...(retention(args.retention) !== undefined ? { retentionMs: retention(args.retention) } : {}),
    metricsAuth: metricsAuth(args['metrics-auth'] ?? process.env.MVM_SERVER_METRICS_AUTH),
  };
}

export const command = defineCommand({
  command: 'server',
  describe: 'run the embedded buildomat-compatible job server',
  builder: (y) =>
    y
      .command(gc)
      .option('data', { type: 'string', default: './mvm-server', describe: 'folder for the database and file bodies' })
      .option('listen', {
        type: 'string',
        default: '127.0.0.1:9300',
        describe: 'HOST:PORT to serve on (port 0: any free port)',
      })
      .option('lease-timeout', {
        type: 'string',
        describe: 'how long a factory lease lasts [60s; env MVM_SERVER_LEASE_TIMEOUT]',
      })
      .option('bootstrap-timeout', {
        type: 'string',
        describe: 'recycle workers not bootstrapped within this [30m; env MVM_SERVER_BOOTSTRAP_TIMEOUT]',
      })
      .option('ping-timeout', {
        type: 'string',
        describe: 'fail workers silent for this long [10m; env MVM_SERVER_PING_TIMEOUT]',
      })
      .option('max-runtime', {
        type: 'string',
        describe: 'fail jobs running longer than this [3h; env MVM_SERVER_MAX_RUNTIME]',
      })
      .option('tick', { type: 'string', describe: 'safety tick for timeouts and dispatch [1s; env MVM_SERVER_TICK]' })
      .option('request-timeout', {
        type: 'string',
        describe: 'a request (headers and body) must arrive within this [2m; env MVM_SERVER_REQUEST_TIMEOUT]',
      })
      .option('max-connections-per-client', {
        type: 'number',
        describe: 'connections one client address may hold at once [256]',
      })
      .option('max-uncommitted-per-job', {
        type: 'number',
        describe: 'bytes of uploaded chunks not yet committed one job may hold [2 GiB]',
      })
      .option('max-uncommitted-per-user', {
        type: 'number',
        describe: "bytes of uploaded chunks not yet committed one user's jobs may hold together [4 GiB]",
      })
      .option('retention', {
        type: 'string',
        describe:
          'remove inputs, outputs and events of jobs ended longer ago than this [off; env MVM_SERVER_RETENTION]',
      })
      .option('metrics-auth', {
        type: 'string',
        describe: '/metrics: open, or token (admin or user token) [open; env MVM_SERVER_METRICS_AUTH]',
      })
      .example('$0 server --data ./lab --listen 127.0.0.1:9300', 'serve on port 9300, keeping state in ./lab')
      .epilog('Set MVM_ADMIN_TOKEN to choose the admin token; otherwise one is made on first start and printed once.'),
  handler: async (args) => {
    const cfg = serverConfig(args);
    useDaemonHeap();
    const { runServer } = await import('./run.js');
    await runServer(cfg);
  },
});
