// Restart and wait: the device is told to restart, then read through its driver until it answers
// again as a restarted device (uptime lower than before, or it was seen down meanwhile), within a
// deadline. Polling a device that is rebooting is the only way to know; the waits are abortable.
import { DriverError } from '../../runner/drivers/errors.js';
import type { Driver, Telemetry } from '../../runner/drivers/types.js';
import { sleep } from '../../shared/sleep.js';

export interface RestartOutcome {
  message: string;
  downMs: number;
  uptimeS: number | null;
}

export async function restartAndWait(
  driver: Driver,
  opts: { timeoutMs: number; pollMs?: number; signal?: AbortSignal; now?: () => number },
): Promise<RestartOutcome> {
  const now = opts.now ?? Date.now;
  const before = await driver.telemetry({ signal: opts.signal, timeoutMs: 10_000 }).catch(() => null);
  const started = now();
  const r = await driver.control({ op: 'restart' }, { signal: opts.signal });
  const deadline = started + opts.timeoutMs;
  let sawDown = false;
  let last: Telemetry | null = null;
  let lastError: unknown;
  while (now() < deadline) {
    await sleep(opts.pollMs ?? 500, opts.signal);
    try {
      last = await driver.telemetry({
        signal: opts.signal,
        timeoutMs: Math.max(1000, Math.min(10_000, deadline - now())),
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      sawDown = true;
      lastError = err;
      continue;
    }
    const restarted = sawDown || before?.uptimeS == null || last.uptimeS == null || last.uptimeS < before.uptimeS;
    if (last.online && restarted) return { message: r.message, downMs: now() - started, uptimeS: last.uptimeS };
  }
  throw new DriverError(
    driver.device.name,
    'timeout',
    `restart: the miner did not answer as restarted within ${Math.round(opts.timeoutMs / 1000)} s${lastError ? ` (last: ${(lastError as Error).message})` : ''}`,
    {
      hint: 'look at the device; give a longer timeout if it is slow to boot',
    },
  );
}
