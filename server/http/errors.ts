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
