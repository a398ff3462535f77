// Work modes per driver, in one place: the names each kind of device offers, the aliases every
// caller may use (eco/standard/turbo on an Avalon, low/med/high on an AxeOS board), and the rule
// that an AxeOS board offers only the presets that fit its limits — none when mvm does not know
// the board.
import { MvmError } from '../../shared/errors.js';
import { boardLimits, presetsOf } from './axeos/limits.js';
import type { DriverKind } from './types.js';

export const AXEOS_MODES = ['eco', 'standard', 'turbo', 'oc'] as const;
export const AVALON_MODES = ['low', 'med', 'high'] as const;
export type AxeosModeName = (typeof AXEOS_MODES)[number];
export type AvalonModeName = (typeof AVALON_MODES)[number];
export type Mode = AxeosModeName | AvalonModeName;

/** Every canonical mode name of every driver. */
export const ALL_MODES: readonly Mode[] = [...AXEOS_MODES, ...AVALON_MODES];

const TO_AVALON: Record<string, AvalonModeName> = {
  eco: 'low',
  standard: 'med',
  turbo: 'high',
  medium: 'med',
  mid: 'med',
};
const TO_AXEOS: Record<string, AxeosModeName> = {
  low: 'eco',
  med: 'standard',
  medium: 'standard',
  mid: 'standard',
  high: 'turbo',
};

/** Every name a mode may be given by (canonical names and aliases). */
export const MODE_NAMES: readonly string[] = [
  ...new Set([...ALL_MODES, ...Object.keys(TO_AVALON), ...Object.keys(TO_AXEOS)]),
];

export function isModeName(name: unknown): name is string {
  return typeof name === 'string' && MODE_NAMES.includes(name.trim().toLowerCase());
}

/**
 * The modes a device offers. AxeOS: the presets that fit the board (`hardware` as the device
 * reports it); a board mvm does not know (or null) offers none; without `hardware`, the names the
 * driver knows. Avalon Nano: low, med, high. NMMiner: none. Command: whatever its script takes.
 */
export function modesFor(kind: DriverKind, hardware?: string | null): readonly string[] {
  switch (kind) {
    case 'axeos': {
      if (hardware === undefined) return AXEOS_MODES;
      const limits = boardLimits(hardware);
      return limits ? presetsOf(limits) : [];
    }
    case 'cgminer':
      return AVALON_MODES;
    case 'nmminer':
      return [];
    case 'command':
      return ALL_MODES;
  }
}

/** The canonical name of a mode on a device, or a USAGE error listing the modes it offers. */
export function normaliseMode(kind: DriverKind, name: string, hardware?: string | null): Mode {
  const word = String(name).trim().toLowerCase();
  const canonical = kind === 'cgminer' ? (TO_AVALON[word] ?? word) : kind === 'axeos' ? (TO_AXEOS[word] ?? word) : word;
  const offered = modesFor(kind, hardware);
  if (offered.includes(canonical)) return canonical as Mode;
  if (offered.length === 0) {
    const why =
      kind === 'axeos'
        ? `board ${JSON.stringify(hardware)} is not one mvm knows the limits of, so it has no mode presets`
        : `a ${kind} device has no work modes`;
    throw new MvmError('USAGE', `mode ${JSON.stringify(name)}: ${why}`, {
      hint:
        kind === 'axeos'
          ? "set frequency and voltage explicitly (inside the ASIC's range): `control frequency MHZ`, `control voltage MV`"
          : 'leave the mode out',
    });
  }
  const aliases =
    kind === 'cgminer'
      ? ' (eco, standard, turbo are accepted as low, med, high)'
      : kind === 'axeos'
        ? ' (low, med, high are accepted as eco, standard, turbo)'
        : '';
  throw new MvmError(
    'USAGE',
    `unknown mode ${JSON.stringify(name)} for a ${kind} device${hardware ? ` (${hardware})` : ''}`,
    {
      hint: `modes: ${offered.join(', ')}${aliases}`,
    },
  );
}
