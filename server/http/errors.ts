// Errors the API answers with: a status, a clear message and buildomat's optional error code.
// The app's error handler turns them into the spec's Error body {message, request_id, error_code?}.

export class HttpError extends Error {
  readonly status: number;
  readonly errorCode: string | undefined;
  constructor(status: number, message: string, errorCode?: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.errorCode = errorCode;
  }
}

export const badRequest = (message: string, code = 'BadRequest') => new HttpError(400, message, code);
export const unauthorized = (message: string) => new HttpError(401, message, 'Unauthorized');
export const forbidden = (message: string) => new HttpError(403, message, 'Forbidden');
export const notFound = (message: string) => new HttpError(404, message, 'NotFound');
export const conflict = (message: string) => new HttpError(409, message, 'Conflict');
export const tooLarge = (message: string) => new HttpError(413, message, 'PayloadTooLarge');

/**
 * The storage under a request failed in a way that passes: the database locked by another
 * process (SQLITE_BUSY after the busy timeout), or the data folder full (ENOSPC, SQLITE_FULL).
 * Nothing of the request was stored — its transaction rolled back, its file removed — so the
 * client may simply retry: 503 or 507, both 5xx, which every mvm client retries with backoff.
 * Anything else is undefined (a real internal error).
 */
export function storageError(err: unknown): HttpError | undefined {
  const code = String((err as { code?: unknown } | undefined)?.code ?? '');
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) {
    return new HttpError(
      503,
      `the server's database is locked by another process (${code}); nothing was stored: retry shortly`,
      'ServiceUnavailable',
    );
  }
  if (code === 'ENOSPC' || code === 'EDQUOT' || /^SQLITE_FULL/.test(code)) {
    return new HttpError(
      507,
      `the server's data folder is full (${code}); nothing was stored: free space on the server, then retry`,
      'InsufficientStorage',
    );
  }
  return undefined;
}
