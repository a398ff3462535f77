// The fleet's one view of mode names per driver, a thin layer over the runner's modes module
// (runner/drivers/modes.ts): the names a device offers, the aliases every caller may use
// (eco/standard/turbo on an Avalon Nano, low/med/high on an AxeOS board) and, for AxeOS, only the
// presets that fit the board. Nothing else in fleet/ knows mode names.
import { AVALON_MODES, AXEOS_MODES, modesFor, normaliseMode, type Mode } from '../../runner/drivers/modes.js';
import type { DriverKind } from '../../runner/drivers/types.js';

export interface FleetModes {
  /** The names people use for this device, in order (low to high). */
  names: string[];
  /** Other accepted spellings → the canonical name. */
  aliases: Record<string, string>;
  /** The canonical name for `name` (any accepted spelling) and the driver's mode; undefined when not a mode of this device. */
  resolve(name: string): { name: string; driverMode: Mode } | undefined;
  /** The canonical name for a driver mode, for read-back. */
  fromDriver(mode: Mode): string | undefined;
}

const ALIASES: Partial<Record<DriverKind, Record<string, string>>> = {
  cgminer: { eco: 'low', standard: 'med', turbo: 'high', medium: 'med' },
  axeos: { low: 'eco', med: 'standard', medium: 'standard', high: 'turbo' },
};

/**
 * `hardware`: the board id when the config states it; without it an AxeOS device offers the four
 * names and the driver refuses, at apply time, a preset the board it reads cannot take.
 */
export function fleetModes(kind: DriverKind, hardware?: string | null): FleetModes {
  const names = [...modesFor(kind, hardware ?? undefined)];
  const all = kind === 'cgminer' ? AVALON_MODES : kind === 'axeos' ? AXEOS_MODES : [];
  const aliases = Object.fromEntries(Object.entries(ALIASES[kind] ?? {}).filter(([, to]) => names.includes(to)));
  return {
    names,
    aliases,
    resolve(name) {
      try {
        const m = normaliseMode(kind, name, hardware ?? undefined);
        return { name: m, driverMode: m };
      } catch {
        return undefined;
      }
    },
    fromDriver(mode) {
      return (all as readonly string[]).includes(mode) ? mode : undefined;
    },
  };
}
