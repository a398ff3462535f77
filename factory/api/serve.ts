// Starting the factory's API beside the loop: the admin token (given, or kept beside the database),
// the fastify app, and a clear error when the address is taken.
import { dirname, join } from 'node:path';
import type { Logger } from '../../shared/log.js';
import type { FactoryConfig } from '../config/types.js';
import type { FactoryStore } from '../store.js';
import type { Factory } from '../tick.js';
import { closeServerNow } from '../../shared/http-close.js';
import { listenOn } from '../../shared/listen.js';
import { buildApi } from './app.js';
import { observeFactory } from '../observe/routes.js';
import { TestbedService } from './testbed-service.js';
import { adminToken, ApiUsers } from './users.js';

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

export interface StartApiOptions {
  config: FactoryConfig;
  store: FactoryStore;
  factory: Factory;
  /** The factory database: the generated admin token is kept beside it. */
  dbFile: string;
  log: Logger;
  onChange: () => void;
  /** A lock holder's credential for the runner (lock directory); absent: reservations carry none. */
  credential?: (holder: string) => string;
}

export const ADMIN_TOKEN_FILE = 'factory-api-admin-token';

export async function startApi(o: StartApiOptions): Promise<RunningApi | undefined> {
  const listen = o.config.api.listen;
  if (!listen) {
    o.log.info('factory API off ([api] listen = "off")');
    return undefined;
  }
  const admin = adminToken(o.config.api.adminToken, join(dirname(o.dbFile), ADMIN_TOKEN_FILE));
  const users = new ApiUsers(o.store.opened, o.store.now, admin.token);
  const service = new TestbedService({ config: o.config, store: o.store, factory: o.factory, log: o.log });
  const app = buildApi({
    config: o.config,
    store: o.store,
    testbeds: service,
    users,
    log: o.log,
    onChange: o.onChange,
    credential: o.credential,
  });
  observeFactory(app, { config: o.config, store: o.store, factory: o.factory, testbeds: () => service.testbeds() });
  const port = await listenOn(
    app,
    listen,
    'the factory API',
    'another factory may run here: set [api] listen = "127.0.0.1:PORT" to another port, or "off"',
  );
  const url = `http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}`;
  o.log.info({ url, adminToken: admin.source }, 'factory API listening');
  process.stdout.write(
    `mvm factory API at ${url} (admin token: ${admin.source === 'the config' ? 'as configured' : admin.source})\n`,
  );
  return { url, close: () => closeServerNow(app.server, () => app.close()) };
}
