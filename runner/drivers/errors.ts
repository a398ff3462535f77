// Typed device failures. Every driver failure is a DriverError: a DeviceError (code DEVICE) with a
// machine-readable `reason` so callers and tests can tell "unreachable" from "refused" from
// "needs attention", and a hint that says what a person should do.
import { DeviceError, describeError } from '../../shared/errors.js';
import { abortError } from '../../shared/sleep.js';

export type DriverFailure =
  /** Nothing answered (connection refused, reset, no datagrams). */
  | 'unreachable'
  /** The device did not answer within the bound. */
  | 'timeout'
  /** The device answered but said no (HTTP 4xx, cgminer STATUS=E, tool exit code). */
  | 'refused'
  /** The reply could not be understood. */
  | 'bad_reply'
  /** The driver or this model cannot do that. */
  | 'unsupported'
  /** A value given by the caller is out of range or malformed. */
  | 'invalid_argument'
  /** The firmware image is wrong for this device (checked before anything was sent). */
  | 'image_rejected'
  /** The device took the update but did not come back as expected. */
  | 'verify_failed'
  /** Verification and recovery failed: a person must look at the device. */
  | 'needs_attention';

export class DriverError extends DeviceError {
  readonly reason: DriverFailure;
  readonly details: Record<string, unknown>;

  constructor(
    device: string,
    reason: DriverFailure,
    message: string,
    opts: { hint?: string; cause?: unknown; retryable?: boolean; details?: Record<string, unknown> } = {},
  ) {
    super(device, message, {
      hint: opts.hint ?? defaultHint(reason),
      cause: opts.cause,
      retryable: opts.retryable ?? (reason === 'unreachable' || reason === 'timeout'),
    });
    this.reason = reason;
    this.details = opts.details ?? {};
  }
}

function defaultHint(reason: DriverFailure): string {
  switch (reason) {
    case 'unreachable':
      return 'check that the device is powered, on the network, and that the address in the testbed description is right';
    case 'timeout':
      return 'the device is slow or hung; check it, or raise the timeout';
    case 'refused':
      return 'the device refused the request; check the values and the firmware version';
    case 'bad_reply':
      return 'the device answered something unexpected; check its firmware version against the driver';
    case 'unsupported':
      return 'this device or driver cannot do that; see doc/drivers.md for what each driver supports';
    case 'invalid_argument':
      return 'fix the value and run again';
    case 'image_rejected':
      return 'use an image built for this device family; nothing was sent to the device';
    case 'verify_failed':
      return 'the update did not take; the runner tries the recovery path';
    case 'needs_attention':
      return 'the device needs a person: reflash it over serial (doc/runner.md, "Recovery") and mark the testbed for maintenance';
  }
}

/** Signals for one operation: the caller's signal plus a timeout. Call `done()` when finished. */
export function operationSignal(
  opts: { signal?: AbortSignal; timeoutMs?: number },
  defaultTimeoutMs: number,
): { signal: AbortSignal; timeoutMs: number; timedOut: () => boolean; done: () => void } {
  const timeoutMs = opts.timeoutMs ?? defaultTimeoutMs;
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort(new Error(`timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  timer.unref?.();
  const onAbort = () => ctl.abort(opts.signal?.reason);
  if (opts.signal?.aborted) ctl.abort(opts.signal.reason);
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: ctl.signal,
    timeoutMs,
    timedOut: () => timedOut,
    done: () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Runs `fn` under a timeout and the caller's signal; a timeout becomes DriverError('timeout'), an abort
 * by the caller stays an ABORTED MvmError, anything else passes through.
 */
export async function withDeadline<T>(
  device: string,
  what: string,
  opts: { signal?: AbortSignal; timeoutMs?: number },
  defaultTimeoutMs: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const op = operationSignal(opts, defaultTimeoutMs);
  try {
    return await fn(op.signal);
  } catch (err) {
    if (op.timedOut()) {
      if (err instanceof DriverError && err.reason !== 'timeout' && err.reason !== 'unreachable') throw err;
      throw new DriverError(device, 'timeout', `${what}: no answer within ${op.timeoutMs} ms`, { cause: err });
    }
    // The caller gave up: whatever the failure looked like from below, it is an abort.
    if (opts.signal?.aborted) throw abortError(opts.signal);
    throw err;
  } finally {
    op.done();
  }
}

/** describeError without the leading "<device>: " — for reports already grouped by device. */
export function describeForDevice(err: unknown, device: string): string {
  const text = describeError(err);
  return text.startsWith(`${device}: `) ? text.slice(device.length + 2) : text;
}
