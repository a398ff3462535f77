// What triggers and actions exist, with their parameters: served by GET /api/automation/
// triggers/types and /actions/types, and used to check a rule's shape.
import type { ActionType, TriggerType } from './types.js';

export interface ParamSpec {
  name: string;
  type: 'number' | 'integer' | 'string' | 'duration' | 'object';
  required: boolean;
  description: string;
  min?: number;
  max?: number;
}

export interface TypeSpec<T extends string> {
  type: T;
  description: string;
  params: ParamSpec[];
  /** price triggers can be dry-run over the known price timeline; the others only now */
  timeline?: boolean;
  /** per-miner readings (temperature, hashrate, status) rather than fleet-wide prices or time */
  perMiner?: boolean;
}

export const TRIGGER_TYPES: TypeSpec<TriggerType>[] = [
  {
    type: 'price_below',
    description: "the current slot's price (p/kWh inc. VAT) is below a threshold",
    timeline: true,
    params: [{ name: 'threshold', type: 'number', required: true, description: 'p/kWh', min: -1000, max: 1000 }],
  },
  {
    type: 'price_above',
    description: "the current slot's price is above a threshold",
    timeline: true,
    params: [{ name: 'threshold', type: 'number', required: true, description: 'p/kWh', min: -1000, max: 1000 }],
  },
  {
    type: 'price_negative',
    description: "the current slot's price is below zero (you are paid to use power)",
    timeline: true,
    params: [],
  },
  {
    type: 'cheapest_slots',
    description: 'the current slot is one of the N cheapest known slots of its UK day',
    timeline: true,
    params: [{ name: 'count', type: 'integer', required: true, description: 'slots (half-hours)', min: 1, max: 50 }],
  },
  {
    type: 'dearest_slots',
    description: 'the current slot is one of the N dearest known slots of its UK day',
    timeline: true,
    params: [{ name: 'count', type: 'integer', required: true, description: 'slots (half-hours)', min: 1, max: 50 }],
  },
  {
    type: 'schedule',
    description: 'a cron schedule (UK time) matched, for a duration after each match',
    timeline: true,
    params: [
      {
        name: 'cron',
        type: 'string',
        required: true,
        description: 'minute hour day-of-month month day-of-week, e.g. "0 16 * * 1-5"',
      },
      {
        name: 'durationMs',
        type: 'duration',
        required: true,
        description: 'how long the trigger holds after each match, ms (at most a day)',
        min: 60_000,
        max: 86_400_000,
      },
    ],
  },
  {
    type: 'temperature_above',
    description: "a miner's hottest sensor (or the named one) is above a limit",
    perMiner: true,
    params: [
      { name: 'limit', type: 'number', required: true, description: '°C', min: 0, max: 150 },
      {
        name: 'sensor',
        type: 'string',
        required: false,
        description: 'a sensor name (chip, vr, board…); default the hottest',
      },
    ],
  },
  {
    type: 'hashrate_below',
    description: 'a miner hashes below N % of its expected rate for a duration',
    perMiner: true,
    params: [
      { name: 'percent', type: 'number', required: true, description: '% of the expected hashrate', min: 1, max: 100 },
      {
        name: 'forMs',
        type: 'duration',
        required: true,
        description: 'for at least this long, ms',
        min: 60_000,
        max: 7 * 86_400_000,
      },
    ],
  },
  {
    type: 'offline',
    description: 'a miner has been offline for a duration',
    perMiner: true,
    params: [{ name: 'forMs', type: 'duration', required: true, description: 'ms', min: 0, max: 7 * 86_400_000 }],
  },
];

export const ACTION_TYPES: TypeSpec<ActionType>[] = [
  {
    type: 'set_mode',
    description: 'set the operating mode (eco, standard, turbo, oc: what the miner has)',
    params: [{ name: 'mode', type: 'string', required: true, description: 'a mode of the miner' }],
  },
  { type: 'pause', description: 'stop hashing (the miner stays reachable)', params: [] },
  { type: 'resume', description: 'hash again', params: [] },
  {
    type: 'switch_pool',
    description: "make the pool at an index of the miner's list the active one",
    params: [{ name: 'index', type: 'integer', required: true, description: '0 = first pool', min: 0, max: 9 }],
  },
  { type: 'restart', description: 'restart the miner', params: [] },
  {
    type: 'set_fan',
    description: 'set the fan duty (automatic fan control off)',
    params: [{ name: 'percent', type: 'integer', required: true, description: '%', min: 0, max: 100 }],
  },
  {
    type: 'notify',
    description: 'POST a JSON body describing the firing to a webhook (retried)',
    params: [
      { name: 'url', type: 'string', required: true, description: 'http(s) URL' },
      { name: 'headers', type: 'object', required: false, description: 'extra request headers, e.g. an authorization' },
    ],
  },
];

/** The miner aspect an action changes: two rules contend for a miner only over the same aspect. */
export function aspectOf(type: ActionType, ruleId: number): string {
  switch (type) {
    case 'set_mode':
      return 'mode';
    case 'pause':
    case 'resume':
      return 'power';
    case 'switch_pool':
      return 'pool';
    case 'set_fan':
      return 'fan';
    case 'restart':
      return 'restart';
    case 'notify':
      return `notify:${ruleId}`;
  }
}
