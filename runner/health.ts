// `mvm runner health`: is each device of a testbed fit for the next job? It answers, runs its
// baseline firmware, hashes near its expected rate and stays below a temperature limit. Every
// device operation is bounded; devices are checked in parallel.
import { describeError, isAbortError } from '../shared/errors.js';
import { sleep } from '../shared/sleep.js';
import { CommandDriver } from './drivers/command/driver.js';
import { describeForDevice } from './drivers/errors.js';
import { createDriver } from './drivers/registry.js';
import type { DeviceSpec, Driver, Telemetry } from './drivers/types.js';
import { sameSoftware } from './firmware/ensure.js';
import { baselineFirmware } from './testbed-baseline.js';
import type { Testbed } from './testbed.js';
import type { DeviceHealth, HealthCheck, HealthCheckName, HealthReport } from '../shared/contracts/runner-report.js';

// The report's shape is the contract the factory reads (shared/contracts/runner-report.ts).
export type { DeviceHealth, HealthCheck, HealthCheckName, HealthReport };

export interface HealthLimits {
  windowMs: number;
  samples: number;
  /** Hashrate may be this share below expected (0.2: at least 80 %). */
  hashrateTolerance: number;
  maxTemperatureC: number;
}

export const DEFAULT_LIMITS: HealthLimits = {
  windowMs: 15_000,
  samples: 3,
  hashrateTolerance: 0.2,
  maxTemperatureC: 80,
};

/** Bound on one device operation (an info or a telemetry reading). */
const OP_TIMEOUT_MS = 20_000;

export interface HealthOptions {
  testbed: Testbed;
  devices?: DeviceSpec[];
  limits?: Partial<HealthLimits>;
  signal?: AbortSignal;
  /** Injected for tests. */
  driverFor?: (device: DeviceSpec) => Driver;
}

const round = (n: number, d = 0) => Math.round(n * 10 ** d) / 10 ** d;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** `samples` readings spread evenly over the window (first at once, last at its end). */
async function sample(
  driver: Driver,
  limits: HealthLimits,
  signal?: AbortSignal,
): Promise<{ readings: Telemetry[]; errors: string[] }> {
  const readings: Telemetry[] = [];
  const errors: string[] = [];
  const start = Date.now();
  const step = limits.samples > 1 ? limits.windowMs / (limits.samples - 1) : 0;
  for (let i = 0; i < limits.samples; i++) {
    const wait = start + i * step - Date.now();
    if (wait > 0) await sleep(wait, signal);
    try {
      readings.push(await driver.telemetry({ signal, timeoutMs: OP_TIMEOUT_MS }));
    } catch (err) {
      if (isAbortError(err) || signal?.aborted) throw err;
      errors.push(describeForDevice(err, driver.device.name));
    }
  }
  return { readings, errors };
}

export function judgeHashrate(
  readings: Telemetry[],
  expectedOverride: number | undefined,
  tolerance: number,
): HealthCheck {
  const rates = readings.map((t) => t.hashrateGhs).filter((x): x is number => x !== null);
  if (rates.length === 0)
    return {
      name: 'hashrate',
      ok: false,
      message: 'the device reported no hashrate',
      measured: { samples: readings.length },
    };
  const reported = readings.map((t) => t.expectedHashrateGhs).filter((x): x is number => x !== null && x > 0);
  const expected = expectedOverride ?? (reported.length > 0 ? median(reported) : undefined);
  const hashrate = median(rates);
  const measured: Record<string, unknown> = {
    medianHashrateGhs: round(hashrate, 2),
    expectedGhs: expected ?? null,
    samples: rates.length,
  };
  if (expected === undefined) {
    return {
      name: 'hashrate',
      ok: true,
      message: `hashrate ${round(hashrate)} GH/s not judged: no expected hashrate (set expected_hashrate_ghs for the device)`,
      measured,
    };
  }
  const percent = (hashrate / expected) * 100;
  measured.percent = round(percent, 1);
  const min = (1 - tolerance) * 100;
  const ok = percent >= min;
  return {
    name: 'hashrate',
    ok,
    message: `hashrate ${round(hashrate)} GH/s is ${round(percent)} % of the expected ${round(expected)} GH/s (${ok ? 'at least' : 'below'} ${round(min)} %)`,
    measured,
  };
}

/** Failed readings tolerated in a window: one in ten (none of three). */
export const maxFailedSamples = (samples: number) => Math.floor(samples / 10);

/**
 * A device in a reboot loop still answers most readings with a fine hashrate: it is unstable when
 * more readings failed than tolerated, or its uptime went back (it restarted) inside the window.
 */
export function judgeStability(readings: Telemetry[], failed: number, samples: number): HealthCheck {
  const uptimes = readings.map((t) => t.uptimeS).filter((u): u is number => u !== null);
  const resets = uptimes.filter((u, i) => i > 0 && u < uptimes[i - 1]).length;
  const allowed = maxFailedSamples(samples);
  const measured = { failedSamples: failed, samples, uptimeResets: resets };
  if (resets > 0)
    return {
      name: 'stable',
      ok: false,
      message: `restarted ${resets} time(s) during the check (uptime went back)`,
      measured,
    };
  if (failed > allowed)
    return {
      name: 'stable',
      ok: false,
      message: `${failed} of ${samples} telemetry readings failed (at most ${allowed} allowed)`,
      measured,
    };
  return { name: 'stable', ok: true, message: `${samples - failed} of ${samples} readings, no restart`, measured };
}

