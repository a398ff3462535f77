// One root logger per process: pretty on a TTY, JSON lines otherwise, secrets redacted.
// Components take child loggers with ids (testbed, instance, job, worker).
import { colorEnabled } from './color.js';
import { pino, type Logger, type LoggerOptions } from 'pino';
import { createRequire } from 'node:module';

// pino-pretty only on a terminal: loaded on demand, so daemons and agents start without it.
const require = createRequire(import.meta.url);
const pretty = (opts: Record<string, unknown>) =>
  (require('pino-pretty') as (o: Record<string, unknown>) => NodeJS.WritableStream)(opts);

export type { Logger } from 'pino';

/** Keys whose values never reach a log line, wherever they appear (up to two levels deep). */
export const REDACTED_KEYS = [
  'token',
  'authorization',
  'bootstrap',
  'password',
  'passwd',
  'secret',
  'admin_token',
  'factory_token',
  'private_key',
];

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const k of REDACTED_KEYS) {
    paths.push(k, `*.${k}`, `*.*.${k}`, `headers.${k}`, `req.headers.${k}`);
  }
  return paths;
}

export interface LoggerSetup {
  level?: string;
  /** Force pretty (true) or JSON (false); default: pretty when stderr is a TTY. */
  pretty?: boolean;
  /** Destination stream; default: stderr, so stdout stays clean for command output. */
  destination?: NodeJS.WritableStream;
  name?: string;
}

export function createLogger(setup: LoggerSetup = {}): Logger {
  const opts: LoggerOptions = {
    level: setup.level ?? process.env.MVM_LOG_LEVEL ?? 'info',
    name: setup.name,
    redact: { paths: redactPaths(), censor: '[redacted]' },
    base: { pid: process.pid },
  };
  const usePretty = setup.pretty ?? Boolean(process.stderr.isTTY);
  if (usePretty) {
    return pino(
      opts,
      pretty({
        destination: (setup.destination as never) ?? 2,
        sync: true,
        colorize: colorEnabled(process.stderr),
        ignore: 'pid,hostname',
      }),
    );
  }
  // Synchronous writes to fd 2: a line logged just before the process exits is not lost.
  return pino(opts, setup.destination ?? pino.destination({ dest: 2, sync: true }));
}

let root: Logger | undefined;

/** The process's root logger, created on first use. */
export function rootLogger(): Logger {
  root ??= createLogger();
  return root;
}

export function setRootLogger(logger: Logger): void {
  root = logger;
}

/** A logger that discards everything: for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
