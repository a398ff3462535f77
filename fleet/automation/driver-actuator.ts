// A RuleActuator over the runner's drivers: what `mvm fleet` uses when no richer actuator (the
// fleet's actions, with read-back and desired state) is wired in, and what the end-to-end tests
// drive the device simulators with. A testbed's device is changed only while a TestbedGate holds
// the testbed for the rule (the factory's reservation API); a miner outside testbeds at once.
import { describeError } from '../../shared/errors.js';
import { createDriver } from '../../runner/drivers/registry.js';
import { MODES, type ControlAction, type DeviceSpec, type Driver, type Mode } from '../../runner/drivers/types.js';
import type { MinerDefinition } from '../types.js';
import type { ActuationContext, ActuationResult, RuleActuator } from './types.js';

/** Reservations of factory testbeds for rules' windows. */
export interface TestbedGate {
  hold(testbed: string, ctx: ActuationContext): Promise<ActuationResult>;
  release(testbed: string, ctx: ActuationContext): Promise<ActuationResult>;
  /** Renews the reservation when due; a refusal means it is lost. */
  keep?(testbed: string, ctx: ActuationContext): Promise<ActuationResult>;
}

/** The factory client as a gate needs it (fleet/lab-client's LabClient has this shape). */
export interface ReservationClient {
  reserve(testbed: string, reason: string, signal?: AbortSignal): Promise<void>;
  release(testbed: string, signal?: AbortSignal): Promise<void>;
  /** PUT /v1/testbeds/{name}/reservation: extends the caller's reservation (the factory refuses a second POST by the same owner). */
  renew(testbed: string, reason: string, signal?: AbortSignal): Promise<void>;
}

export interface ReservationGateOptions {
  /** renew a held reservation this often (default 5 min; keep it well under the reservation's TTL) */
  renewEveryMs?: number;
  now?: () => number;
}

/**
 * One reservation per testbed, shared by the rules holding it: taken by the first rule's hold(),
 * given back (the factory restores the baseline) when the last rule holding it releases.
 */
export function reservationGate(client: ReservationClient, opts: ReservationGateOptions = {}): TestbedGate {
  const holders = new Map<string, Set<number>>();
  const renewedAt = new Map<string, number>();
  const now = opts.now ?? Date.now;
  const every = opts.renewEveryMs ?? 5 * 60_000;
  return {
    async hold(testbed, ctx) {
      const set = holders.get(testbed) ?? new Set<number>();
      if (set.size === 0) {
        try {
          await client.reserve(testbed, ctx.reason);
        } catch (err) {
          // Refused because the fleet holds it already (it restarted within the TTL): renewing proves it.
          const ours = await client.renew(testbed, ctx.reason).then(
            () => true,
            () => false,
          );
          if (!ours) return { ok: false, reason: describeError(err) };
        }
        renewedAt.set(testbed, now());
      }
      set.add(ctx.rule.id);
      holders.set(testbed, set);
      return { ok: true };
    },
    async release(testbed, ctx) {
      const set = holders.get(testbed);
      if (!set?.delete(ctx.rule.id)) return { ok: true, message: 'not held by this rule' };
      if (set.size > 0) return { ok: true, message: `still held by ${set.size} rule(s)` };
      holders.delete(testbed);
      renewedAt.delete(testbed);
      try {
        await client.release(testbed);
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: describeError(err) };
      }
    },
    async keep(testbed, ctx) {
      const set = holders.get(testbed);
      if (!set?.has(ctx.rule.id))
        return { ok: false, reason: `testbed ${testbed} is not held (the fleet restarted, or it was released)` };
      if (now() - (renewedAt.get(testbed) ?? 0) < every) return { ok: true };
      try {
        await client.renew(testbed, ctx.reason);
        renewedAt.set(testbed, now());
        return { ok: true };
      } catch (err) {
        holders.delete(testbed);
        renewedAt.delete(testbed);
        return { ok: false, reason: `cannot renew the reservation: ${describeError(err)}` };
      }
    },
  };
}

export interface DriverActuatorOptions {
  miner: (id: string) => MinerDefinition | undefined;
  testbeds?: TestbedGate;
  driverFactory?: (spec: DeviceSpec) => Driver;
  timeoutMs?: number;
}

export class DriverActuator implements RuleActuator {
  constructor(private readonly o: DriverActuatorOptions) {}

  modes(minerId: string): readonly string[] | null {
    const m = this.o.miner(minerId);
    if (!m) return null;
    if (m.driver === 'axeos') return MODES;
    if (m.driver === 'cgminer') return ['eco', 'standard', 'turbo'];
    return [];
  }

  async hold(minerId: string, ctx: ActuationContext): Promise<ActuationResult> {
    const m = this.o.miner(minerId);
    if (!m?.testbed) return { ok: true };
    if (!this.o.testbeds)
      return {
        ok: false,
        reason: `miner ${minerId} belongs to testbed ${m.testbed} and no factory is configured to reserve it`,
      };
    return this.o.testbeds.hold(m.testbed, ctx);
  }

  async release(minerId: string, ctx: ActuationContext): Promise<ActuationResult> {
    const m = this.o.miner(minerId);
    if (!m?.testbed || !this.o.testbeds) return { ok: true };
    return this.o.testbeds.release(m.testbed, ctx);
  }

  async keep(minerId: string, ctx: ActuationContext): Promise<ActuationResult> {
    const m = this.o.miner(minerId);
    if (!m?.testbed || !this.o.testbeds?.keep) return { ok: true };
    return this.o.testbeds.keep(m.testbed, ctx);
  }

  private async control(minerId: string, action: ControlAction): Promise<ActuationResult> {
    const m = this.o.miner(minerId);
    if (!m) return { ok: false, reason: `no miner ${minerId}` };
    const spec: DeviceSpec = {
      name: m.id,
      driver: m.driver,
      address: m.address,
      options: m.options,
      ...(m.hardware ? { hardware: m.hardware } : {}),
    };
    let driver: Driver | undefined;
    try {
      driver = (this.o.driverFactory ?? createDriver)(spec);
      if (!driver.capabilities.has('control')) return { ok: false, reason: `a ${m.driver} miner cannot be controlled` };
      const r = await driver.control(action, { timeoutMs: this.o.timeoutMs ?? 20_000 });
      return { ok: true, message: r.message };
    } catch (err) {
      return { ok: false, reason: describeError(err) };
    } finally {
      await driver?.close().catch(() => undefined);
    }
  }

  setMode(minerId: string, mode: string, _ctx: ActuationContext): Promise<ActuationResult> {
    const modes = this.modes(minerId);
    if (modes && !modes.includes(mode))
      return Promise.resolve({
        ok: false,
        reason: `miner ${minerId} has no mode ${mode} (it has: ${modes.join(', ') || 'none'})`,
      });
    return this.control(minerId, { op: 'mode', mode: mode as Mode });
  }
  pause(minerId: string): Promise<ActuationResult> {
    return this.control(minerId, { op: 'pause' });
  }
  resume(minerId: string): Promise<ActuationResult> {
    return this.control(minerId, { op: 'resume' });
  }
  switchPool(minerId: string, index: number): Promise<ActuationResult> {
    return this.control(minerId, { op: 'pools-switch', index });
  }
  restart(minerId: string): Promise<ActuationResult> {
    return this.control(minerId, { op: 'restart' });
  }
  setFan(minerId: string, percent: number): Promise<ActuationResult> {
    return this.control(minerId, { op: 'fan', percent });
  }
}
