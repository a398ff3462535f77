// The demo's processes: the job server (in this process, logging to a file), the simulated lab
// (in this process), the factory and the fleet controller (children, each in its own process
// group as a lab host runs them, so that Ctrl-C reaches the demo alone and the demo stops them once,
// cleanly). Stopping also stops any agent the factory left running: the demo leaves nothing behind.
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MvmError } from '../../shared/errors.js';
import { createLogger } from '../../shared/log.js';
import { MVM_BIN } from '../../shared/paths.js';
import { stopProcessGroup } from '../../shared/process-tree.js';
import { DEFAULTS } from '../../server/config.js';
import { startServer } from '../../server/run.js';
import { ADMIN_TOKEN_FILE } from '../../factory/api/serve.js';
import { FLEET_ADMIN_TOKEN_FILE } from '../../fleet/api/tokens.js';

export interface DemoServer {
  url: string;
  close(): Promise<void>;
}

export function fileLogger(file: string) {
  const stream = createWriteStream(file, { flags: 'a' });
  return { log: createLogger({ destination: stream, pretty: false, level: 'info' }), stream };
}

export async function startDemoServer(
  dataDir: string,
  host: string,
  port: number,
  adminToken: string,
  logFile: string,
): Promise<DemoServer> {
  const { log, stream } = fileLogger(logFile);
  const server = await startServer({ ...DEFAULTS, dataDir, host, port }, { log, adminToken });
  return {
    url: server.url,
    close: async () => {
      await server.close();
      stream.end();
    },
  };
}

export interface DemoFactory {
  apiUrl: string;
  adminToken: string;
  child: ChildProcess;
  stop(): Promise<{ agentsStopped: number }>;
}

interface DaemonChild {
  apiUrl: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `mvm ARGS…` in its own process group, its output into `logFile`, and waits for `ready`
 * (a line) and the API URL (`apiRe`'s first group).
 */
async function startDaemonChild(
  what: string,
  args: string[],
  ready: RegExp,
  apiRe: RegExp,
  logFile: string,
  signal: AbortSignal,
): Promise<DaemonChild> {
  const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [MVM_BIN, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MVM_LOG_LEVEL: process.env.MVM_LOG_LEVEL ?? 'info' },
  });
  const exited = once(child, 'exit').then(([code, sig]) => (code ?? sig) as number | string);
  let apiUrl: string | undefined;
  let startedResolve!: () => void;
  const started = new Promise<void>((r) => (startedResolve = r));
  const tail: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      log.write(line + '\n');
      tail.push(line);
      if (tail.length > 20) tail.shift();
      const m = apiRe.exec(line);
      if (m) apiUrl = m[1];
      if (ready.test(line)) startedResolve();
    });
  }
  const outcome = await Promise.race([
    started.then(() => 'started' as const),
    exited.then((code) => ({ code })),
    new Promise<'aborted'>((r) => signal.addEventListener('abort', () => r('aborted'), { once: true })),
  ]);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // The demo stops everything anyway: no drain. A second SIGTERM makes the factory stop at once.
      child.kill('SIGTERM');
      const again = setTimeout(() => child.kill('SIGTERM'), 500);
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(again);
      clearTimeout(kill);
    }
    log.end();
  };
  if (outcome !== 'started') {
    await stop();
    if (outcome === 'aborted') throw new MvmError('ABORTED', `stopped while the ${what} was starting`);
    throw new MvmError('INTERNAL', `the ${what} exited (${outcome.code}) before it started:\n  ${tail.join('\n  ')}`, {
      hint: `its log is ${logFile}`,
    });
  }
  if (!apiUrl) throw new MvmError('INTERNAL', `the ${what} started without its API`, { hint: `see ${logFile}` });
  return { apiUrl, child, stop };
}

/** Starts `mvm factory` and waits until it runs its loop and its API listens. */
export async function startDemoFactory(
  configFile: string,
  dbFile: string,
  logFile: string,
  signal: AbortSignal,
): Promise<DemoFactory> {
  const d = await startDaemonChild(
    'factory',
    ['factory', '-f', configFile, '-d', dbFile],
    /^mvm factory started$/,
    /^mvm factory API at (\S+)/,
    logFile,
    signal,
  );
  const adminToken = readFileSync(join(join(dbFile, '..'), ADMIN_TOKEN_FILE), 'utf8').trim();
  return {
    apiUrl: d.apiUrl,
    adminToken,
    child: d.child,
    stop: async () => {
      await d.stop();
      return { agentsStopped: await stopLeftAgents(dbFile) };
    },
  };
}

export interface DemoFleet {
  apiUrl: string;
  adminToken: string;
  stop(): Promise<void>;
}

/** Starts `mvm fleet` over the demo's config and waits until its API listens. */
export async function startDemoFleet(
  configFile: string,
  dataDir: string,
  listen: string,
  logFile: string,
  signal: AbortSignal,
): Promise<DemoFleet> {
  const d = await startDaemonChild(
    'fleet',
    ['fleet', '--config', configFile, '--data', dataDir, '--listen', listen],
    /^mvm fleet started/,
    /^mvm fleet API at (\S+)/,
    logFile,
    signal,
  );
  return {
    apiUrl: d.apiUrl,
    adminToken: readFileSync(join(dataDir, FLEET_ADMIN_TOKEN_FILE), 'utf8').trim(),
    stop: d.stop,
  };
}

/** Agents of live instances still running after the factory stopped (a lab leaves them for the next start; the demo does not). */
async function stopLeftAgents(dbFile: string): Promise<number> {
  if (!existsSync(dbFile)) return 0;
  const db = new Database(dbFile, { readonly: true });
  let groups: number[];
  try {
    groups = (
      db
        .prepare("select agent_pgid from instances where state <> 'destroyed' and agent_pgid is not null")
        .all() as Array<{ agent_pgid: number }>
    ).map((r) => r.agent_pgid);
  } finally {
    db.close();
  }
  const results = await Promise.all(groups.map((g) => stopProcessGroup(g, 3000)));
  return results.filter((r) => r.outcome !== 'gone').length;
}
