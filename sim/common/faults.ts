// Fault injection shared by every simulator: a small named set, given as `name[=value]` on the
// command line (repeatable) or changed at runtime. Each simulator reads the faults it supports.
import { MvmError } from '../../shared/errors.js';

export const FAULT_NAMES = [
  'slow',
  'drop',
  'slow-upload',
  'flash-fail',
  'brick',
  'reboot-loop',
  'overheat',
  'low-hashrate',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/** What each fault does, for --help and error hints. */
export const FAULT_HELP: Record<FaultName, string> = {
  slow: 'delay every reply by VALUE ms (default 3000)',
  drop: 'drop a share VALUE (0..1, default 0.5) of connections without a reply',
  'slow-upload': 'take firmware uploads at VALUE KiB/s (default 100, an ESP32 over Wi-Fi); AxeOS only',
  'flash-fail': 'OTA uploads fail at validation; the device keeps its firmware',
  brick: 'an OTA is accepted, then the device stays dark until a serial flash',
  'reboot-loop': 'the device reboots VALUE ms (default 2000) after every boot',
  overheat: 'temperatures climb until overheat protection trips',
  'low-hashrate': 'the miner hashes at VALUE (0..1, default 0.3) of its expected rate (a failing ASIC); AxeOS only',
};

const DEFAULTS: Partial<Record<FaultName, number>> = {
  slow: 3000,
  drop: 0.5,
  'slow-upload': 100,
  'reboot-loop': 2000,
  'low-hashrate': 0.3,
};

export type FaultMap = Map<FaultName, number>;

function isFaultName(s: string): s is FaultName {
  return (FAULT_NAMES as readonly string[]).includes(s);
}

/** Parses one `name[=value]`; throws a USAGE error naming the valid faults otherwise. */
export function parseFault(spec: string): [FaultName, number] {
  const [rawName, rawValue] = spec.split('=', 2) as [string, string | undefined];
  const name = rawName.trim();
  if (!isFaultName(name)) {
    throw new MvmError('USAGE', `unknown fault "${name}"`, {
      hint: `valid faults: ${FAULT_NAMES.map((n) => `${n} (${FAULT_HELP[n]})`).join('; ')}`,
    });
  }
  if (rawValue === undefined || rawValue === '') return [name, DEFAULTS[name] ?? 1];
  const value = Number(rawValue);
  if (!Number.isFinite(value) || value < 0) {
    throw new MvmError('USAGE', `fault "${name}" needs a non-negative number, got "${rawValue}"`, {
      hint: `for example --fault ${name}=${DEFAULTS[name] ?? 1}`,
    });
  }
  if ((name === 'drop' || name === 'low-hashrate') && value > 1) {
    throw new MvmError('USAGE', `fault "${name}" takes a ratio between 0 and 1, got ${value}`, {
      hint: `for example --fault ${name}=${DEFAULTS[name]}`,
    });
  }
  return [name, value];
}

export function parseFaults(specs: readonly string[] = []): FaultMap {
  const map: FaultMap = new Map();
  for (const s of specs) {
    const [n, v] = parseFault(s);
    map.set(n, v);
  }
  return map;
}

/** A deterministic dropper: with ratio r, drops exactly r of the requests, evenly spread. */
export class DropCounter {
  private n = 0;
  shouldDrop(ratio: number): boolean {
    const before = Math.floor(this.n * ratio);
    this.n += 1;
    return Math.floor(this.n * ratio) > before;
  }
}

export function faultsToJson(map: FaultMap): Record<string, number> {
  return Object.fromEntries(map);
}
