// A request to a daemon's JSON API as the tests make them: bearer token (a default one, another,
// or none), a JSON body, and the answer's status and body (JSON when it parses, else its text).
// Never throws for a status: the tests check the status themselves.

export interface ApiAnswer {
  status: number;
  body: any;
}

export type ApiCall = (
  method: string,
  path: string,
  opts?: { token?: string | null; body?: unknown },
) => Promise<ApiAnswer>;

/** Requests to `url` with `defaultToken` unless a call names another token (or null: none). */
export function apiCaller(url: string, defaultToken: string): ApiCall {
  return async (method, path, o = {}) => {
    const token = o.token === undefined ? defaultToken : o.token;
    const res = await fetch(url + path, {
      method,
      headers: {
        ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
        ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(o.body !== undefined ? { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) } : {}),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* keep the text */
    }
    return { status: res.status, body };
  };
}
