// AxeOS boards: which ASIC a board carries and its human name. What a board may run at (and its
// mode presets) is in limits.ts.
import { ASIC_PRESETS, type AxeosMode, type ModeSetting } from './limits.js';

export type AsicModel = 'BM1397' | 'BM1366' | 'BM1368' | 'BM1370';

/** The ASIC a board version carries: 102 Max (BM1397), 20x Ultra / 30x UltraHex (BM1366), 40x Supra / 70x SupraHex (BM1368), 60x Gamma / 80x GT (BM1370). */
export function asicForBoard(boardVersion: string | undefined): AsicModel | undefined {
  const b = (boardVersion ?? '').trim();
  if (/^10\d$/.test(b)) return 'BM1397';
  if (/^(20\d|30\d)$/.test(b)) return 'BM1366';
  if (/^(40\d|70\d)$/.test(b)) return 'BM1368';
  if (/^(60\d|65\d|80\d)$/.test(b)) return 'BM1370';
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
  if (/^65\d$/.test(b)) return 'Bitaxe GammaDuo';
  if (/^80\d$/.test(b)) return 'Bitaxe GT';
  return deviceModel ? deviceModel : `AxeOS board ${b || 'unknown'}`;
}

export function isAsicModel(s: unknown): s is AsicModel {
  return s === 'BM1397' || s === 'BM1366' || s === 'BM1368' || s === 'BM1370';
}

/** The ASIC's Bitaxe preset; a device's own limits decide (limits.ts `presetFor`). */
export function modeSetting(mode: AxeosMode, asic: AsicModel): ModeSetting {
  return ASIC_PRESETS[asic][mode];
}
