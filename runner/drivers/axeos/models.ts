// AxeOS boards: which ASIC a board carries, its human name, and what eco/standard/turbo/oc mean
// for it (frequency MHz, core voltage mV). Defaults follow ESP-Miner's per-ASIC defaults; the other
// modes stay inside the options AxeOS offers for that ASIC, except `oc`, which needs overclockEnabled.
import type { Mode } from '../types.js';

export type AsicModel = 'BM1397' | 'BM1366' | 'BM1368' | 'BM1370';

export interface ModeSetting {
  frequency: number;
  coreVoltage: number;
}

export const MODE_TABLE: Record<AsicModel, Record<Mode, ModeSetting>> = {
  BM1397: {
    eco: { frequency: 400, coreVoltage: 1300 },
    standard: { frequency: 425, coreVoltage: 1400 },
    turbo: { frequency: 475, coreVoltage: 1450 },
    oc: { frequency: 525, coreVoltage: 1500 },
  },
  BM1366: {
    eco: { frequency: 400, coreVoltage: 1100 },
    standard: { frequency: 485, coreVoltage: 1200 },
    turbo: { frequency: 525, coreVoltage: 1250 },
    oc: { frequency: 575, coreVoltage: 1300 },
  },
  BM1368: {
    eco: { frequency: 400, coreVoltage: 1100 },
    standard: { frequency: 490, coreVoltage: 1166 },
    turbo: { frequency: 525, coreVoltage: 1200 },
    oc: { frequency: 575, coreVoltage: 1250 },
  },
  BM1370: {
    eco: { frequency: 400, coreVoltage: 1000 },
    standard: { frequency: 525, coreVoltage: 1150 },
    turbo: { frequency: 600, coreVoltage: 1200 },
    oc: { frequency: 650, coreVoltage: 1250 },
  },
};

/** The ASIC a board version carries: 102 Max (BM1397), 20x Ultra / 30x UltraHex (BM1366), 40x Supra / 70x SupraHex (BM1368), 60x Gamma / 80x GT (BM1370). */
export function asicForBoard(boardVersion: string | undefined): AsicModel | undefined {
  const b = (boardVersion ?? '').trim();
  if (/^10\d$/.test(b)) return 'BM1397';
  if (/^(20\d|30\d)$/.test(b)) return 'BM1366';
  if (/^(40\d|70\d)$/.test(b)) return 'BM1368';
  if (/^(60\d|80\d)$/.test(b)) return 'BM1370';
  return undefined;
}

export function boardName(boardVersion: string | undefined, deviceModel?: string): string {
  if (deviceModel && /nerd/i.test(deviceModel)) return deviceModel;
  const b = (boardVersion ?? '').trim();
  if (/^10\d$/.test(b)) return 'Bitaxe Max';
  if (/^20\d$/.test(b)) return 'Bitaxe Ultra';
  if (/^30\d$/.test(b)) return 'Bitaxe UltraHex';
  if (/^70\d$/.test(b)) return 'Bitaxe SupraHex';
  if (/^40\d$/.test(b)) return 'Bitaxe Supra';
  if (/^60\d$/.test(b)) return 'Bitaxe Gamma';
  if (/^80\d$/.test(b)) return 'Bitaxe GT';
  return deviceModel ? deviceModel : `AxeOS board ${b || 'unknown'}`;
}

export function isAsicModel(s: unknown): s is AsicModel {
  return s === 'BM1397' || s === 'BM1366' || s === 'BM1368' || s === 'BM1370';
}

/** The frequency/voltage for a mode on a board, preferring the ASIC the device reports. */
export function modeSetting(mode: Mode, asic: AsicModel): ModeSetting {
  return MODE_TABLE[asic][mode];
}
