// Typed errors: every failure mvm reports carries a stable code, a human message and a hint
// that says what to do about it. The original error is kept as `cause`.

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'API_ERROR'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'FORBIDDEN'
  | 'ILLEGAL_TRANSITION'
  | 'DEVICE'
  | 'IO'
  | 'INTERNAL';

export interface MvmErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Whether trying the same operation again may succeed. */
  retryable?: boolean;
}

export class MvmError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, opts: MvmErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = opts.hint;
    this.retryable = opts.retryable ?? false;
  }
}

/** One configuration problem, located by file and key. */
export interface ConfigProblem {
  file: string;
  key: string;
  message: string;
  hint?: string;
}

/** Configuration failed validation: carries every problem found, not just the first. */
export class ConfigError extends MvmError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(
      'CONFIG_INVALID',
      `${problems.length} configuration problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  ${p.file}: ${p.key}: ${p.message}${p.hint ? `\n      hint: ${p.hint}` : ''}`).join('\n'),
      { hint: 'fix the keys listed above and run again' },
    );
    this.problems = problems;
  }
}

/** An HTTP API answered with an error status (or could not be reached). */
export class ApiError extends MvmError {
  readonly status: number | undefined;
  readonly method: string;
  readonly url: string;
  readonly body: unknown;

  constructor(
    method: string,
    url: string,
    status: number | undefined,
    message: string,
    opts: MvmErrorOptions & { body?: unknown } = {},
  ) {
    const retryable = opts.retryable ?? (status === undefined || status === 408 || status === 429 || status >= 500);
    super(status === undefined ? 'NETWORK' : 'API_ERROR', message, { ...opts, retryable });
    this.status = status;
    this.method = method;
    this.url = url;
    this.body = opts.body;
  }
}

/** A state machine was asked for a transition it does not allow. */
export class IllegalTransitionError extends MvmError {
  constructor(what: string, from: string, to: string, hint?: string) {
    super('ILLEGAL_TRANSITION', `${what}: illegal transition ${from} -> ${to}`, { hint });
  }
}

/** A device (miner, testbed tool) misbehaved: unreachable, refused, wrong answer. */
export class DeviceError extends MvmError {
  readonly device: string;
  constructor(device: string, message: string, opts: MvmErrorOptions = {}) {
    super('DEVICE', `${device}: ${message}`, opts);
    this.device = device;
  }
}

/**
 * An operation ran out of its time. Its own class and code, so callers test `instanceof
 * TimeoutError` (or `code === 'TIMEOUT'`), never a message. Retryable: the next attempt may be
 * quicker.
 */
export class TimeoutError extends MvmError {
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number, opts: MvmErrorOptions = {}) {
    super('TIMEOUT', `${what} did not finish within ${timeoutMs} ms`, { retryable: true, ...opts });
    this.timeoutMs = timeoutMs;
  }
}

export function isAbortError(err: unknown): boolean {
  return (
    (err instanceof MvmError && err.code === 'ABORTED') ||
    (err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'ABORT_ERR'))
  );
}

export function isRetryable(err: unknown): boolean {
  if (isAbortError(err)) return false;
  if (err instanceof MvmError) return err.retryable;
  // Socket-level failures from undici or node:net are worth another try.
  const code = (err as { code?: string } | undefined)?.code;
  return (
    typeof code === 'string' &&
    /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|UND_ERR_.*)$/.test(code)
  );
}

/** A one-line description of any thrown value, with the hint when there is one. */
export function describeError(err: unknown): string {
  if (err instanceof MvmError) return err.hint ? `${err.message} (hint: ${err.hint})` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
