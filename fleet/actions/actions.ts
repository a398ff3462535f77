// Everything the fleet does to a miner: mode, pools (apply, switch, prioritise), restart and wait,
// pause/resume, fan/frequency/voltage within the board's limits, and verify (read back, record
// drift). All through the runner's drivers; a testbed's device only under a reservation taken
// from the factory (lab-client.ts). One action at a time per miner; each one an event naming who
// asked, and each refusal too.
import { DriverError } from '../../runner/drivers/errors.js';
import type { ControlAction, Driver, Mode, PoolConfig } from '../../runner/drivers/types.js';
import { describeError, MvmError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { TestbedBusyError, type LabClient } from '../lab-client.js';
import type {
  CollectorHandle,
  DesiredStore,
  EventStore,
  FleetEvent,
  FleetEventKind,
  MinerStore,
  MinerView,
  PoolDefinition,
  PoolStore,
} from '../types.js';
import { poolConfig, withDriver, type DriverFactory } from './device.js';
import { boardLimits, outOfLimits } from './limits.js';
import { fleetModes } from './modes.js';
import { readBack, type ReadBack } from './readback.js';
import { restartAndWait } from './restart.js';

export interface ActionDeps {
  miners: MinerStore;
  pools: PoolStore;
  desired: DesiredStore;
  events: EventStore;
  collector?: CollectorHandle;
  /**
   * The reservation API of the lab a testbed reference (NAME, NAME@LAB) belongs to, with the name
   * the factory knows; throws FORBIDDEN when that lab is not configured. Asked at each action: SIGHUP may change it.
   */
  lab: (testbed: string, subject: string) => { client: LabClient; name: string };
  driverFactory?: DriverFactory;
  log: Logger;
  /** How long a restart may take before the miner answers again. */
  restartTimeoutMs?: number;
}

export interface ActionContext {
  /** Who asked: a token's name, "rule:NAME", "config". */
  actor: string;
  signal?: AbortSignal;
  /**
   * The caller already holds this testbed's reservation (a rule, for its window): the action
   * neither takes nor releases one — releasing restores the baseline and would undo the change.
   */
  heldReservation?: string;
}

export interface ActionResult {
  miner: string;
  action: string;
  message: string;
  needsRestart: boolean;
  /** What the device reads back after the change (absent when nothing was compared). */
  readBack: ReadBack | null;
  drift: boolean;
  /** The testbed reserved for the change, when the miner belongs to one. */
  testbed: string | null;
  event: FleetEvent;
}

interface Outcome {
  message: string;
  needsRestart?: boolean;
  readBack?: ReadBack;
  data?: Record<string, unknown>;
}

export type SettingChange = { fan?: number; frequency?: number; voltage?: number };

export class FleetActions {
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly d: ActionDeps) {}

  private miner(id: string): MinerView {
    const m = this.d.miners.get(id);
    if (!m)
      throw new MvmError('NOT_FOUND', `no miner ${JSON.stringify(id)}`, {
        hint: 'GET /api/miners/ (or `mvm fleet miners`) lists them',
      });
    return m;
  }

  /** One action at a time per miner: the next waits for the previous to end. */
  private serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.chains.set(id, next);
    void next
      .catch(() => undefined)
      .then(() => {
        if (this.chains.get(id) === next) this.chains.delete(id);
      });
    return next;
  }

  private event(
    m: MinerView,
    kind: FleetEventKind,
    level: FleetEvent['level'],
    message: string,
    ctx: ActionContext,
    data?: Record<string, unknown>,
  ): FleetEvent {
    return this.d.events.append({ minerId: m.id, kind, level, message, actor: ctx.actor, data: data ?? null });
  }

  /** Runs a change on the device: reservation when it is a testbed's, the driver, events. */
  private change(
    id: string,
    kind: FleetEventKind,
    what: string,
    ctx: ActionContext,
    fn: (driver: Driver, m: MinerView) => Promise<Outcome>,
  ): Promise<ActionResult> {
    const m = this.miner(id);
    return this.serial(id, async () => {
      const work = () => withDriver(m, (drv) => fn(drv, m), this.d.driverFactory);
      let out: Outcome;
      try {
        if (m.testbed && ctx.heldReservation === m.testbed) out = await work();
        else if (m.testbed) {
          const lab = this.d.lab(m.testbed, `miner ${m.id}`);
          out = await lab.client.hold(
            lab.name,
            `mvm fleet: ${what} on ${m.id} (asked by ${ctx.actor})`,
            ctx.signal,
            work,
            (err) =>
              this.event(
                m,
                'error',
                'error',
                `could not release the reservation of testbed ${m.testbed} after ${what}: ${describeError(err)} (it lapses at its TTL)`,
                ctx,
                { testbed: m.testbed },
              ),
          );
        } else out = await work();
      } catch (err) {
        const e = unsupportedAsSuch(err);
        const refused =
          e instanceof TestbedBusyError ||
          (e instanceof MvmError && (e.code === 'FORBIDDEN' || e.code === 'USAGE')) ||
          (e instanceof DriverError && (e.reason === 'unsupported' || e.reason === 'invalid_argument'));
        this.event(
          m,
          refused ? 'refused' : 'error',
          refused ? 'warn' : 'error',
          `${what} on ${m.id} ${refused ? 'refused' : 'failed'}: ${describeError(e)}`,
          ctx,
          {
            action: what,
            ...(e instanceof TestbedBusyError ? { testbed: e.testbed, holder: e.holder } : {}),
          },
        );
        throw e;
      }
      const drift = Boolean(out.readBack && Object.values(out.readBack).some((o) => o?.same === false));
      const ev = this.event(m, kind, 'info', `${m.id}: ${out.message}`, ctx, {
        action: what,
        ...(out.data ?? {}),
        ...(m.testbed ? { testbed: m.testbed } : {}),
        ...(out.readBack ? { readBack: out.readBack } : {}),
      });
      if (drift) this.recordDrift(m, out.readBack!, ctx.actor);
      // The collector reads the miner again now, so the API shows the change without waiting a round.
      void this.d.collector?.pollNow(m.id).catch(() => undefined);
      return {
        miner: m.id,
        action: what,
        message: out.message,
        needsRestart: out.needsRestart ?? false,
        readBack: out.readBack ?? null,
        drift,
        testbed: m.testbed ?? null,
        event: ev,
      };
    });
  }

  private recordDrift(m: MinerView, rb: ReadBack, actor: string): FleetEvent {
    const parts = Object.entries(rb)
      .filter(([, o]) => o?.same === false)
      .map(
        ([k, o]) =>
          `${k}: wanted ${k === 'mode' ? (this.d.desired.get(m.id)?.mode ?? '?') : 'the assigned pools'}, device has ${o!.current ?? '?'}`,
      );
    return this.d.events.append({
      minerId: m.id,
      kind: 'drift',
      level: 'warn',
      message: `${m.id} drifted from what the fleet wants (${parts.join('; ')})`,
      actor,
      data: { readBack: rb },
    });
  }

  modes(id: string): {
    miner: string;
    driver: string;
    modes: string[];
    aliases: Record<string, string>;
    desired: string | null;
  } {
    const m = this.miner(id);
    const fm = fleetModes(m.driver, m.hardware);
    return {
      miner: m.id,
      driver: m.driver,
      modes: fm.names,
      aliases: fm.aliases,
      desired: this.d.desired.get(m.id)?.mode ?? null,
    };
  }

  private driverMode(m: MinerView, name: string): { name: string; driverMode: Mode } {
    const fm = fleetModes(m.driver, m.hardware);
    const r = fm.resolve(name);
    if (!r) {
      throw new MvmError(
        'USAGE',
        fm.names.length
          ? `mode ${JSON.stringify(name)} is not a mode of ${m.id} (${m.driver}): use ${fm.names.join(', ')}`
          : `${m.id} (${m.driver}) has no modes`,
        {
          hint: `GET /api/miners/${m.id}/modes lists them`,
        },
      );
    }
    return r;
  }

  setMode(id: string, name: string, ctx: ActionContext): Promise<ActionResult> {
    const m = this.miner(id);
    const mode = this.driverMode(m, name);
    return this.change(id, 'mode', `mode ${mode.name}`, ctx, async (drv) => {
      const r = await drv.control({ op: 'mode', mode: mode.driverMode }, { signal: ctx.signal });
      this.d.desired.set(m.id, { mode: mode.name }, ctx.actor);
      const rb = await readBack(drv, { mode: mode.driverMode }, ctx.signal);
      return {
        message: `mode ${mode.name} (${r.message})`,
        needsRestart: r.needsRestart,
        readBack: rb,
        data: { mode: mode.name },
      };
    });
  }

  private assigned(m: MinerView): PoolDefinition[] {
    const list = this.d.pools.resolveFor(m);
    if (!list || list.length === 0) {
      throw new MvmError('USAGE', `no pools are assigned to ${m.id} (nor to any of its tags)`, {
        hint: `PUT /api/miners/${m.id}/pools {"pools": ["POOL_ID", …]} assigns them`,
      });
    }
    return list;
  }

  /** Applies the miner's assigned pools (its own list, else its tags'), then reads them back. */
  applyPools(id: string, ctx: ActionContext): Promise<ActionResult> {
    const m = this.miner(id);
    const list = this.assigned(m);
    const configs: PoolConfig[] = list.map((p) => poolConfig(p, this.d.pools.secret(p.id)));
    return this.change(id, 'pools', 'pools apply', ctx, async (drv) => {
      const r = await drv.control({ op: 'pools-set', pools: configs }, { signal: ctx.signal });
      this.d.desired.set(m.id, { poolIds: list.map((p) => p.id) }, ctx.actor);
      let rb = await readBack(drv, { pools: configs }, ctx.signal);
      // NMMiner confirms a push by reporting its config: that report is the read-back.
      if (rb.pools && !rb.pools.readable && r.details?.report)
        rb = { ...rb, pools: { readable: true, same: true, current: 'confirmed by the device report' } };
      return {
        message: `pools ${list.map((p) => p.id).join(', ')} applied (${r.message})`,
        needsRestart: r.needsRestart,
        readBack: rb,
        data: { pools: list.map((p) => p.id) },
      };
    });
  }

  /** Makes the device mine on the pool at `index` of its list now. */
  switchPool(id: string, index: number, ctx: ActionContext): Promise<ActionResult> {
    return this.change(id, 'pools', `pools switch ${index}`, ctx, async (drv) => {
      const r = await drv.control({ op: 'pools-switch', index }, { signal: ctx.signal });
      return { message: `switched to pool ${index} (${r.message})`, needsRestart: r.needsRestart, data: { index } };
    });
  }

  /** Puts `poolId` first: the device switches to it where the firmware can (the assigned order is kept). */
  prioritise(id: string, poolId: string, ctx: ActionContext): Promise<ActionResult> {
    const m = this.miner(id);
    const list = this.assigned(m);
    const index = list.findIndex((p) => p.id === poolId);
    if (index < 0)
      throw new MvmError(
        'USAGE',
        `pool ${JSON.stringify(poolId)} is not among ${m.id}'s pools (${list.map((p) => p.id).join(', ')})`,
        { hint: 'assign it first' },
      );
    return this.change(id, 'pools', `pools prioritise ${poolId}`, ctx, async (drv) => {
      const r = await drv.control({ op: 'pools-switch', index }, { signal: ctx.signal });
      return {
        message: `pool ${poolId} (#${index}) now first (${r.message})`,
        needsRestart: r.needsRestart,
        data: { pool: poolId, index },
      };
    });
  }

  restart(id: string, ctx: ActionContext & { timeoutMs?: number }): Promise<ActionResult> {
    return this.change(id, 'restart', 'restart', ctx, async (drv) => {
      const r = await restartAndWait(drv, {
        timeoutMs: ctx.timeoutMs ?? this.d.restartTimeoutMs ?? 120_000,
        signal: ctx.signal,
      });
      return {
        message: `restarted and answering again after ${(r.downMs / 1000).toFixed(1)} s (${r.message})`,
        data: { downMs: r.downMs, uptimeS: r.uptimeS },
      };
    });
  }

  pause(id: string, ctx: ActionContext): Promise<ActionResult> {
    return this.pauseResume(id, 'pause', ctx);
  }

  resume(id: string, ctx: ActionContext): Promise<ActionResult> {
    return this.pauseResume(id, 'resume', ctx);
  }

  private pauseResume(id: string, op: 'pause' | 'resume', ctx: ActionContext): Promise<ActionResult> {
    return this.change(id, op, op, ctx, async (drv, m) => {
      const r = await drv.control({ op }, { signal: ctx.signal });
      this.d.desired.set(m.id, { paused: op === 'pause' }, ctx.actor);
      return { message: `${op === 'pause' ? 'paused' : 'resumed'} (${r.message})` };
    });
  }

  /** Fan, frequency and/or voltage, each checked against the board's limits before anything is sent. */
  settings(id: string, s: SettingChange, ctx: ActionContext): Promise<ActionResult> {
    const keys = (['frequency', 'voltage', 'fan'] as const).filter((k) => s[k] !== undefined);
    if (keys.length === 0) throw new MvmError('USAGE', 'give at least one of fan, frequency, voltage');
    return this.change(id, 'setting', keys.map((k) => `${k} ${s[k]}`).join(', '), ctx, async (drv, m) => {
      const info = await drv.info({ signal: ctx.signal }).catch(() => null);
      const limits = boardLimits(m.driver, info);
      const problems = keys.map((k) => outOfLimits(limits, k, s[k]!)).filter((p): p is string => p !== undefined);
      if (problems.length)
        throw new DriverError(m.id, 'invalid_argument', problems.join('; '), { hint: 'stay within the limits named' });
      const messages: string[] = [];
      for (const k of keys) {
        const action: ControlAction =
          k === 'fan'
            ? { op: 'fan', percent: s.fan! }
            : k === 'frequency'
              ? { op: 'frequency', mhz: s.frequency! }
              : { op: 'voltage', mv: s.voltage! };
        messages.push((await drv.control(action, { signal: ctx.signal })).message);
      }
      return { message: messages.join('; '), data: { ...s } };
    });
  }

  /** Reads back what the fleet wants of the miner (mode, pools) and records drift. No reservation: a read. */
  async verify(
    id: string,
    ctx: ActionContext,
  ): Promise<{ miner: string; readBack: ReadBack; drift: boolean; event: FleetEvent | null }> {
    const m = this.miner(id);
    const want = this.d.desired.get(m.id);
    const mode = want?.mode ? fleetModes(m.driver, m.hardware).resolve(want.mode)?.driverMode : undefined;
    const pools = want?.poolIds?.length
      ? want.poolIds
          .map((p) => this.d.pools.get(p))
          .filter((p): p is PoolDefinition => p !== undefined)
          .map((p) => poolConfig(p, this.d.pools.secret(p.id)))
      : undefined;
    if (!mode && !pools) return { miner: m.id, readBack: {}, drift: false, event: null };
    const rb = await withDriver(m, (drv) => readBack(drv, { mode, pools }, ctx.signal), this.d.driverFactory);
    const drift = Object.values(rb).some((o) => o?.same === false);
    return { miner: m.id, readBack: rb, drift, event: drift ? this.recordDrift(m, rb, ctx.actor) : null };
  }
}

/** A driver's "unsupported" said the way the fleet promises: unsupported on this firmware. */
function unsupportedAsSuch(err: unknown): unknown {
  if (err instanceof DriverError && err.reason === 'unsupported' && !/unsupported on this firmware/.test(err.message)) {
    const e = new DriverError(
      err.device,
      'unsupported',
      `unsupported on this firmware: ${err.message.slice(err.device.length + 2)}`,
      { hint: err.hint, cause: err },
    );
    return e;
  }
  return err;
}
