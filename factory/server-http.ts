// How the factory reaches the job server: through node:http (shared/http-node.ts), not undici.
// The factory sends a few small requests a second at most, where undici buys nothing, and
// loading it (with its WebAssembly HTTP parser) costs an idle factory ~15 MB of its footprint.
import type { HttpClientOptions } from '../shared/http.js';
import { nodeTransport } from '../shared/http-node.js';
import type { FactoryConfig } from './config/types.js';

/** Client options for the job server at `config.baseUrl`, with `token` (none for a worker's bootstrap). */
export function serverHttp(config: Pick<FactoryConfig, 'baseUrl'>, token?: string): HttpClientOptions {
  return { baseUrl: config.baseUrl, token, transport: nodeTransport };
}
