// The `[energy]` section of the fleet's TOML: which price source, its settings, and the fallback
// flat price. Every problem is reported at once, with the file and the key (factory/config/problems).
//
//   [energy]
//   source = "octopus"          # octopus | flat | tou
//   flat_price = 24.5           # p/kWh: no source configured, or a slot no source knows
//   fetch_interval = "30m"
//   [energy.octopus]
//   product = "AGILE-24-10-01"  # changes every year or so
//   region = "C"                # GSP group A–P (no I, no O)
//   base_url = "https://api.octopus.energy"
//   [[energy.time_of_use]]      # for source = "tou"
//   from = "00:30"
//   to = "04:30"
//   price = 7.5
import { Problems, isTable, type Table } from '../../factory/config/problems.js';
import type { EnergyConfig, TouBand } from './types.js';

export const OCTOPUS_REGIONS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P'] as const;
export const DEFAULT_OCTOPUS_URL = 'https://api.octopus.energy';
export const ENERGY_SOURCES = ['octopus', 'flat', 'tou'] as const;
export const ENERGY_KEYS = ['source', 'flat_price', 'fetch_interval', 'backfill', 'octopus', 'time_of_use'] as const;
export const OCTOPUS_KEYS = ['product', 'region', 'base_url', 'api_key'] as const;
export const TOU_BAND_KEYS = ['from', 'to', 'price'] as const;
const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function hhmmToMinutes(s: string): number {
  const m = HHMM.exec(s)!;
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Reads `[energy]`; absent, prices are a flat 0 p/kWh (costs read 0 until a price is configured). */
export function parseEnergySection(section: unknown, problems: Problems, prefix = 'energy'): EnergyConfig {
  const cfg: EnergyConfig = { source: 'flat', flatPrice: 0, fetchIntervalMs: 30 * 60_000, backfillMs: 2 * 86_400_000 };
  if (section === undefined) return cfg;
  if (!isTable(section)) {
    problems.add(prefix, 'must be a table', 'write [energy] on a line of its own, then its keys');
    return cfg;
  }
  const t: Table = section;
  problems.unknownKeys(t, prefix, ENERGY_KEYS);
  const source = problems.string(t, prefix, 'source');
  if (source !== undefined) {
    if ((ENERGY_SOURCES as readonly string[]).includes(source)) cfg.source = source as EnergyConfig['source'];
    else problems.add(`${prefix}.source`, `unknown price source "${source}"`, `one of: ${ENERGY_SOURCES.join(', ')}`);
  }
  cfg.flatPrice = problems.number(t, prefix, 'flat_price', -1000, 1000) ?? 0;
  cfg.fetchIntervalMs = problems.duration(t, prefix, 'fetch_interval', cfg.fetchIntervalMs, { min: 10_000 });
  cfg.backfillMs = problems.duration(t, prefix, 'backfill', cfg.backfillMs, { min: 0 });

  const oct = problems.table(t, prefix, 'octopus');
  if (oct) {
    const p = `${prefix}.octopus`;
    problems.unknownKeys(oct, p, OCTOPUS_KEYS);
    const product = problems.string(oct, p, 'product', { required: true, nonEmpty: true });
    const region = problems.string(oct, p, 'region', { required: true, nonEmpty: true });
    if (region !== undefined && !(OCTOPUS_REGIONS as readonly string[]).includes(region.toUpperCase())) {
      problems.add(
        `${p}.region`,
        `"${region}" is not a region`,
        `a GSP group letter: ${OCTOPUS_REGIONS.join(' ')} (no I, no O); C is London`,
      );
    }
    const baseUrl = problems.string(oct, p, 'base_url') ?? DEFAULT_OCTOPUS_URL;
    if (!/^https?:\/\/[^/]+/.test(baseUrl))
      problems.add(`${p}.base_url`, `"${baseUrl}" is not an http(s) URL`, `e.g. ${DEFAULT_OCTOPUS_URL}`);
    const apiKey = problems.string(oct, p, 'api_key');
    if (product && region)
      cfg.octopus = { product, region: region.toUpperCase(), baseUrl, ...(apiKey ? { apiKey } : {}) };
  }
  if (cfg.source === 'octopus' && !oct)
    problems.add(
      `${prefix}.octopus`,
      'missing: source = "octopus" needs its settings',
      'add [energy.octopus] with product and region',
    );

  const tou = t.time_of_use;
  if (tou !== undefined) {
    if (!Array.isArray(tou) || !tou.every(isTable)) {
      problems.add(
        `${prefix}.time_of_use`,
        'must be an array of tables',
        'write [[energy.time_of_use]] blocks with from, to, price',
      );
    } else {
      const bands: TouBand[] = [];
      tou.forEach((b, i) => {
        const p = `${prefix}.time_of_use[${i}]`;
        problems.unknownKeys(b, p, TOU_BAND_KEYS);
        const from = problems.string(b, p, 'from', { required: true });
        const to = problems.string(b, p, 'to', { required: true });
        const price = problems.number(b, p, 'price', -1000, 1000);
        if (price === undefined && b.price === undefined)
          problems.add(`${p}.price`, 'missing', 'add price = 12.5 (p/kWh)');
        for (const [k, v] of [
          ['from', from],
          ['to', to],
        ] as const) {
          if (v !== undefined && !HHMM.test(v))
            problems.add(`${p}.${k}`, `"${v}" is not a time of day`, 'write HH:MM in UK time, e.g. "00:30"');
        }
        if (from && to && HHMM.test(from) && HHMM.test(to) && price !== undefined) bands.push({ from, to, price });
      });
      cfg.tou = bands;
    }
  }
  if (cfg.source === 'tou' && !(cfg.tou && cfg.tou.length > 0))
    problems.add(
      `${prefix}.time_of_use`,
      'missing: source = "tou" needs its bands',
      'add [[energy.time_of_use]] blocks with from, to, price',
    );
  return cfg;
}
