// The `[health]` and `[api]` sections: testbed health checks and baseline restore, and the
// factory's HTTP API (reservations). Read into normalised values, every problem recorded.
import { parseListen } from '../../shared/listen.js';
import { join, Problems, type Table } from './problems.js';
import type { ApiConfig, HealthConfig } from './types.js';

export const HEALTH_KEYS = [
  'enabled',
  'interval',
  'retry',
  'bad_after',
  'timeout',
  'window',
  'samples',
  'hashrate_tolerance',
  'max_temperature',
  'restore',
  'restore_timeout',
  'concurrency',
] as const;

export const API_KEYS = ['listen', 'admin_token', 'admin_token_file', 'default_ttl', 'max_ttl', 'metrics'] as const;

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

export function readHealth(p: Problems, raw: Table | undefined): HealthConfig {
  const h = raw ?? {};
  const prefix = 'health';
  p.unknownKeys(h, prefix, HEALTH_KEYS);
  const d = HEALTH_DEFAULTS;
  const samples = p.integer(h, prefix, 'samples', 1, 1000) ?? d.samples;
  const windowMs = p.duration(h, prefix, 'window', d.windowMs);
  if (samples > 1 && windowMs === 0)
    p.add(
      join(prefix, 'window'),
      `is 0, but samples = ${samples} need time between them`,
      'write window = "15s", or samples = 1',
    );
  return {
    enabled: p.boolean(h, prefix, 'enabled') ?? d.enabled,
    intervalMs: p.duration(h, prefix, 'interval', d.intervalMs),
    retryMs: p.duration(h, prefix, 'retry', d.retryMs, { min: 100 }),
    badAfter: p.integer(h, prefix, 'bad_after', 1, 1000) ?? d.badAfter,
    timeoutMs: p.duration(h, prefix, 'timeout', d.timeoutMs, { min: 1000 }),
    windowMs,
    samples,
    hashrateTolerance: p.number(h, prefix, 'hashrate_tolerance', 0, 1) ?? d.hashrateTolerance,
    maxTemperature: p.number(h, prefix, 'max_temperature', 0, 150) ?? d.maxTemperature,
    restore: p.boolean(h, prefix, 'restore') ?? d.restore,
    restoreTimeoutMs: p.duration(h, prefix, 'restore_timeout', d.restoreTimeoutMs, { min: 1000 }),
    concurrency: p.integer(h, prefix, 'concurrency', 1, 64) ?? d.concurrency,
  };
}

export function readApi(p: Problems, raw: Table | undefined, adminToken: string | undefined): ApiConfig {
  const a = raw ?? {};
  const prefix = 'api';
  p.unknownKeys(a, prefix, API_KEYS);
  const listenText = p.string(a, prefix, 'listen') ?? API_DEFAULT_LISTEN;
  let listen: ApiConfig['listen'];
  if (listenText !== 'off') {
    try {
      listen = parseListen(listenText, 'listen');
    } catch (err) {
      p.add(
        join(prefix, 'listen'),
        (err as Error).message,
        `write listen = "${API_DEFAULT_LISTEN}", or "off" for no API`,
      );
    }
  }
  const defaultTtlMs = p.duration(a, prefix, 'default_ttl', 2 * 3_600_000, { min: 1000 });
  const maxTtlMs = p.duration(a, prefix, 'max_ttl', 7 * 86_400_000, { min: 1000 });
  if (defaultTtlMs > maxTtlMs)
    p.add(join(prefix, 'default_ttl'), `is longer than max_ttl`, 'make default_ttl at most max_ttl');
  const metrics = p.string(a, prefix, 'metrics');
  if (metrics !== undefined && metrics !== 'open' && metrics !== 'token')
    p.add(
      join(prefix, 'metrics'),
      `must be "open" or "token", not ${JSON.stringify(metrics)}`,
      "open: /metrics needs no token; token: any API user's token",
    );
  const metricsAuth = metrics === 'token' ? ('token' as const) : ('open' as const);
  return {
    ...(listen ? { listen } : {}),
    ...(adminToken !== undefined ? { adminToken } : {}),
    defaultTtlMs,
    maxTtlMs,
    metricsAuth,
  };
}
