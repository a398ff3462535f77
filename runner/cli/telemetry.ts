// `mvm runner telemetry [--watch [--interval 5s]] [--json]`
import { describeError, isAbortError } from '../../shared/errors.js';
import { installShutdown } from '../../shared/shutdown.js';
import { sleep } from '../../shared/sleep.js';
import type { DeviceArgs } from '../command.js';
import type { Telemetry } from '../drivers/types.js';
import { reportIfInfra } from '../infra-report.js';
import { openDevice, printJson, reportingInfra } from './common.js';

const f = (v: number | null, digits = 1, unit = '') =>
  v === null ? '?' : `${Math.round(v * 10 ** digits) / 10 ** digits}${unit}`;

/** "1000/1250 GH/s"; small hash rates (NMMiner) in their own unit, "113.13/? kH/s", not "0/? GH/s". */
export function formatHashrate(ghs: number | null, expectedGhs: number | null): string {
  const ref = ghs !== null && ghs > 0 ? ghs : expectedGhs;
  const [scale, unit] =
    ref !== null && ref > 0 && ref < 1e-3
      ? [1e6, 'kH/s']
      : ref !== null && ref > 0 && ref < 1
        ? [1e3, 'MH/s']
        : [1, 'GH/s'];
  const g = (v: number | null) => (v === null ? '?' : `${Math.round(v * scale * 100) / 100}`);
  return `${g(ghs)}/${g(expectedGhs)} ${unit}`;
}

/** One human line per reading. */
export function formatTelemetry(t: Telemetry): string {
  const pct =
    t.hashrateGhs !== null && t.expectedHashrateGhs
      ? ` (${Math.round((t.hashrateGhs / t.expectedHashrateGhs) * 100)} %)`
      : '';
  const temps = Object.entries(t.temperatures)
    .map(([k, v]) => `${k} ${f(v)}°C`)
    .join(' ');
  const fans = t.fans.map((x) => `${x.name} ${x.rpm ?? '?'}rpm${x.percent === null ? '' : ` ${x.percent}%`}`).join(' ');
  return [
    `${t.at} ${t.device}:`,
    `${formatHashrate(t.hashrateGhs, t.expectedHashrateGhs)}${pct}`,
    `${f(t.powerW, 1, ' W')}`,
    `${f(t.efficiencyJth, 2, ' J/TH')}`,
    temps || 'no temperatures',
    fans || 'no fans',
    `shares ${t.sharesAccepted ?? '?'}/${t.sharesRejected ?? '?'} (acc/rej)`,
    `up ${t.uptimeS ?? '?'} s`,
    t.firmwareVersion ?? '?',
    t.paused ? 'PAUSED' : '',
  ]
    .filter(Boolean)
    .join('  ');
}

export async function runTelemetry(
  args: DeviceArgs & { watch: boolean; interval: number; count?: number },
): Promise<void> {
  const opened = await openDevice(args);
  const { driver } = opened;
  const shutdown = installShutdown();
  const intervalMs = args.interval;
  if (args.watch && driver.kind === 'axeos' && intervalMs < 5000) {
    // Frequent polling has crashed older AxeOS firmware; fine for simulators, risky on a bench.
    process.stderr.write(
      `mvm: note: polling ${driver.device.name} every ${intervalMs / 1000} s; real AxeOS devices should be polled every 5 s or more\n`,
    );
  }
  try {
    if (!args.watch) {
      const t = await reportingInfra('telemetry', opened, (d) => d.telemetry({ signal: shutdown.graceful }));
      if (args.json) printJson(t);
      else process.stdout.write(formatTelemetry(t) + '\n');
      return;
    }
    let n = 0;
    let failures = 0;
    let lastError: unknown;
    while (!shutdown.graceful.aborted && (args.count === undefined || n < args.count)) {
      n++;
      try {
        const t = await driver.telemetry({ signal: shutdown.graceful });
        if (args.json) printJson(t);
        else process.stdout.write(formatTelemetry(t) + '\n');
      } catch (err) {
        if (isAbortError(err)) break;
        // A missed reading is reported and the watch goes on (the device may be rebooting).
        failures++;
        lastError = err;
        if (args.json)
          printJson({
            device: driver.device.name,
            at: new Date().toISOString(),
            online: false,
            error: describeError(err),
          });
        else
          process.stdout.write(`${new Date().toISOString()} ${driver.device.name}: offline: ${describeError(err)}\n`);
      }
      if (args.count !== undefined && n >= args.count) break;
      try {
        await sleep(intervalMs, shutdown.graceful);
      } catch {
        break;
      }
    }
    if (failures > 0 && failures === n) {
      // Not one reading: the watch failed as a whole, which the report records like a single reading.
      reportIfInfra(opened.testbedFile, 'telemetry', driver.device.name, lastError);
      process.exitCode = 1;
    }
  } finally {
    shutdown.dispose();
    await driver.close();
  }
}
