// How a board's power and chip temperature follow its settings: power grows with hashrate and the
// square of the core voltage; the chip settles near the auto-fan target, or where the manual fan
// speed lets it. Steady values only — drift and faults are added by the device model.
import { expectedHashrate, type Board } from './boards.js';
import type { Settings } from './settings.js';

const AMBIENT = 25;
/** Chip temperature with the ASICs idle (paused, protected, booting). */
export const IDLE_TEMP = 38;

/** Wall power while hashing, W. */
export function miningPower(board: Board, settings: Settings): number {
  const v = settings.coreVoltage / board.defaultVoltage;
  return board.idlePower + (expectedHashrate(board, settings.frequency) / 1000) * board.efficiency * v * v;
}

/** Steady chip temperature, °C. */
export function steadyChipTemp(board: Board, settings: Settings, mining: boolean): number {
  if (!mining) return IDLE_TEMP;
  const load =
    miningPower(board, settings) / ((expectedHashrate(board, board.defaultFrequency) / 1000) * board.efficiency);
  if (settings.autofanspeed) return Math.min(settings.temptarget, 30 + 28 * load) - 1;
  const cooling = 0.3 + 0.7 * (settings.manualFanSpeed / 100);
  return AMBIENT + (30 * 0.72 * load) / cooling;
}
