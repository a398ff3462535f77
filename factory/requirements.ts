// Device requirements as targets. A test definition names the devices it needs (hardware,
// attributes); the factory turns that into a target whose name is derived from the requirement
// alone ("req-" + a hash of its canonical form), so every factory and every submitter computes the
// same one. Jobs still name a target, the job server still queues by target — a real buildomat
// server needs nothing new — and a testbed serves the target exactly when its devices satisfy the
// requirement, each device assigned once. Software is not part of it: the runner flashes the
// requested version before the test (doc/requirements.md).
import { createHash } from 'node:crypto';
import { describeError, MvmError } from '../shared/errors.js';
import { assignDevices } from '../runner/device-tests/assign.js';
import type { TestbedConfig } from './config/types.js';

export interface DeviceRequirement {
  hardware?: string;
  attributes: string[];
}

/** Sorted, deduplicated, defaults spelled out: equal requirements have equal canonical forms. */
export function canonicalRequirement(
  devices: ReadonlyArray<{ hardware?: string | number; attributes?: readonly string[] }>,
): DeviceRequirement[] {
  if (devices.length === 0)
    throw new MvmError('USAGE', 'a requirement names at least one device', {
      hint: 'give devices: [{ hardware: "601" }]',
    });
  const out = devices.map((d) => ({
    ...(d.hardware !== undefined && String(d.hardware) !== '' ? { hardware: String(d.hardware) } : {}),
    attributes: [...new Set(d.attributes ?? [])].sort(),
  }));
  const key = (d: DeviceRequirement) => JSON.stringify([d.hardware ?? '', d.attributes]);
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function requirementTargetName(req: DeviceRequirement[]): string {
  return `req-${createHash('sha256').update(JSON.stringify(req)).digest('hex').slice(0, 16)}`;
}

/** For people: "601 [fan:stock] + nano3s". */
export function describeRequirement(req: DeviceRequirement[]): string {
  return req
    .map((d) => `${d.hardware ?? 'any hardware'}${d.attributes.length ? ` [${d.attributes.join(', ')}]` : ''}`)
    .join(' + ');
}

export type Satisfaction = { ok: true } | { ok: false; why: string };

/** Whether the testbed's devices can play every required device, each device once. */
export function satisfies(tb: TestbedConfig, req: DeviceRequirement[]): Satisfaction {
  try {
    assignDevices(
      req.map((d, i) => ({
        name: `#${i + 1}`,
        ...(d.hardware !== undefined ? { hardware: d.hardware } : {}),
        attributes: d.attributes,
      })),
      tb.devices.map((d) => ({
        name: d.name,
        driver: d.driver,
        address: d.address ?? '',
        hardware: d.hardware,
        software: d.software,
        attributes: d.attributes,
      })),
    );
    return { ok: true };
  } catch (err) {
    // assignDevices says which required device matched nothing, or that they cannot all be covered.
    const msg =
      err instanceof MvmError
        ? err.message
            .replace(/^cannot assign testbed devices to the test definition:\s*/, '')
            .replace(/\s*\n\s*/g, '; ')
        : describeError(err);
    return { ok: false, why: msg };
  }
}

export interface RequirementTarget {
  name: string;
  id: string;
  requirement: DeviceRequirement[];
}

/** The requirement targets a factory serves and which of its testbeds serve each. */
export class RequirementMap {
  private readonly byId = new Map<string, RequirementTarget & { testbeds: Set<string> }>();

  constructor(private readonly testbeds: readonly TestbedConfig[]) {}

  add(t: RequirementTarget): string[] {
    const serving = this.testbeds.filter((tb) => satisfies(tb, t.requirement).ok).map((tb) => tb.name);
    this.byId.set(t.id, { ...t, testbeds: new Set(serving) });
    return serving;
  }

  /** Requirement target ids the testbed serves. */
  idsServedBy(testbed: string): string[] {
    return [...this.byId.values()].filter((t) => t.testbeds.has(testbed)).map((t) => t.id);
  }

  byName(name: string): (RequirementTarget & { testbeds: Set<string> }) | undefined {
    return [...this.byId.values()].find((t) => t.name === name);
  }

  nameOf(id: string): string | undefined {
    return this.byId.get(id)?.name;
  }
}
