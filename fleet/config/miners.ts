// `[miner.NAME]` tables (a home fleet's miners) and the testbed devices of a factory config, read
// into fleet miner definitions with every problem recorded.
import type { DriverKind } from '../../runner/drivers/types.js';
import { didYouMean, isTable, join, type Problems, type Table } from '../../factory/config/problems.js';
import { checkAddress, readTestbed, type TestbedContext } from '../../factory/config/testbeds.js';
import { FLEET_DRIVERS, MINER_ID } from '../store/miners.js';
import type { MinerDefinition } from '../types.js';

export const MINER_KEYS = [
  'driver',
  'address',
  'options',
  'model',
  'hardware',
  'expected_hashrate',
  'expected_hashrate_ghs',
  'location',
  'tags',
  'poll_interval',
] as const;

export function readMiner(p: Problems, name: string, raw: unknown, defaultPollMs: number): MinerDefinition | undefined {
  const prefix = join('miner', name);
  if (!isTable(raw)) {
    p.add(prefix, 'must be a table', `write [${prefix}] with driver and address`);
    return undefined;
  }
  if (!MINER_ID.test(name))
    p.add(
      prefix,
      `"${name}" is not a valid miner name`,
      'letters, digits, ".", "_" and "-", at most 64, starting with a letter or digit',
    );
  p.unknownKeys(raw, prefix, MINER_KEYS);
  const driver = p.string(raw, prefix, 'driver', { required: true });
  const driverOk = driver !== undefined && FLEET_DRIVERS.includes(driver as DriverKind);
  if (driver !== undefined && !driverOk) {
    const guess = didYouMean(driver, FLEET_DRIVERS);
    p.add(
      join(prefix, 'driver'),
      `unknown driver "${driver}"`,
      guess ? `did you mean "${guess}"?` : `use one of: ${FLEET_DRIVERS.join(', ')}`,
    );
  }
  const address = p.string(raw, prefix, 'address', { required: true, nonEmpty: true });
  if (address !== undefined && driverOk) checkAddress(p, join(prefix, 'address'), driver, address);
  const options = p.table(raw, prefix, 'options') ?? {};
  const model = p.string(raw, prefix, 'model', { nonEmpty: true });
  const hardware = p.string(raw, prefix, 'hardware', { nonEmpty: true });
  const location = p.string(raw, prefix, 'location', { nonEmpty: true });
  const tags = p.stringArray(raw, prefix, 'tags') ?? [];
  tags.forEach((t, i) => {
    if (t.trim() === '') p.add(`${join(prefix, 'tags')}[${i}]`, 'must not be empty');
  });
  if (raw.expected_hashrate !== undefined && raw.expected_hashrate_ghs !== undefined) {
    p.add(
      join(prefix, 'expected_hashrate'),
      'both expected_hashrate and expected_hashrate_ghs are set',
      'keep one of them (both are GH/s)',
    );
  }
  const expectedHashrateGhs =
    p.number(raw, prefix, 'expected_hashrate', 0.000001, 1e9) ??
    p.number(raw, prefix, 'expected_hashrate_ghs', 0.000001, 1e9);
  const pollIntervalMs =
    raw.poll_interval === undefined ? undefined : p.duration(raw, prefix, 'poll_interval', defaultPollMs, { min: 100 });
  if (driver === undefined || !driverOk || address === undefined) return undefined;
  return {
    id: name,
    driver: driver as DriverKind,
    address,
    options,
    ...(model !== undefined ? { model } : {}),
    ...(hardware !== undefined ? { hardware } : {}),
    ...(expectedHashrateGhs !== undefined ? { expectedHashrateGhs } : {}),
    ...(location !== undefined ? { location } : {}),
    tags,
    ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
    source: 'config',
  };
}

/**
 * Every testbed device with an address (not `command` devices: they have no telemetry) as a fleet
 * miner `TESTBED.DEVICE`, tagged with the testbed's name. The testbed tables are checked as the
 * factory checks them.
 */
export function testbedMiners(p: Problems, file: string, raw: Table): MinerDefinition[] {
  const ctx: TestbedContext = {
    p,
    configFile: file,
    targetNames: new Set(Object.keys(isTable(raw.target) ? raw.target : {})),
    addresses: new Map(),
  };
  const out: MinerDefinition[] = [];
  for (const [name, t] of Object.entries(p.table(raw, '', 'testbed') ?? {})) {
    const tb = readTestbed(ctx, name, t);
    if (!tb) continue;
    for (const d of tb.devices) {
      if (d.address === undefined || d.driver === 'command') continue;
      out.push({
        id: `${tb.name}.${d.name}`,
        driver: d.driver,
        address: d.address,
        options: d.options,
        ...(d.hardware !== undefined ? { hardware: d.hardware } : {}),
        ...(d.expectedHashrateGhs !== undefined ? { expectedHashrateGhs: d.expectedHashrateGhs } : {}),
        tags: [tb.name],
        source: 'testbed',
        testbed: tb.name,
      });
    }
  }
  return out;
}