export function judgeTemperature(readings: Telemetry[], maxC: number): HealthCheck {
  const temps = readings.flatMap((t) => Object.entries(t.temperatures));
  if (temps.length === 0)
    return { name: 'temperature', ok: true, message: 'temperature not judged: the device reports none' };
  const [sensor, highest] = temps.reduce((a, b) => (b[1] > a[1] ? b : a));
  const ok = highest <= maxC;
  return {
    name: 'temperature',
    ok,
    message: `highest temperature ${round(highest, 1)} °C (${sensor}) ${ok ? '≤' : 'is above'} ${maxC} °C`,
    measured: { maxC: highest, sensor },
  };
}

async function checkDevice(driver: Driver, opts: HealthOptions, limits: HealthLimits): Promise<HealthCheck[]> {
  const device = driver.device;
  const signal = opts.signal;
  const checks: HealthCheck[] = [];
  let info;
  try {
    info = await driver.info({ signal, timeoutMs: OP_TIMEOUT_MS });
    checks.push({
      name: 'answers',
      ok: true,
      message: `${info.model} answers, firmware ${info.firmwareVersion ?? '?'}`,
      measured: { model: info.model, firmwareVersion: info.firmwareVersion },
    });
  } catch (err) {
    if (isAbortError(err)) throw err;
    return [{ name: 'answers', ok: false, message: `does not answer: ${describeForDevice(err, device.name)}` }];
  }
  if (driver instanceof CommandDriver) {
    if (driver.defines('health')) {
      try {
        checks.push({
          name: 'command',
          ok: true,
          message: await driver.runDefined('health', { baseline: opts.testbed.baseline }, { signal }),
        });
      } catch (err) {
        if (isAbortError(err)) throw err;
        checks.push({
          name: 'command',
          ok: false,
          message: `health command failed: ${describeForDevice(err, device.name)}`,
        });
      }
    }
    return checks;
  }
  const baseline = baselineFirmware(device, opts.testbed);
  if (baseline !== undefined) {
    const running = info.firmwareVersion;
    const ok = running !== null && sameSoftware(running, baseline);
    checks.push({
      name: 'firmware',
      ok,
      message: ok
        ? `runs its baseline ${running}`
        : `runs ${running ?? 'an unknown version'}, not its baseline ${baseline}`,
      measured: { version: running, baseline },
    });
  }
  const { readings, errors } = await sample(driver, limits, signal);
  if (readings.length === 0) {
    const message = `no telemetry in ${limits.samples} reading(s): ${errors[errors.length - 1] ?? 'no answer'}`;
    checks.push(
      { name: 'hashrate', ok: false, message, measured: { failedSamples: errors.length } },
      { name: 'temperature', ok: false, message, measured: { failedSamples: errors.length } },
    );
    return checks;
  }
  const hashrate = judgeHashrate(readings, device.expectedHashrateGhs, limits.hashrateTolerance);
  if (errors.length > 0)
    hashrate.measured = {
      ...(hashrate.measured as object),
      failedSamples: errors.length,
      lastError: errors[errors.length - 1],
    };
  checks.push(
    hashrate,
    judgeTemperature(readings, device.maxTemperatureC ?? limits.maxTemperatureC),
    judgeStability(readings, errors.length, limits.samples),
  );
  return checks;
}

export function summarise(report: Omit<HealthReport, 'summary'>): string {
  if (report.devices.length === 0) return `${report.testbed}: no devices, nothing to check`;
  const failed = report.devices.flatMap((d) => d.checks.filter((c) => !c.ok).map((c) => `${d.device}: ${c.message}`));
  if (failed.length === 0) return `${report.testbed}: all ${report.devices.length} device(s) healthy`;
  return failed.join('; ');
}

export async function checkHealth(opts: HealthOptions): Promise<HealthReport> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const specs = opts.devices ?? opts.testbed.devices;
  const devices = await Promise.all(
    specs.map(async (spec): Promise<DeviceHealth> => {
      let checks: HealthCheck[];
      let driver: Driver | undefined;
      try {
        driver = (opts.driverFor ?? createDriver)(spec);
        checks = await checkDevice(driver, opts, limits);
      } catch (err) {
        checks = [
          {
            name: 'answers',
            ok: false,
            message: isAbortError(err) ? `aborted: ${describeError(err)}` : describeForDevice(err, spec.name),
          },
        ];
      } finally {
        await driver?.close().catch(() => undefined);
      }
      return { device: spec.name, ok: checks.every((c) => c.ok), checks };
    }),
  );
  const partial = { ok: devices.every((d) => d.ok), testbed: opts.testbed.testbed, devices };
  return { ...partial, summary: summarise(partial) };
}
