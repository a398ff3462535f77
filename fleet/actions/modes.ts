// The fleet's one view of mode names per driver. Today the runner's drivers take the AxeOS names
// (eco|standard|turbo|oc); the Avalon Nano's own names are low|med|high, mapped onto eco/standard/
// turbo. When runner/drivers/modes.ts (modesFor / normaliseMode) exists, this function becomes a
// thin wrapper around it: nothing else in fleet/ knows mode names.
import { MODES, type DriverKind, type Mode } from '../../runner/drivers/types.js';

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

const AVALON: Record<string, Mode> = { low: 'eco', med: 'standard', high: 'turbo' };

export function fleetModes(kind: DriverKind, _hardware?: string | null): FleetModes {
  let table: Record<string, Mode>;
  let aliases: Record<string, string> = {};
  if (kind === 'axeos') table = Object.fromEntries(MODES.map((m) => [m, m]));
  else if (kind === 'cgminer') {
    table = AVALON;
    aliases = { eco: 'low', standard: 'med', turbo: 'high', medium: 'med' };
  } else table = {};
  return {
    names: Object.keys(table),
    aliases,
    resolve(name) {
      const n = name.trim().toLowerCase();
      const canonical = table[n] !== undefined ? n : aliases[n];
      return canonical === undefined ? undefined : { name: canonical, driverMode: table[canonical] };
    },
    fromDriver(mode) {
      return Object.entries(table).find(([, m]) => m === mode)?.[0];
    },
  };
}
