// Turns a resolved connection into API clients, and the API's failures into errors a person can act
// on: which server could not be reached, which token was refused and how to give another one.
import { AdminClient } from '../shared/buildomat/admin.js';
import { UserClient } from '../shared/buildomat/user.js';
import { ApiError, MvmError } from '../shared/errors.js';
import { HttpClient } from '../shared/http.js';
import { nodeTransport } from '../shared/http-node.js';
import { MVM_VERSION } from '../shared/paths.js';
import { resolveConnection, tokenHelp, type Connection, type ConnectionFlags, type TokenKind } from './profile.js';

export function httpClient(conn: Connection): HttpClient {
  return new HttpClient({
    baseUrl: conn.url,
    token: conn.token,
    userAgent: `mvm/${MVM_VERSION}`,
    transport: nodeTransport,
  });
}

export function connectUser(flags: ConnectionFlags): { conn: Connection; client: UserClient } {
  const conn = resolveConnection('user', flags);
  return { conn, client: new UserClient(httpClient(conn)) };
}

export function connectAdmin(flags: ConnectionFlags): { conn: Connection; client: AdminClient } {
  const conn = resolveConnection('admin', flags);
  return { conn, client: new AdminClient(httpClient(conn)) };
}

const OTHER_KIND: Record<TokenKind, string> = {
  user: 'job commands need a user token (`mvm admin user create NAME` makes one)',
  admin:
    'admin commands need the admin token (printed once when `mvm server` first starts, or the MVM_ADMIN_TOKEN it was given)',
};

export interface ErrorContext {
  /** The job the command was about, for "no such job" messages. */
  job?: string;
  /** What was being done, e.g. "cancel the job". */
  doing?: string;
  /** What to do when the server refuses the request's content (4xx), e.g. which option to check. */
  hint?: string;
}

/** Rewrites an API failure into an MvmError that says what to do; other errors pass through. */
export function explain(err: unknown, conn: Connection, ctx: ErrorContext = {}): unknown {
  if (!(err instanceof ApiError)) return err;
  const doing = ctx.doing ? ` (while trying to ${ctx.doing})` : '';
  const serverMsg = serverMessage(err);
  if (err.status === undefined) {
    return new MvmError('NETWORK', `cannot reach the job server at ${conn.url}${doing}: ${rootCause(err)}`, {
      cause: err,
      retryable: true,
      hint: 'check that the server is running (`mvm server`) and that --url / MVM_URL / the profile url is right',
    });
  }
  if (err.status === 401) {
    return new MvmError(
      'API_ERROR',
      `the job server at ${conn.url} refused the ${conn.kind} token from ${conn.tokenSource}${doing}${serverMsg}`,
      {
        cause: err,
        hint: `${OTHER_KIND[conn.kind]}; ${tokenHelp(conn.kind)}`,
      },
    );
  }
  if (err.status === 403) {
    return new MvmError(
      'API_ERROR',
      `the ${conn.kind} token from ${conn.tokenSource} is not allowed to do this${doing}${serverMsg}`,
      {
        cause: err,
        hint: OTHER_KIND[conn.kind],
      },
    );
  }
  if (err.status === 404 && ctx.job !== undefined) {
    return new MvmError('NOT_FOUND', `no job ${ctx.job} on ${conn.url}${doing}${serverMsg}`, {
      cause: err,
      hint: '`mvm job list` shows the jobs this token can see',
    });
  }
  if (err.status === 409) {
    return new MvmError(
      'CONFLICT',
      `${ctx.doing ? `cannot ${ctx.doing}` : 'the server refused'}${serverMsg || ': conflict'}`,
      {
        cause: err,
        hint: err.hint,
      },
    );
  }
  if (err.status >= 400 && err.status < 500) {
    return new MvmError(
      'API_ERROR',
      `${ctx.doing ? `cannot ${ctx.doing}` : 'the server refused the request'}${serverMsg || `: ${err.status}`}`,
      {
        cause: err,
        hint: /no such target/.test(serverMsg)
          ? 'check --target: give one of the names above (a job file names it in `#: target = "…"`); `mvm testbeds list` shows which testbeds serve each target'
          : (ctx.hint ?? err.hint ?? 'the server named what it refused; fix it and run again'),
      },
    );
  }
  return err;
}

function serverMessage(err: ApiError): string {
  const body = err.body as { message?: unknown } | undefined;
  return body && typeof body === 'object' && typeof body.message === 'string' && body.message
    ? `: ${body.message}`
    : '';
}

function rootCause(err: ApiError): string {
  let e: unknown = err.cause;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  const code = (e as { code?: string } | undefined)?.code;
  const msg = e instanceof Error ? e.message : err.message;
  return code && !msg.includes(code) ? `${msg} (${code})` : msg || String(code);
}

/** Runs `fn`, rewriting API failures with `explain`. */
export async function explained<T>(conn: Connection, ctx: ErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw explain(err, conn, ctx);
  }
}

export type { ConnectionFlags };
