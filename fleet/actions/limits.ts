// The board's limits for manual settings: a fan, frequency or voltage outside them is refused before
// anything reaches the device. AxeOS boards: the option ranges of the board's firmware device config
// (runner/drivers/axeos/limits.ts), else its ASIC's; the fan never below 20 % (a stopped fan cooks
// the chip). Other drivers: what their firmware takes.
import type { DeviceInfo, DriverKind } from '../../runner/drivers/types.js';
import { explicitRange } from '../../runner/drivers/axeos/limits.js';
import { asicForBoard, isAsicModel } from '../../runner/drivers/axeos/models.js';

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
    const hardware = info?.hardware ?? null;
    const asic = isAsicModel(raw.ASICModel) ? raw.ASICModel : asicForBoard(hardware ?? undefined);
    const fan = { min: 20, max: 100, unit: '%' };
    const f = explicitRange('frequency', hardware, asic);
    const v = explicitRange('voltage', hardware, asic);
    if (!f || !v) return { fan, basis: `board ${hardware ?? 'unknown'}` };
    return {
      frequency: { min: f.range[0], max: f.range[1], unit: 'MHz' },
      voltage: { min: v.range[0], max: v.range[1], unit: 'mV' },
      fan,
      basis: f.of,
    };
  }
  if (kind === 'cgminer') return { fan: { min: 20, max: 100, unit: '%' }, basis: 'Avalon Nano' };
  return { basis: kind };
}

/** A problem with `value` for `setting`, or undefined when it is within the limits. */
export function outOfLimits(
  limits: BoardLimits,
  setting: 'frequency' | 'voltage' | 'fan',
  value: number,
): string | undefined {
  const r = limits[setting];
  if (!r) return `${setting} cannot be set on this device (${limits.basis})`;
  if (!Number.isInteger(value) || value < r.min || value > r.max)
    return `${setting} ${value} ${r.unit} is outside the board's limits (${r.min}–${r.max} ${r.unit}, ${limits.basis})`;
  return undefined;
}
