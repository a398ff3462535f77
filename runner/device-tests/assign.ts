// Which testbed device plays which spec device: hardware equal (when the spec names it), every
// spec attribute present on the device, each testbed device used once. A backtracking search
// finds an assignment whenever one exists (specs name a handful of devices).
import { MvmError } from '../../shared/errors.js';
import { normaliseSoftware } from '../../shared/software.js';
import type { DeviceSpec } from '../drivers/types.js';
import type { SpecDevice } from './spec.js';

export interface Assignment {
  spec: SpecDevice;
  device: DeviceSpec;
  /** Set when the spec names software the device description does not carry (a warning only). */
  softwareNote?: string;
}

/** "esp-miner-2.6.0", "v2.6.0" and "2.6.0" name the same software. */
export { normaliseSoftware };

export function fits(spec: SpecDevice, device: DeviceSpec): boolean {
  if (spec.hardware !== undefined && spec.hardware !== (device.hardware ?? '')) return false;
  const have = new Set(device.attributes ?? []);
  return spec.attributes.every((a) => have.has(a));
}

function describeDevice(d: DeviceSpec): string {
  return `${d.name} (hardware ${d.hardware ?? '?'}, attributes [${(d.attributes ?? []).join(', ')}])`;
}

function describeSpec(s: SpecDevice): string {
  return `${s.name} (hardware ${s.hardware ?? 'any'}, attributes [${s.attributes.join(', ')}])`;
}

export function assignDevices(specDevices: SpecDevice[], testbed: DeviceSpec[]): Assignment[] {
  const candidates = specDevices.map((s) => testbed.filter((d) => fits(s, d)));
  const problems: string[] = [];
  specDevices.forEach((s, i) => {
    if (candidates[i].length === 0) problems.push(`spec device ${describeSpec(s)} matches no testbed device`);
  });
  if (problems.length === 0) {
    const used = new Set<string>();
    const chosen: DeviceSpec[] = [];
    const search = (i: number): boolean => {
      if (i === specDevices.length) return true;
      for (const d of candidates[i]) {
        if (used.has(d.name)) continue;
        used.add(d.name);
        chosen[i] = d;
        if (search(i + 1)) return true;
        used.delete(d.name);
      }
      return false;
    };
    if (search(0)) {
      return specDevices.map((spec, i) => {
        const device = chosen[i];
        let softwareNote: string | undefined;
        if (
          spec.software !== undefined &&
          device.software !== undefined &&
          normaliseSoftware(spec.software) !== normaliseSoftware(device.software)
        ) {
          softwareNote = `spec asks for software ${spec.software}; ${device.name} is described with ${device.software} (flash it first if the test needs it)`;
        }
        return { spec, device, softwareNote };
      });
    }
    problems.push(
      `the spec needs ${specDevices.length} distinct devices, but the matching testbed devices cannot cover all of them (each device is used once)`,
    );
  }
  throw new MvmError(
    'CONFIG_INVALID',
    `cannot assign testbed devices to the test definition:\n  ${problems.join('\n  ')}`,
    {
      hint: `the testbed has: ${testbed.map(describeDevice).join('; ') || 'no devices'}`,
    },
  );
}
