// Failures as the fleet API answers them: typed errors to statuses, schema violations to a 400 that
// names the field, a device's "unsupported" to 422, a busy testbed to 409 naming who holds it.
import type { FastifyError } from 'fastify';
import { DriverError } from '../../runner/drivers/errors.js';
import { MvmError, type ErrorCode } from '../../shared/errors.js';
import { ERROR_STATUS, HttpError } from '../../shared/http-api.js';
import { TestbedBusyError } from '../lab-client.js';

export { HttpError };

const STATUS: Partial<Record<ErrorCode, [number, string]>> = {
  ...ERROR_STATUS,
  ABORTED: [503, 'ShuttingDown'],
};

const DEVICE_STATUS: Record<DriverError['reason'], [number, string]> = {
  unsupported: [422, 'Unsupported'],
  invalid_argument: [400, 'BadRequest'],
  unreachable: [503, 'DeviceUnreachable'],
  timeout: [504, 'DeviceTimeout'],
  refused: [502, 'DeviceRefused'],
  bad_reply: [502, 'DeviceBadReply'],
  image_rejected: [400, 'BadRequest'],
  verify_failed: [502, 'DeviceRefused'],
  needs_attention: [502, 'DeviceNeedsAttention'],
};

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** "body.pools[0]: must match pattern …", "query.colour: unknown field" — the first problems, by field. */
export function describeValidation(err: FastifyError): { message: string; field: string } {
  const where =
    (err as { validationContext?: string }).validationContext === 'querystring'
      ? 'query'
      : ((err as { validationContext?: string }).validationContext ?? 'body');
  const issues = (err.validation ?? []) as AjvIssue[];
  const described = issues.slice(0, 5).map((i) => {
    const path = i.instancePath
      .replace(/^\//, '')
      .replace(/\/(\d+)(?=\/|$)/g, '[$1]')
      .replace(/\//g, '.');
    let field = [where, path].filter(Boolean).join('.');
    let msg = i.message ?? i.keyword;
    if (i.keyword === 'additionalProperties') {
      field = `${field}.${String(i.params.additionalProperty)}`;
      msg = 'unknown field';
    } else if (i.keyword === 'required') {
      field = `${field}.${String(i.params.missingProperty)}`;
      msg = 'is required';
    } else if (i.keyword === 'enum')
      msg = `must be one of ${(i.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    return { field, text: `${field}: ${msg}` };
  });
  if (described.length === 0) return { message: `invalid request: ${err.message}`, field: where };
  return {
    message: `invalid request: ${[...new Set(described.map((d) => d.text))].join('; ')}`,
    field: described[0].field,
  };
}

export interface ErrorBody {
  status: number;
  body: Record<string, unknown>;
  /** Unexpected: log it. */
  internal: boolean;
}

export function errorBody(err: unknown, requestId: string): ErrorBody {
  let status = 500;
  let message = 'internal error; see the fleet log for this request id';
  let code = 'Internal';
  let hint: string | undefined;
  let extra: Record<string, unknown> = {};
  const fe = err as FastifyError;
  if (err instanceof HttpError) {
    [status, message, code, hint] = [err.status, err.message, err.errorCode, err.hint];
    if (err.field) extra = { field: err.field };
  } else if (err instanceof TestbedBusyError) {
    [status, message, code, hint] = [409, err.message, 'TestbedBusy', err.hint];
    extra = { testbed: err.testbed, holder: err.holder };
  } else if (err instanceof DriverError) {
    [status, code] = DEVICE_STATUS[err.reason];
    [message, hint] = [err.message, err.hint];
  } else if (err instanceof MvmError && STATUS[err.code]) {
    [status, code] = STATUS[err.code]!;
    [message, hint] = [err.message, err.hint];
  } else if (fe?.validation) {
    const v = describeValidation(fe);
    [status, message, code] = [400, v.message, 'BadRequest'];
    extra = { field: v.field };
  } else if (fe?.statusCode && fe.statusCode < 500) {
    [status, message, code] = [fe.statusCode, fe.message, fe.code ?? 'BadRequest'];
  }
  return {
    status,
    internal: status === 500,
    body: { message, ...(hint ? { hint } : {}), error_code: code, request_id: requestId, ...extra },
  };
}
