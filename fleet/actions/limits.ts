// The board's limits for manual settings: a fan, frequency or voltage outside them is refused before
// anything reaches the device. AxeOS boards: from the ASIC's mode table (eco − 100 … oc); the fan
// never below 20 % (a stopped fan cooks the chip). Other drivers: what their firmware takes.
import type { DeviceInfo, DriverKind } from '../../runner/drivers/types.js';
import { asicForBoard, MODE_TABLE } from '../../runner/drivers/axeos/models.js';

export interface Range {
  min: number;
  max: number;
  unit: string;
}

export interface BoardLimits {
  /** Absent: this device has no such setting. */
  frequency?: Range;
  voltage?: Range;
  fan?: Range;
  /** Who decided, for messages ("BM1370", "Avalon Nano"). */
  basis: string;
}

export function boardLimits(kind: DriverKind, info: Pick<DeviceInfo, 'hardware' | 'raw'> | null): BoardLimits {
  if (kind === 'axeos') {
    const raw = (info?.raw ?? {}) as { ASICModel?: string };
    const asic = (raw.ASICModel && raw.ASICModel in MODE_TABLE ? raw.ASICModel : asicForBoard(info?.hardware ?? undefined)) as keyof typeof MODE_TABLE | undefined;
    const fan = { min: 20, max: 100, unit: '%' };
    if (!asic) return { fan, basis: `board ${info?.hardware ?? 'unknown'}` };
    const t = MODE_TABLE[asic];
    return {
      frequency: { min: t.eco.frequency - 100, max: t.oc.frequency, unit: 'MHz' },
      voltage: { min: t.eco.coreVoltage - 100, max: t.oc.coreVoltage, unit: 'mV' },
      fan,
      basis: asic,
    };
  }
  if (kind === 'cgminer') return { fan: { min: 20, max: 100, unit: '%' }, basis: 'Avalon Nano' };
  return { basis: kind };
}

/** A problem with `value` for `setting`, or undefined when it is within the limits. */
export function outOfLimits(limits: BoardLimits, setting: 'frequency' | 'voltage' | 'fan', value: number): string | undefined {
  const r = limits[setting];
  if (!r) return `${setting} cannot be set on this device (${limits.basis})`;
  if (!Number.isInteger(value) || value < r.min || value > r.max) return `${setting} ${value} ${r.unit} is outside the board's limits (${r.min}–${r.max} ${r.unit}, ${limits.basis})`;
  return undefined;
}
