// Is the factory's job-server token accepted? Asked at start-up (before "started") and by
// `mvm factory --check` when the server answers, so a wrong token stops the factory with its own
// hint instead of a 401 logged on every pass.
import { FactoryClient } from '../shared/buildomat/factory.js';
import { ApiError, MvmError } from '../shared/errors.js';
import type { FactoryConfig } from './config/types.js';
import { serverHttp } from './server-http.js';

/** Resolves when the server accepts the token; throws CONFIG_INVALID when it refuses it; network errors pass through. */
export async function checkFactoryToken(config: FactoryConfig, signal?: AbortSignal): Promise<void> {
  const client = new FactoryClient(serverHttp(config, config.token));
  try {
    await client.ping({ signal });
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      throw new MvmError(
        'CONFIG_INVALID',
        `the job server at ${config.baseUrl} refused the factory token (${err.status}): [factory] token (or token_file, or MVM_FACTORY_TOKEN) of ${config.file} is not a factory token it knows`,
        {
          hint: 'create one on the job server with `mvm admin factory create NAME` and put it in token_file; a user or worker token will not do',
          cause: err,
        },
      );
    }
    throw err;
  }
}
