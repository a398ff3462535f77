// Where `mvm fleet miners|show|…` find the fleet daemon: --fleet-url/--fleet-token, then MVM_FLEET_URL/
// MVM_FLEET_TOKEN, then fleet_url/fleet_token in the profile. API failures become errors that say
// what the fleet refused and why, with its own hint.
import { homedir } from 'node:os';
import { ApiError, MvmError } from '../shared/errors.js';
import { HttpClient, type RawResponse } from '../shared/http.js';
import { nodeTransport } from '../shared/http-node.js';
import { MVM_VERSION } from '../shared/paths.js';
import { profileName, readProfile, urlProblem } from './profile.js';

export interface FleetFlags {
  url?: string;
  token?: string;
}

export interface FleetConnection {
  url: string;
  token: string;
  tokenSource: string;
}

export function resolveFleet(
  flags: FleetFlags,
  env: Record<string, string | undefined> = process.env,
  home = homedir(),
): FleetConnection {
  const need = !(flags.url || env.MVM_FLEET_URL) || !(flags.token || env.MVM_FLEET_TOKEN) || profileName(env);
  const { place: file, profile } = need ? readProfile(env, home) : { place: '', profile: undefined };
  const url = flags.url || env.MVM_FLEET_URL || profile?.fleet_url;
  if (!url)
    throw new MvmError('USAGE', 'no fleet API URL given', {
      hint: `pass --fleet-url http://HOST:9320, set MVM_FLEET_URL, or put fleet_url = "…" in ${file}`,
    });
  const bad = urlProblem(url);
  if (bad) throw new MvmError('USAGE', `bad fleet API URL: ${bad}`, { hint: 'e.g. --fleet-url http://127.0.0.1:9320' });
  const [token, tokenSource] = flags.token
    ? [flags.token, '--fleet-token']
    : env.MVM_FLEET_TOKEN
      ? [env.MVM_FLEET_TOKEN, 'MVM_FLEET_TOKEN']
      : [profile?.fleet_token, `fleet_token in ${file}`];
  if (!token) {
    throw new MvmError('USAGE', `no token for the fleet API at ${url}`, {
      hint: `pass --fleet-token, set MVM_FLEET_TOKEN, or put fleet_token = "…" in ${file}; the admin token is in the fleet's --data folder (fleet-api-admin-token) unless [fleet] admin_token_file says otherwise`,
    });
  }
  return { url: url.replace(/\/+$/, ''), token, tokenSource };
}

export class FleetClient {
  readonly http: HttpClient;

  constructor(readonly conn: FleetConnection) {
    this.http = new HttpClient({
      baseUrl: conn.url,
      token: conn.token,
      userAgent: `mvm/${MVM_VERSION}`,
      timeoutMs: 10 * 60_000,
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

  async stream(path: string, doing: string, signal?: AbortSignal): Promise<RawResponse> {
    try {
      return await this.http.raw('GET', path, {
        signal,
        timeoutMs: 24 * 3_600_000,
        headers: { accept: 'text/event-stream' },
      });
    } catch (err) {
      throw this.explain(err, doing);
    }
  }

  private explain(err: unknown, doing: string): unknown {
    if (!(err instanceof ApiError)) return err;
    const body = (err.body ?? {}) as { message?: string; hint?: string };
    if (err.status === undefined) {
      return new MvmError('NETWORK', `cannot reach the fleet API at ${this.conn.url} (to ${doing}): ${err.message}`, {
        cause: err,
        retryable: true,
        hint: 'check that `mvm fleet --config … --data …` runs and that --fleet-url / MVM_FLEET_URL is its listen address',
      });
    }
    if (err.status === 401)
      return new MvmError(
        'API_ERROR',
        `the fleet API at ${this.conn.url} refused the token from ${this.conn.tokenSource}: ${body.message ?? 'unauthorized'}`,
        { cause: err, hint: body.hint },
      );
    const code =
      err.status === 404
        ? 'NOT_FOUND'
        : err.status === 409
          ? 'CONFLICT'
          : err.status === 403
            ? 'FORBIDDEN'
            : err.status === 400
              ? 'USAGE'
              : 'API_ERROR';
    return new MvmError(code, `cannot ${doing}: ${body.message ?? `HTTP ${err.status}`}`, {
      cause: err,
      hint: body.hint,
    });
  }
}

export function connectFleet(flags: FleetFlags): FleetClient {
  return new FleetClient(resolveFleet(flags));
}
