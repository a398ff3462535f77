// Testbed devices as fleet miners across several labs. A factory config given to the fleet brings
// its testbeds as the lab "default"; every other lab's testbeds are learnt from its factory API
// (GET /v1/testbeds: each device's driver and address). A miner is TESTBED.DEVICE, or
// TESTBED.DEVICE@LAB when more than one lab has that name (shared/lab-names.ts, as `mvm testbeds`
// names testbeds). Its `testbed` field says which lab without asking: NAME in the lab "default",
// NAME@LAB in any other — reservations go to that lab's factory.
import type { DriverKind } from '../runner/drivers/types.js';
import { DEFAULT_LAB, displayNames, labRef, parseTestbedRef } from '../shared/lab-names.js';
import type { FleetConfig } from './config/types.js';
import { FLEET_DRIVERS } from './store/miners.js';
import type { MinerDefinition } from './types.js';

/** A device of a testbed, as the factory API lists it. */
export interface LabDevice {
  testbed: string;
  name: string;
  driver: string;
  address: string | null;
  hardware: string | null;
}

/** The lab a miner's `testbed` reference names ("default" for a plain NAME). */
export function labOfTestbed(testbed: string): string {
  return parseTestbedRef(testbed).lab ?? DEFAULT_LAB;
}

/** Whether a lab's testbeds come from its API: all but the lab "default" when the config file is that factory's. */
export function discoversTestbeds(config: FleetConfig, lab: string): boolean {
  return lab !== DEFAULT_LAB || config.kind === 'fleet';
}

function deviceMiner(lab: string, d: LabDevice): MinerDefinition | undefined {
  if (d.address === null || d.address === '' || !FLEET_DRIVERS.includes(d.driver as DriverKind)) return undefined;
  const ref = labRef(d.testbed, lab);
  return {
    id: `${d.testbed}.${d.name}`,
    driver: d.driver as DriverKind,
    address: d.address,
    // Driver options stay on the factory's host: the API does not publish them (they may hold passwords).
    options: {},
    ...(d.hardware !== null ? { hardware: d.hardware } : {}),
    tags: [ref],
    source: 'testbed',
    testbed: ref,
  };
}

/**
 * Every miner of the fleet: the config's own, and the testbed devices of every lab, named so that
 * a name more than one lab has carries its lab. `discovered` holds what each lab's API last said;
 * a lab it has not answered for yet keeps the miners `stored` has of it (a factory down at start
 * hides nothing).
 */
export function fleetMiners(
  config: FleetConfig,
  discovered: ReadonlyMap<string, readonly LabDevice[]>,
  stored: readonly MinerDefinition[],
): MinerDefinition[] {
  const own = config.miners.filter((m) => m.source !== 'testbed');
  const fromFile = config.miners.filter((m) => m.source === 'testbed' && !discoversTestbeds(config, DEFAULT_LAB));
  const onTestbeds: Array<{ lab: string; name: string; def: MinerDefinition }> = fromFile.map((def) => ({
    lab: DEFAULT_LAB,
    name: def.id,
    def,
  }));
  for (const lab of config.labs) {
    if (!discoversTestbeds(config, lab.name)) continue;
    const devices = discovered.get(lab.name);
    const defs = devices
      ? devices.flatMap((d) => deviceMiner(lab.name, d) ?? [])
      : stored
          .filter((m) => m.source === 'testbed' && m.testbed && labOfTestbed(m.testbed) === lab.name)
          .map((m) => ({ ...m, id: parseTestbedRef(m.id).name }));
    for (const def of defs) onTestbeds.push({ lab: lab.name, name: def.id, def });
  }
  const ownIds = new Set(own.map((m) => m.id));
  const named = displayNames(onTestbeds).map(({ lab, name, ref, def }) => ({
    ...def,
    id: ownIds.has(ref) ? `${name}@${lab}` : ref,
  }));
  return [...own, ...named].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
