// What a device actually has, read back through its driver after a change (and by `verify`), to
// compare with what the fleet wants. AxeOS answers through the driver's baseline comparison; an
// Avalon's work mode comes from its own telemetry; what a driver cannot read back is said so
// (`readable: false`) instead of being guessed.
import type { Driver, PoolConfig } from '../../runner/drivers/types.js';
import { AVALON_MODES, type Mode } from '../../runner/drivers/modes.js';
import { fleetModes } from './modes.js';

export interface Observed {
  /** false: this driver cannot read it back; `same` is then null. */
  readable: boolean;
  same: boolean | null;
  current: string | null;
}

export interface ReadBack {
  mode?: Observed;
  pools?: Observed;
}

const UNREADABLE: Observed = { readable: false, same: null, current: null };

/** The Avalon's level (0..2) from its estats, as the cgminer driver's telemetry carries them. */
function avalonMode(raw: unknown): Mode | undefined {
  const r = raw as { model?: string; estats?: Record<string, string> } | undefined;
  const key = r?.model === 'nano3' ? 'WORKLEVEL' : 'WORKMODE';
  const level = Number(r?.estats?.[key]);
  return AVALON_MODES[level];
}

export async function readBack(
  driver: Driver,
  want: { mode?: Mode; pools?: PoolConfig[] },
  signal?: AbortSignal,
): Promise<ReadBack> {
  const out: ReadBack = {};
  if (driver.kind === 'axeos' && driver.compareBaseline) {
    const cmp = await driver.compareBaseline(
      { ...(want.pools ? { pools: want.pools } : {}), ...(want.mode ? { settings: { mode: want.mode } } : {}) },
      { signal },
    );
    if (want.mode)
      out.mode = { readable: true, same: cmp.settings?.same ?? null, current: cmp.settings?.current ?? null };
    if (want.pools) out.pools = { readable: true, same: cmp.pools?.same ?? null, current: cmp.pools?.current ?? null };
    return out;
  }
  if (want.mode) {
    if (driver.kind === 'cgminer') {
      const t = await driver.telemetry({ signal });
      const have = avalonMode(t.raw);
      const name = have ? fleetModes('cgminer').fromDriver(have) : undefined;
      out.mode = {
        readable: have !== undefined,
        same: have === undefined ? null : have === want.mode,
        current: name ?? null,
      };
    } else out.mode = UNREADABLE;
  }
  if (want.pools) out.pools = UNREADABLE;
  return out;
}
