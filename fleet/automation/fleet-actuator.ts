// The rule engine's actuator over the fleet's actions (fleet/actions: modes by device, read-back,
// desired state, drift): a thrown error becomes a refusal with its message, and testbed holds go
// through a TestbedGate for the rule's window, as in the driver-backed actuator.
import { describeError } from '../../shared/errors.js';
import type { FleetActions } from '../actions/actions.js';
import type { MinerDefinition } from '../types.js';
import type { TestbedGate } from './driver-actuator.js';
import type { ActuationContext, ActuationResult, RuleActuator } from './types.js';

type Actions = Pick<FleetActions, 'modes' | 'setMode' | 'pause' | 'resume' | 'switchPool' | 'restart' | 'settings'>;

async function attempt(fn: () => Promise<{ message: string }>): Promise<ActuationResult> {
  try {
    return { ok: true, message: (await fn()).message };
  } catch (err) {
    return { ok: false, reason: describeError(err) };
  }
}

export function fleetActionsActuator(
  actions: Actions,
  miner: (id: string) => MinerDefinition | undefined,
  testbeds?: TestbedGate,
): RuleActuator {
  const gate = async (id: string, ctx: ActuationContext, op: 'hold' | 'release' | 'keep'): Promise<ActuationResult> => {
    const tb = miner(id)?.testbed;
    if (!tb) return { ok: true };
    if (!testbeds)
      return op === 'hold'
        ? { ok: false, reason: `miner ${id} belongs to testbed ${tb} and no factory is configured to reserve it` }
        : { ok: true };
    const f = testbeds[op];
    return f ? f.call(testbeds, tb, ctx) : { ok: true };
  };
  // Under a gate the rule holds the testbed for its window: the action must not take (and release) its own.
  const c = (ctx: ActuationContext, id: string) => {
    const tb = testbeds ? miner(id)?.testbed : undefined;
    return { actor: ctx.actor, ...(tb ? { heldReservation: tb } : {}) };
  };
  return {
    modes(id) {
      try {
        return actions.modes(id).modes;
      } catch {
        return null;
      }
    },
    hold: (id, ctx) => gate(id, ctx, 'hold'),
    release: (id, ctx) => gate(id, ctx, 'release'),
    keep: (id, ctx) => gate(id, ctx, 'keep'),
    setMode: (id, mode, ctx) => attempt(() => actions.setMode(id, mode, c(ctx, id))),
    pause: (id, ctx) => attempt(() => actions.pause(id, c(ctx, id))),
    resume: (id, ctx) => attempt(() => actions.resume(id, c(ctx, id))),
    switchPool: (id, index, ctx) => attempt(() => actions.switchPool(id, index, c(ctx, id))),
    restart: (id, ctx) => attempt(() => actions.restart(id, c(ctx, id))),
    setFan: (id, percent, ctx) => attempt(() => actions.settings(id, { fan: percent }, c(ctx, id))),
  };
}
