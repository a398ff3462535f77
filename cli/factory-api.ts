// Where `mvm testbeds` (and `mvm job run --spec`) find a factory's API: --lab-url/--lab-token, then
// MVM_LAB_URL/MVM_LAB_TOKEN, then lab_url/lab_token in the profile. API failures become errors that
// say which factory refused what, with the factory's own message and hint.
import { homedir } from 'node:os';
import { ApiError, MvmError } from '../shared/errors.js';
import { HttpClient } from '../shared/http.js';
import { nodeTransport } from '../shared/http-node.js';
import { MVM_VERSION } from '../shared/paths.js';
import { profileName, readProfile, urlProblem } from './profile.js';

import type { LabFlags } from './options.js';

export type { LabFlags };

export interface LabConnection {
  url: string;
  token: string;
  tokenSource: string;
}

export function resolveLab(
  flags: LabFlags,
  env: Record<string, string | undefined> = process.env,
  home = homedir(),
): LabConnection {
  const need = !(flags['lab-url'] || env.MVM_LAB_URL) || !(flags['lab-token'] || env.MVM_LAB_TOKEN) || profileName(env);
  const { place: file, profile } = need ? readProfile(env, home) : { place: '', profile: undefined };
  const url = flags['lab-url'] || env.MVM_LAB_URL || profile?.lab_url;
  if (!url)
    throw new MvmError('USAGE', 'no factory API URL given', {
      hint: `pass --lab-url http://HOST:9310, set MVM_LAB_URL, or put lab_url = "…" in ${file}`,
    });
  const bad = urlProblem(url);
  if (bad) throw new MvmError('USAGE', `bad factory API URL: ${bad}`, { hint: 'e.g. --lab-url http://127.0.0.1:9310' });
  const [token, tokenSource] = flags['lab-token']
    ? [flags['lab-token'], '--lab-token']
    : env.MVM_LAB_TOKEN
      ? [env.MVM_LAB_TOKEN, 'MVM_LAB_TOKEN']
      : [profile?.lab_token, `lab_token in ${file}`];
  if (!token) {
    throw new MvmError('USAGE', `no token for the factory API at ${url}`, {
      hint: `pass --lab-token, set MVM_LAB_TOKEN, or put lab_token = "…" in ${file}; an admin makes one with \`mvm testbeds user create NAME\` (the admin token is in the factory's [api] admin_token_file, or beside its database)`,
    });
  }
  return { url: url.replace(/\/+$/, ''), token, tokenSource };
}

export class LabClient {
  private readonly http: HttpClient;

  constructor(readonly conn: LabConnection) {
    this.http = new HttpClient({
      baseUrl: conn.url,
      token: conn.token,
      userAgent: `mvm/${MVM_VERSION}`,
      transport: nodeTransport,
    });
  }

  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, doing: string, json?: unknown): Promise<T> {
    try {
      if (method === 'GET') return await this.http.get<T>(path);
      if (method === 'DELETE') return await this.http.delete<T>(path);
      return method === 'POST' ? await this.http.post<T>(path, json ?? {}) : await this.http.put<T>(path, json ?? {});
    } catch (err) {
      throw this.explain(err, doing);
    }
  }

  /** A text reply (e.g. /metrics). */
  async text(path: string, doing: string): Promise<string> {
    try {
      const res = await this.http.raw('GET', path);
      const chunks: Buffer[] = [];
      for await (const c of res.body) chunks.push(Buffer.from(c as Uint8Array));
      return Buffer.concat(chunks).toString('utf8');
    } catch (err) {
      throw this.explain(err, doing);
    }
  }

  private explain(err: unknown, doing: string): unknown {
    if (!(err instanceof ApiError)) return err;
    const body = (err.body ?? {}) as {
      message?: string;
      hint?: string;
      testbeds?: Array<{ name: string; why: string }>;
    };
    if (err.status === undefined) {
      return new MvmError('NETWORK', `cannot reach the factory API at ${this.conn.url} (to ${doing}): ${err.message}`, {
        cause: err,
        retryable: true,
        hint: 'check that the factory runs and that --lab-url / MVM_LAB_URL is its [api] listen address',
      });
    }
    if (err.status === 401) {
      return new MvmError(
        'API_ERROR',
        `the factory API at ${this.conn.url} refused the token from ${this.conn.tokenSource}: ${body.message ?? 'unauthorized'}`,
        { cause: err, hint: body.hint },
      );
    }
    const detail = body.testbeds?.length ? `\n${body.testbeds.map((t) => `  ${t.name}: ${t.why}`).join('\n')}` : '';
    const code =
      err.status === 404
        ? 'NOT_FOUND'
        : err.status === 409 || err.status === 422
          ? 'CONFLICT'
          : err.status === 403
            ? 'FORBIDDEN'
            : 'API_ERROR';
    return new MvmError(code, `cannot ${doing}: ${body.message ?? `HTTP ${err.status}`}${detail}`, {
      cause: err,
      hint: body.hint,
    });
  }
}
