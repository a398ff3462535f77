// What each AxeOS board may run at: the frequency and core-voltage options its firmware's device
// config offers for its ASIC, and the eco/standard/turbo presets chosen inside them. A preset must
// stay inside the board's options (outside, a board can overheat or be damaged); `oc` is the one
// deliberate exception and is reported as such. Boards not listed here get no presets.
import type { AsicModel } from './models.js';

export type AxeosMode = 'eco' | 'standard' | 'turbo' | 'oc';

export interface ModeSetting {
  frequency: number;
  coreVoltage: number;
}

export interface BoardLimits {
  /** Board ids as the device reports them (boardVersion, or deviceModel on NerdQAxe). */
  ids: readonly string[];
  name: string;
  asic: AsicModel;
  /** MHz options (ESP-Miner device_config.h / the NerdQAxe++ board class). */
  frequencies: readonly number[];
  /** mV options. */
  voltages: readonly number[];
  presets: Record<AxeosMode, ModeSetting>;
}

/** Per-ASIC option lists of ESP-Miner's device config. */
export const ASIC_OPTIONS: Record<AsicModel, { frequencies: readonly number[]; voltages: readonly number[] }> = {
  BM1397: {
    frequencies: [400, 425, 450, 475, 485, 500, 525, 550, 575],
    voltages: [1100, 1150, 1200, 1250, 1300, 1350, 1400, 1450, 1500],
  },
  BM1366: { frequencies: [400, 425, 450, 475, 485, 500, 525, 550, 575], voltages: [1100, 1150, 1200, 1250, 1300] },
  BM1368: {
    frequencies: [400, 425, 450, 475, 490, 500, 525, 550, 575],
    voltages: [1100, 1150, 1166, 1200, 1250, 1300],
  },
  BM1370: { frequencies: [400, 490, 525, 550, 600, 625], voltages: [1000, 1060, 1100, 1150, 1200, 1250] },
};

/** Presets per ASIC, for the Bitaxe boards that carry it (boards with narrower options have their own). */
export const ASIC_PRESETS: Record<AsicModel, Record<AxeosMode, ModeSetting>> = {
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

function bitaxe(ids: string[], name: string, asic: AsicModel): BoardLimits {
  return { ids, name, asic, ...ASIC_OPTIONS[asic], presets: ASIC_PRESETS[asic] };
}

export const BOARD_LIMITS: readonly BoardLimits[] = [
  bitaxe(['102'], 'Bitaxe Max', 'BM1397'),
  bitaxe(['201', '202', '203', '204', '205'], 'Bitaxe Ultra', 'BM1366'),
  bitaxe(['302', '303'], 'Bitaxe UltraHex', 'BM1366'),
  bitaxe(['400', '401', '402', '403'], 'Bitaxe Supra', 'BM1368'),
  bitaxe(['600', '601', '602'], 'Bitaxe Gamma', 'BM1370'),
  bitaxe(['701', '702'], 'Bitaxe SupraHex', 'BM1368'),
  bitaxe(['800'], 'Bitaxe GT', 'BM1370'),
  {
    // GammaDuo (BM1370XP): a narrow window, 350–410 MHz, default 400.
    ids: ['650'],
    name: 'Bitaxe GammaDuo',
    asic: 'BM1370',
    frequencies: [350, 375, 400, 410],
    voltages: [1000, 1060, 1100, 1150, 1200],
    presets: {
      eco: { frequency: 350, coreVoltage: 1060 },
      standard: { frequency: 400, coreVoltage: 1150 },
      turbo: { frequency: 410, coreVoltage: 1200 },
      oc: { frequency: 450, coreVoltage: 1250 },
    },
  },
  {
    ids: ['NerdQAxe++'],
    name: 'NerdQAxe++',
    asic: 'BM1370',
    frequencies: [500, 525, 550, 575, 600],
    voltages: [1120, 1130, 1140, 1150, 1160, 1170, 1180, 1190, 1200],
    presets: {
      eco: { frequency: 500, coreVoltage: 1120 },
      standard: { frequency: 525, coreVoltage: 1150 },
      turbo: { frequency: 600, coreVoltage: 1200 },
      oc: { frequency: 650, coreVoltage: 1250 },
    },
  },
];

export function boardLimits(hardware: string | null | undefined): BoardLimits | undefined {
  const key = (hardware ?? '').trim().toLowerCase();
  if (!key) return undefined;
  return BOARD_LIMITS.find((b) => b.ids.some((id) => id.toLowerCase() === key));
}

export const span = (xs: readonly number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];

/** Whether a setting lies inside a board's option ranges. */
export function fits(limits: Pick<BoardLimits, 'frequencies' | 'voltages'>, s: ModeSetting): boolean {
  const [flo, fhi] = span(limits.frequencies);
  const [vlo, vhi] = span(limits.voltages);
  return s.frequency >= flo && s.frequency <= fhi && s.coreVoltage >= vlo && s.coreVoltage <= vhi;
}

/** The presets a board offers: those inside its options, plus `oc` (the deliberate exception). */
export function presetsOf(limits: BoardLimits): AxeosMode[] {
  return (['eco', 'standard', 'turbo', 'oc'] as const).filter((m) => m === 'oc' || fits(limits, limits.presets[m]));
}

/** Why a preset cannot be used on a board, or the setting to apply. */
export function presetFor(
  mode: AxeosMode,
  hardware: string | null,
):
  | { ok: true; setting: ModeSetting; limits: BoardLimits; overclock: boolean }
  | { ok: false; message: string; hint: string } {
  const limits = boardLimits(hardware);
  if (!limits) {
    return {
      ok: false,
      message: `mode ${mode}: board ${JSON.stringify(hardware ?? 'unknown')} is not one whose limits mvm knows, so it has no presets`,
      hint: "set frequency and voltage explicitly, inside the ASIC's options: `control frequency MHZ`, `control voltage MV`",
    };
  }
  const setting = limits.presets[mode];
  if (mode !== 'oc' && !fits(limits, setting)) {
    return {
      ok: false,
      message: `mode ${mode}: ${setting.frequency} MHz / ${setting.coreVoltage} mV is outside ${limits.name}'s options`,
      hint: `modes: ${presetsOf(limits).join(', ')}`,
    };
  }
  return { ok: true, setting, limits, overclock: !fits(limits, setting) };
}

/** The range an explicit frequency (MHz) or core voltage (mV) must stay in on a board; undefined when neither board nor ASIC is known. */
export function explicitRange(
  what: 'frequency' | 'voltage',
  hardware: string | null,
  asic: AsicModel | undefined,
): { range: [number, number]; of: string } | undefined {
  const limits = boardLimits(hardware);
  const pick = (o: { frequencies: readonly number[]; voltages: readonly number[] }) =>
    span(what === 'frequency' ? o.frequencies : o.voltages);
  if (limits) return { range: pick(limits), of: limits.name };
  if (asic) return { range: pick(ASIC_OPTIONS[asic]), of: asic };
  return undefined;
}

/** A short description of a board's options, for messages. */
export function describeLimits(limits: BoardLimits): string {
  const [flo, fhi] = span(limits.frequencies);
  const [vlo, vhi] = span(limits.voltages);
  return `${limits.name}: ${flo}–${fhi} MHz, ${vlo}–${vhi} mV`;
}
