// What the API shows of the fleet's records: secrets left out (pool passwords, driver options that
// hold credentials), times as ISO strings, telemetry without the device's raw reply.
import type { Telemetry } from '../../runner/drivers/types.js';
import { labOfTestbed } from '../lab-miners.js';
import type { DesiredState, MinerView, PoolDefinition } from '../types.js';

const SECRET_KEY = /pass|secret|token|key/i;

function redactOptions(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : v]));
}

export function telemetryView(t: Telemetry | null): Omit<Telemetry, 'raw'> | null {
  if (!t) return null;
  const { raw: _raw, ...rest } = t;
  return rest;
}

export function minerView(m: MinerView, desired: DesiredState | undefined) {
  return {
    id: m.id,
    driver: m.driver,
    address: m.address,
    options: redactOptions(m.options ?? {}),
    model: m.model ?? null,
    expectedHashrateGhs: m.expectedHashrateGhs ?? null,
    location: m.location ?? null,
    tags: m.tags,
    pollIntervalMs: m.pollIntervalMs ?? null,
    source: m.source,
    readOnly: m.source !== 'api',
    testbed: m.testbed ?? null,
    lab: m.testbed ? labOfTestbed(m.testbed) : null,
    hardware: m.hardware ?? null,
    status: m.status,
    missed: m.missed,
    lastSeenAt: m.lastSeenAt === null ? null : new Date(m.lastSeenAt).toISOString(),
    last: telemetryView(m.last),
    lastError: m.lastError,
    desired: desired
      ? {
          mode: desired.mode,
          paused: desired.paused,
          pools: desired.poolIds,
          updatedAt: desired.updatedAt,
          updatedBy: desired.updatedBy,
        }
      : null,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
}

export function poolView(p: PoolDefinition) {
  return {
    id: p.id,
    name: p.name,
    url: p.url,
    port: p.port,
    user: p.user,
    tls: p.tls,
    passwordSet: p.password !== null && p.password !== '',
  };
}
