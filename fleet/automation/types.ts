// Automation rules as data: a trigger, conditions that pick the miners and the time, an action,
// and how the rule settles (cooldown, hysteresis, `until`). The engine acts through RuleActuator,
// which the fleet's actions implement (and a driver-backed one in driver-actuator.ts).

export type Trigger =
  /** the current slot's price (p/kWh inc. VAT) is below `threshold` */
  | { type: 'price_below'; threshold: number }
  | { type: 'price_above'; threshold: number }
  /** the current slot's price is below zero: you are paid to use power */
  | { type: 'price_negative' }
  /** the current slot is one of the `count` cheapest known slots of its UK day */
  | { type: 'cheapest_slots'; count: number }
  | { type: 'dearest_slots'; count: number }
  /** a cron expression (minute hour day-of-month month day-of-week, UK time); holds for `durationMs` after each match */
  | { type: 'schedule'; cron: string; durationMs: number }
  /** a miner's hottest sensor (or `sensor`) is above `limit` °C */
  | { type: 'temperature_above'; limit: number; sensor?: string }
  /** a miner hashes below `percent` % of its expected rate for `forMs` */
  | { type: 'hashrate_below'; percent: number; forMs: number }
  /** a miner has been offline for `forMs` */
  | { type: 'offline'; forMs: number };

export type TriggerType = Trigger['type'];

export interface Conditions {
  /** miner ids (names); absent: every miner */
  miners?: string[];
  models?: string[];
  /** a miner with any of these tags */
  tags?: string[];
  /** UK local time window HH:MM–HH:MM (may wrap past midnight) when the rule may act */
  window?: { from: string; to: string };
}

export type Action =
  | { type: 'set_mode'; mode: string }
  | { type: 'pause' }
  | { type: 'resume' }
  /** the pool at `index` (0 = first) of the miner's list becomes active */
  | { type: 'switch_pool'; index: number }
  | { type: 'restart' }
  | { type: 'set_fan'; percent: number }
  /** POST a JSON body to `url` (retried); `headers` are sent as given */
  | { type: 'notify'; url: string; headers?: Record<string, string> };

export type ActionType = Action['type'];

export interface RuleInput {
  name: string;
  enabled?: boolean;
  priority?: number;
  trigger: Trigger;
  conditions?: Conditions;
  action: Action;
  /** undo the action when the trigger ends */
  until?: boolean;
  /** what undoes it (default: resume for pause, pause for resume, the mode before for set_mode) */
  undoAction?: Action | null;
  /** ms after a firing or undo before the rule changes that miner again */
  cooldownMs?: number;
  /** a price or temperature trigger ends only this far back past its threshold (p/kWh or °C) */
  hysteresis?: number;
}

export interface Rule extends Required<Omit<RuleInput, 'undoAction' | 'conditions'>> {
  id: number;
  conditions: Conditions;
  undoAction: Action | null;
  createdAt: string;
  updatedAt: string;
  updatedBy: string | null;
}

/** What an actuator answers: done, or refused with a reason (a busy testbed, a mode the device lacks). */
export type ActuationResult = { ok: true; message?: string } | { ok: false; reason: string };

export interface ActuationContext {
  /** "rule:NAME": the events' and the reservations' actor */
  actor: string;
  rule: { id: number; name: string };
  /** why, for the device log and the testbed reservation's reason */
  reason: string;
}

/**
 * How the engine changes miners. For a miner on a factory testbed (MinerDefinition.testbed) the
 * engine first calls hold(): the real actuator takes a reservation on the testbed through the
 * factory API (refusing, with the holder named, when the testbed runs a job or someone holds it),
 * keeps it while the rule's window lasts, and release() gives it back when the window ends — the
 * factory then restores the testbed's baseline, which is the undo. Other miners: hold() and
 * release() answer ok at once.
 */
export interface RuleActuator {
  /** The modes the miner has (for checking rules when they are saved); null when unknown. */
  modes(minerId: string): readonly string[] | null;
  hold(minerId: string, ctx: ActuationContext): Promise<ActuationResult>;
  release(minerId: string, ctx: ActuationContext): Promise<ActuationResult>;
  /**
   * The rule still holds the miner (called at each evaluation while it does): renew the testbed's
   * reservation when due. A refusal means the hold is lost (the reservation lapsed or was taken
   * away, and the factory restored the baseline): the engine reports it and takes it again when it can.
   */
  keep?(minerId: string, ctx: ActuationContext): Promise<ActuationResult>;
  setMode(minerId: string, mode: string, ctx: ActuationContext): Promise<ActuationResult>;
  pause(minerId: string, ctx: ActuationContext): Promise<ActuationResult>;
  resume(minerId: string, ctx: ActuationContext): Promise<ActuationResult>;
  switchPool(minerId: string, index: number, ctx: ActuationContext): Promise<ActuationResult>;
  restart(minerId: string, ctx: ActuationContext): Promise<ActuationResult>;
  setFan(minerId: string, percent: number, ctx: ActuationContext): Promise<ActuationResult>;
}
