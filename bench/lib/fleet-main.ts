// `node dist/bench/lib/fleet-main.js DATA_DIR URL…`: the fleet's data plane (database, stores,
// collector, pruner) as the daemon starts it, reading one AxeOS miner per URL at the default
// interval. Prints `fleet started` once the collector runs; stops on SIGTERM. Its RSS is the fleet's.
import { FLEET_DEFAULTS, type FleetConfig } from '../../fleet/config/types.js';
import { startDataPlane } from '../../fleet/data-plane.js';
import { parseEnergySection } from '../../fleet/energy/config.js';
import { Problems } from '../../factory/config/problems.js';
import { useDaemonHeap } from '../../shared/daemon-heap.js';
import { silentLogger } from '../../shared/log.js';

async function main(): Promise<void> {
  useDaemonHeap();
  const [dataDir, ...urls] = process.argv.slice(2);
  const config: FleetConfig = {
    file: `${dataDir}/fleet.toml`,
    kind: 'fleet',
    fleet: { ...FLEET_DEFAULTS },
    energy: parseEnergySection(undefined, new Problems(`${dataDir}/fleet.toml`)),
    labs: [],
    miners: urls.map((address, i) => ({
      id: `miner-${String(i).padStart(4, '0')}`,
      driver: 'axeos',
      address,
      options: {},
      tags: [],
      source: 'config',
    })),
  };
  const plane = await startDataPlane({ config, dataDir, log: silentLogger() });
  process.stdout.write('fleet started\n');
  // The collector's timers do not hold the process open (the daemon's API server does): this does.
  const alive = setInterval(() => undefined, 60_000);
  const stop = async () => {
    clearInterval(alive);
    await plane.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err) => {
  process.stderr.write(`fleet failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
