// A driver's normalised reading → the stored sample (the fields charts and roll-ups use).
import type { Telemetry } from '../../runner/drivers/types.js';
import type { SampleRow } from '../types.js';

function highest(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return known.length === 0 ? null : Math.max(...known);
}

export function sampleOf(minerId: string, t: Telemetry): SampleRow {
  return {
    minerId,
    at: Date.parse(t.at),
    online: t.online,
    hashrateGhs: t.hashrateGhs,
    powerW: t.powerW,
    efficiencyJth: t.efficiencyJth,
    temperatures: { ...t.temperatures },
    fanRpm: highest(t.fans.map((f) => f.rpm)),
    fanPercent: highest(t.fans.map((f) => f.percent)),
    sharesAccepted: t.sharesAccepted,
    sharesRejected: t.sharesRejected,
  };
}

/** The sample a missed reading leaves: the miner was asked and did not answer. */
export function offlineSample(minerId: string, at: number): SampleRow {
  return {
    minerId,
    at,
    online: false,
    hashrateGhs: null,
    powerW: null,
    efficiencyJth: null,
    temperatures: {},
    fanRpm: null,
    fanPercent: null,
    sharesAccepted: null,
    sharesRejected: null,
  };
}
