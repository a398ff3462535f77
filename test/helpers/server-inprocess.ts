// The job server in the test's own process: server/run.ts's startServer (the wiring `mvm server`
// runs) on a real SQLite file in a temp folder, real HTTP on a loopback port, its log lines kept,
// and a clock the test moves forward. Tests of the server's API use it; tests of the process
// itself (kill -9, signals, the command line) spawn it with startServer from server.ts.
import { Writable } from 'node:stream';
import { DEFAULTS, type ServerConfig } from '../../server/config.js';
import type { ServerContext } from '../../server/context.js';
import { startServer, type RunningServer } from '../../server/run.js';
import { newToken } from '../../shared/ids.js';
import { createLogger } from '../../shared/log.js';
import { serverApi, type ServerApi } from './server.js';
import { tempDir } from './tmp.js';

/** Real time plus however far the test has moved it: stored times and timeouts follow it. */
export class TestClock {
  private offset = 0;
  readonly now = (): number => Date.now() + this.offset;
  advance(ms: number): void {
    this.offset += ms;
  }
}

export interface InProcessOptions {
  /** Tunables other than the data folder and address (default: `mvm server`'s defaults). */
  config?: Partial<Omit<ServerConfig, 'dataDir' | 'host' | 'port'>>;
  /** Reuse a data folder (default: a new temp folder removed at teardown). */
  dataDir?: string;
  adminToken?: string;
}

export interface InProcessServer extends ServerApi {
  ctx: ServerContext;
  clock: TestClock;
  /** Runs the safety tick now (timeouts, lapsed leases, dispatch, disk reclaiming): after clock.advance. */
  tick(): void;
  /** Closes the server (also done at teardown). */
  close(): Promise<void>;
}

/** Collects log lines; MVM_TEST_ECHO=1 also prints them, as for a spawned server. */
function lineSink(lines: string[]): Writable {
  let rest = '';
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop()!;
      lines.push(...parts);
      if (process.env.MVM_TEST_ECHO) for (const l of parts) process.stderr.write(`[server] ${l}\n`);
      done();
    },
  });
}

export async function startServerInProcess(
  t: { teardown(fn: () => void | Promise<void>): void },
  opts: InProcessOptions = {},
): Promise<InProcessServer> {
  const dataDir = opts.dataDir ?? tempDir(t, 'mvm-server-');
  const adminToken = opts.adminToken ?? newToken();
  const clock = new TestClock();
  const logs: string[] = [];
  const log = createLogger({ pretty: false, level: process.env.MVM_LOG_LEVEL ?? 'debug', destination: lineSink(logs) });
  const running: RunningServer = await startServer(
    { ...DEFAULTS, ...opts.config, dataDir, host: '127.0.0.1', port: 0 },
    { log, adminToken, now: clock.now },
  );
  t.teardown(() => running.close());
  return {
    url: running.url,
    adminToken,
    dataDir,
    logs,
    ...serverApi(running.url, adminToken),
    ctx: running.ctx,
    clock,
    tick: running.tick,
    close: running.close,
  };
}
