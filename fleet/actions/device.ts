// A fleet miner as the runner's driver layer sees it: the one way fleet/ reaches a device.
import { createDriver } from '../../runner/drivers/registry.js';
import type { DeviceSpec, Driver, PoolConfig } from '../../runner/drivers/types.js';
import type { MinerDefinition, PoolDefinition } from '../types.js';

export type DriverFactory = (spec: DeviceSpec) => Driver;

export function deviceSpec(m: MinerDefinition): DeviceSpec {
  return {
    name: m.id,
    driver: m.driver,
    address: m.address,
    hardware: m.hardware,
    options: m.options,
    expectedHashrateGhs: m.expectedHashrateGhs,
  };
}

/** Runs `fn` with a driver for the miner, closed after. */
export async function withDriver<T>(
  m: MinerDefinition,
  fn: (d: Driver) => Promise<T>,
  factory: DriverFactory = createDriver,
): Promise<T> {
  const driver = factory(deviceSpec(m));
  try {
    return await fn(driver);
  } finally {
    await driver.close().catch(() => undefined);
  }
}

/** A catalogue pool as a driver takes it (the scheme from `tls` when the URL has none); `password` in clear from PoolStore.secret. */
export function poolConfig(p: PoolDefinition, password: string | null): PoolConfig {
  const url = /^[a-z0-9+.-]+:\/\//i.test(p.url) ? p.url : `${p.tls ? 'stratum+ssl' : 'stratum+tcp'}://${p.url}`;
  return { url, port: p.port, user: p.user, ...(password !== null ? { password } : {}) };
}
