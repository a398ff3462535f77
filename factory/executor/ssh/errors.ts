// SSH failures, classified so that callers know whether trying again can help: a refused host
// key or key authentication needs a person; a refused or dropped connection may heal by itself.
import { MvmError, type ErrorCode } from '../../../shared/errors.js';

export type SshFailure =
  /** The server's host key is unknown, different, or revoked: nothing was sent. */
  | 'host-key'
  /** The server refused every key we offered. */
  | 'auth'
  /** The configuration cannot work (unreadable key file, no key at all). */
  | 'config'
  /** TCP connection refused, unreachable, no SSH greeting, DNS. */
  | 'unreachable'
  /** An established connection went away (closed, reset, keepalive timeout). */
  | 'lost'
  /** A remote command or check failed. */
  | 'remote';

const CODES: Record<SshFailure, ErrorCode> = {
  'host-key': 'NETWORK',
  auth: 'NETWORK',
  config: 'CONFIG_INVALID',
  unreachable: 'NETWORK',
  lost: 'NETWORK',
  remote: 'DEVICE',
};

export class SshError extends MvmError {
  readonly failure: SshFailure;
  /** `user@host:port` */
  readonly destination: string;

  constructor(
    failure: SshFailure,
    destination: string,
    message: string,
    opts: { hint?: string; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(CODES[failure], `ssh ${destination}: ${message}`, {
      ...opts,
      retryable: opts.retryable ?? (failure === 'unreachable' || failure === 'lost'),
    });
    this.failure = failure;
    this.destination = destination;
  }
}
