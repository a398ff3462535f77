// Fleet-wide dashboard numbers from the miners' live state.
import type { FleetStats, MinerView } from '../types.js';

export function computeFleetStats(miners: MinerView[], now: number = Date.now()): FleetStats {
  let online = 0;
  let offline = 0;
  let hashrateGhs = 0;
  let expectedHashrateGhs = 0;
  let powerW = 0;
  let effPower = 0;
  let effHash = 0;
  for (const m of miners) {
    if (m.status === 'online') online++;
    else if (m.status === 'offline') offline++;
    expectedHashrateGhs += m.expectedHashrateGhs ?? m.last?.expectedHashrateGhs ?? 0;
    if (m.status !== 'online' || !m.last) continue;
    const h = m.last.hashrateGhs;
    const p = m.last.powerW;
    if (h !== null && Number.isFinite(h)) hashrateGhs += h;
    if (p !== null && Number.isFinite(p)) powerW += p;
    if (h !== null && p !== null && h > 0 && Number.isFinite(p)) {
      effPower += p;
      effHash += h;
    }
  }
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    miners: miners.length,
    online,
    offline,
    unknown: miners.length - online - offline,
    hashrateGhs: r2(hashrateGhs),
    expectedHashrateGhs: r2(expectedHashrateGhs),
    powerW: r2(powerW),
    efficiencyJth: effHash > 0 ? r2(effPower / (effHash / 1000)) : null,
    at: new Date(now).toISOString(),
  };
}
