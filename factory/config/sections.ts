// The `[health]` and `[api]` sections: testbed health checks and baseline restore, and the
// factory's HTTP API (reservations). Their shape judged by the schema, normalised here, with the
// rules between keys.
import { parseListen } from '../../shared/listen.js';
import { join, msOf, Problems, type Table } from './problems.js';
import type { ApiConfig, HealthConfig } from './types.js';

export const HEALTH_DEFAULTS: HealthConfig = {
  enabled: true,
  intervalMs: 6 * 3_600_000,
  retryMs: 60_000,
  badAfter: 3,
  timeoutMs: 5 * 60_000,
  windowMs: 15_000,
  samples: 3,
  hashrateTolerance: 0.2,
  maxTemperature: 80,
  restore: true,
  restoreTimeoutMs: 15 * 60_000,
  concurrency: 4,
};

export const API_DEFAULT_LISTEN = '127.0.0.1:9310';

/** `[health]`, already judged by the schema. */
export function readHealth(p: Problems, h: Table): HealthConfig {
  const d = HEALTH_DEFAULTS;
  const samples = (h.samples as number | undefined) ?? d.samples;
  const windowMs = msOf(h.window, d.windowMs);
  if (samples > 1 && windowMs === 0)
    p.add(
      join('health', 'window'),
      `is 0, but samples = ${samples} need time between them`,
      'write window = "15s", or samples = 1',
    );
  const pick = <T>(key: string, fallback: T): T => (h[key] as T | undefined) ?? fallback;
  return {
    enabled: pick('enabled', d.enabled),
    intervalMs: msOf(h.interval, d.intervalMs),
    retryMs: msOf(h.retry, d.retryMs),
    badAfter: pick('bad_after', d.badAfter),
    timeoutMs: msOf(h.timeout, d.timeoutMs),
    windowMs,
    samples,
    hashrateTolerance: pick('hashrate_tolerance', d.hashrateTolerance),
    maxTemperature: pick('max_temperature', d.maxTemperature),
    restore: pick('restore', d.restore),
    restoreTimeoutMs: msOf(h.restore_timeout, d.restoreTimeoutMs),
    concurrency: pick('concurrency', d.concurrency),
  };
}

/** `[api]`, already judged by the schema. */
export function readApi(p: Problems, a: Table, adminToken: string | undefined): ApiConfig {
  const listenText = (a.listen as string | undefined) ?? API_DEFAULT_LISTEN;
  let listen: ApiConfig['listen'];
  if (listenText !== 'off') {
    try {
      listen = parseListen(listenText, 'listen');
    } catch (err) {
      p.add(
        join('api', 'listen'),
        (err as Error).message,
        `write listen = "${API_DEFAULT_LISTEN}", or "off" for no API`,
      );
    }
  }
  const defaultTtlMs = msOf(a.default_ttl, 2 * 3_600_000);
  const maxTtlMs = msOf(a.max_ttl, 7 * 86_400_000);
  if (defaultTtlMs > maxTtlMs)
    p.add(join('api', 'default_ttl'), `is longer than max_ttl`, 'make default_ttl at most max_ttl');
  return {
    ...(listen ? { listen } : {}),
    ...(adminToken !== undefined ? { adminToken } : {}),
    defaultTtlMs,
    maxTtlMs,
    metricsAuth: a.metrics === 'token' ? 'token' : 'open',
  };
}
