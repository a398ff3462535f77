// What the API shows of testbeds, devices, reservations and history: database rows and config,
// joined and spelled as the OpenAPI document says (snake_case, ISO times).
import type { TestbedConfig } from '../config/types.js';
import type { EventRow, InstanceRow, LockRow } from '../db/schema.js';
import type { Blocker } from '../availability.js';
import type { TestbedView } from '../store.js';
import { sameSoftware } from '../../shared/software.js';

export const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

export interface ViewContext {
  config: (name: string) => TestbedConfig | undefined;
  blockers: (v: TestbedView) => Blocker[];
  /** Target names the testbed serves (config targets and requirement targets). */
  targetNames: (name: string) => string[];
}

export function deviceViews(name: string, tb: TestbedConfig | undefined) {
  return (tb?.devices ?? []).map((d) => ({
    testbed: name,
    name: d.name,
    driver: d.driver,
    hardware: d.hardware ?? null,
    software: d.software ?? null,
    address: d.address ?? null,
    attributes: d.attributes,
  }));
}

export type DeviceView = ReturnType<typeof deviceViews>[number];

export function blockerView(b: Blocker) {
  return { kind: b.kind, message: b.message, ...(b.until !== undefined ? { until: iso(b.until) } : {}) };
}

export function lockView(l: LockRow | undefined) {
  return l
    ? { kind: l.kind, owner: l.owner, reason: l.reason, acquired_at: iso(l.acquiredAt), expires_at: iso(l.expiresAt) }
    : null;
}

export function testbedView(v: TestbedView, ctx: ViewContext) {
  const tb = ctx.config(v.name);
  const b = ctx.blockers(v);
  return {
    name: v.name,
    description: tb?.description ?? null,
    enabled: v.enabled,
    configured: v.configured,
    targets: ctx.targetNames(v.name),
    state: b[0]?.kind ?? 'free',
    free: b.length === 0,
    health: v.health,
    health_reason: v.healthReason,
    health_changed_at: iso(v.healthChangedAt),
    check_failures: v.checkFailures,
    last_check_at: iso(v.lastCheckAt),
    next_check_at: iso(v.nextCheckAt),
    unavailable: v.unavailable,
    blockers: b.map(blockerView),
    lock: lockView(v.lock),
    instance: v.instance
      ? {
          id: v.instance.id,
          job: v.instance.job,
          state: v.instance.state as 'created' | 'running' | 'destroying',
          worker: v.instance.workerId,
          created_at: iso(v.instance.createdAt),
        }
      : null,
    devices: deviceViews(v.name, tb),
    agent: tb?.agent.mode === 'ssh' ? { mode: 'ssh' as const, host: tb.agent.host } : { mode: 'local' as const },
  };
}

export type TestbedApiView = ReturnType<typeof testbedView>;

/** `credential` only in answers to the reservation's holder (reserve, renew): it lets `mvm runner` act on the testbed. */
export function reservationView(l: LockRow, credential?: string) {
  return {
    testbed: l.testbed,
    owner: l.owner,
    reason: l.reason,
    acquired_at: iso(l.acquiredAt),
    renewed_at: iso(l.renewedAt),
    expires_at: iso(l.expiresAt),
    restore_on_release: l.restoreOnRelease,
    ...(credential !== undefined ? { credential } : {}),
  };
}

export function historyView(events: EventRow[], instances: InstanceRow[]) {
  return {
    events: events.map((e) => ({ at: iso(e.at), kind: e.kind, message: e.message, instance: e.instanceId })),
    instances: instances.map((i) => ({
      id: i.id,
      seq: i.seq,
      job: i.job,
      state: i.state,
      created_at: iso(i.createdAt),
      destroyed_at: iso(i.destroyedAt),
      reason: i.reason,
      failure: i.failure,
      restore_outcome: i.restoreOutcome,
    })),
  };
}

export interface Filters {
  hardware?: string;
  software?: string;
  attribute?: string | string[];
  driver?: string;
  target?: string;
  state?: string;
  health?: string;
  free?: boolean;
}

/**
 * Device-level filters: a device matches when it has the hardware, software (as test definitions
 * compare versions: 2.4.5, v2.4.5 and esp-miner-2.4.5 are one), driver and every attribute asked for.
 */
export function deviceMatches(d: DeviceView, f: Filters): boolean {
  const attrs = f.attribute === undefined ? [] : Array.isArray(f.attribute) ? f.attribute : [f.attribute];
  return (
    (f.hardware === undefined || d.hardware === f.hardware) &&
    (f.software === undefined || sameSoftware(d.software, f.software)) &&
    (f.driver === undefined || d.driver === f.driver) &&
    attrs.every((a) => d.attributes.includes(a))
  );
}

/** A testbed matches when its own fields match and (with device filters) one of its devices does. */
export function testbedMatches(t: TestbedApiView, f: Filters): boolean {
  const deviceFilter =
    f.hardware !== undefined || f.software !== undefined || f.driver !== undefined || f.attribute !== undefined;
  return (
    (f.target === undefined || t.targets.includes(f.target)) &&
    (f.state === undefined || t.state === f.state) &&
    (f.health === undefined || t.health === f.health) &&
    (f.free === undefined || t.free === f.free) &&
    (!deviceFilter || t.devices.some((d) => deviceMatches(d, f)))
  );
}
