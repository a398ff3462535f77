// GET /api/settings: what the web UI's Settings page shows of the running config — the price
// source, MQTT and retention — for any token. Secrets (API keys, passwords) are never returned.
import type { FastifyInstance } from 'fastify';
import { redactUrl } from './export/mqtt.js';
import type { FleetConfig } from './config/types.js';

export function settingsView(c: FleetConfig): { prices: object; mqtt: object | null; retention: object } {
  const e = c.energy;
  const { apiKey, ...octopus } = e.octopus ?? ({} as NonNullable<typeof e.octopus>);
  const m = c.mqtt;
  return {
    prices: {
      source: e.source,
      flatPrice: e.flatPrice,
      fetchIntervalMs: e.fetchIntervalMs,
      ...(e.octopus ? { octopus: { ...octopus, apiKey: apiKey ? 'set' : 'none' } } : {}),
      ...(e.tou ? { timeOfUse: e.tou } : {}),
    },
    mqtt: m
      ? {
          enabled: m.enabled,
          url: redactUrl(m.url),
          username: m.username ?? null,
          password: m.password ? 'set' : 'none',
          prefix: m.prefix,
          discovery: m.discovery,
          discoveryPrefix: m.discoveryPrefix,
          qos: m.qos,
          tls: Boolean(m.tls),
        }
      : null,
    retention: c.fleet.retention,
  };
}

export function settingsRoute(config: () => FleetConfig) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      '/api/settings',
      { config: { op: { summary: 'read the price source, MQTT and retention settings' } } },
      async () => settingsView(config()),
    );
  };
}
