// Energy prices as the fleet sees them: half-hour slots in p/kWh, from a pluggable source.

export interface PriceSlot {
  /** slot start and end, ms since epoch */
  start: number;
  end: number;
  /** p/kWh including VAT (negative: you are paid to use power) */
  priceIncVat: number;
  priceExcVat: number | null;
  /** which source gave it (octopus:PRODUCT:REGION, flat, tou) */
  source: string;
}

export interface TimeRange {
  from: number;
  to: number;
}

/** Where prices come from. A network source may fail; the computed ones (flat, tou) never do. */
export interface PriceSource {
  /** stable id stored with each slot, e.g. octopus:AGILE-24-10-01:C */
  readonly id: string;
  /** true when the source computes prices locally (no fetch needed, any range available) */
  readonly computed: boolean;
  fetch(range: TimeRange, signal?: AbortSignal): Promise<PriceSlot[]>;
}

/** One time-of-use band: UK local time from–to (HH:MM, to may wrap past midnight). */
export interface TouBand {
  from: string;
  to: string;
  price: number;
}

export interface OctopusSettings {
  product: string;
  region: string;
  baseUrl: string;
  /** an account key (Basic auth username); public price endpoints need none */
  apiKey?: string;
}

export interface EnergyConfig {
  source: 'octopus' | 'flat' | 'tou';
  /** p/kWh: the price when no source is configured, and for slots no source knows */
  flatPrice: number;
  octopus?: OctopusSettings;
  tou?: TouBand[];
  /** how often prices are fetched, ms */
  fetchIntervalMs: number;
  /** how far back the first fetch reaches, ms */
  backfillMs: number;
}
