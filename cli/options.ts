// Options shared by `mvm job`, `mvm admin` and `mvm testbeds`. Cheap to import: every command's
// definition is loaded at start-up, so nothing here pulls in an HTTP client or a parser.
import type { Argv } from 'yargs';

/** --url and --token; `tokenEnv` names the environment variable read when --token is absent. */
export function withConnection<T>(
  y: Argv<T>,
  tokenEnv: string,
): Argv<T & { url: string | undefined; token: string | undefined }> {
  return y
    .option('url', { type: 'string', describe: 'job server URL (else MVM_URL, else the profile)' })
    .option('token', { type: 'string', describe: `token (else ${tokenEnv}, else the profile)` });
}

export interface LabFlags {
  'lab-url'?: string;
  'lab-token'?: string;
  /** One lab of the profile's, by name ("default" for lab_url). */
  lab?: string;
}

/** --lab-url and --lab-token: where the factory's API is (`mvm testbeds`, `mvm job run --spec`). */
export function withLab<T>(y: Argv<T>): Argv<T & LabFlags> {
  return y
    .option('lab-url', {
      type: 'string',
      describe: "the factory's API URL (else MVM_LAB_URL, else lab_url in the profile)",
    })
    .option('lab-token', {
      type: 'string',
      describe: 'a factory API token (else MVM_LAB_TOKEN, else lab_token in the profile)',
    })
    .option('lab', { type: 'string', describe: 'only this lab of the profile ([lab.NAME]; "default" for lab_url)' });
}
