// Options shared by `mvm job` and `mvm admin`.
import type { Argv } from 'yargs';

/** --url and --token; `tokenEnv` names the environment variable read when --token is absent. */
export function withConnection<T>(y: Argv<T>, tokenEnv: string): Argv<T & { url: string | undefined; token: string | undefined }> {
  return y
    .option('url', { type: 'string', describe: 'job server URL (else MVM_URL, else the profile)' })
    .option('token', { type: 'string', describe: `token (else ${tokenEnv}, else the profile)` });
}
