// The notify action: POST a JSON body to a webhook, retried with backoff on network errors and
// 5xx/429 answers (a 4xx is the receiver saying no: not retried).
import { describeError } from '../../shared/errors.js';
import { HttpClient } from '../../shared/http.js';
import { MVM_VERSION } from '../../shared/paths.js';
import { retry } from '../../shared/retry.js';

export type Notifier = (
  url: string,
  headers: Record<string, string>,
  body: unknown,
  signal?: AbortSignal,
) => Promise<void>;

export function webhookNotifier(
  opts: {
    attempts?: number;
    baseMs?: number;
    timeoutMs?: number;
    onRetry?: (err: string, attempt: number) => void;
  } = {},
): Notifier {
  return async (url, headers, body, signal) => {
    const http = new HttpClient({
      baseUrl: url,
      timeoutMs: opts.timeoutMs ?? 10_000,
      userAgent: `mvm-fleet/${MVM_VERSION}`,
    });
    await retry(() => http.raw('POST', '', { json: body, headers, signal }).then((r) => r.body.resume()), {
      attempts: opts.attempts ?? 4,
      baseMs: opts.baseMs ?? 500,
      maxMs: 10_000,
      signal,
      onRetry: (err, attempt) => opts.onRetry?.(describeError(err), attempt),
    });
  };
}
