// `mvm runner health`: is every device of the testbed (or --device) fit for the next job?
import { parseDuration } from '../../shared/duration.js';
import { MvmError } from '../../shared/errors.js';
import { installShutdown } from '../../shared/shutdown.js';
import { checkHealth, DEFAULT_LIMITS, type HealthLimits } from '../health.js';
import { deviceReportLines, openTestbed, printJson } from './common.js';

export interface HealthArgs {
  testbed?: string;
  device?: string;
  window?: string;
  samples?: number;
  'hashrate-tolerance'?: number;
  'max-temperature'?: number;
  json: boolean;
}

function usage(message: string, hint: string): never {
  throw new MvmError('USAGE', message, { hint });
}

/** The flags as limits; a bad value is a usage error that says what is accepted. */
export function healthLimits(args: HealthArgs): HealthLimits {
  const limits = { ...DEFAULT_LIMITS };
  if (args.window !== undefined) {
    const ms = parseDuration(String(args.window));
    if (ms === undefined)
      usage(
        `--window: not a duration: ${JSON.stringify(args.window)}`,
        'e.g. --window 15s, --window 500ms, --window 2m',
      );
    limits.windowMs = ms;
  }
  if (args.samples !== undefined) {
    if (!Number.isInteger(args.samples) || args.samples < 1 || args.samples > 1000)
      usage(`--samples: expected a whole number from 1 to 1000, got ${args.samples}`, 'e.g. --samples 3');
    limits.samples = args.samples;
  }
  const tolerance = args['hashrate-tolerance'];
  if (tolerance !== undefined) {
    if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance >= 1)
      usage(
        `--hashrate-tolerance: expected a ratio from 0 to below 1, got ${tolerance}`,
        '0.2 accepts a hashrate of at least 80 % of the expected',
      );
    limits.hashrateTolerance = tolerance;
  }
  const maxC = args['max-temperature'];
  if (maxC !== undefined) {
    if (!Number.isFinite(maxC) || maxC <= 0 || maxC > 200)
      usage(`--max-temperature: expected °C from 1 to 200, got ${maxC}`, 'e.g. --max-temperature 80');
    limits.maxTemperatureC = maxC;
  }
  return limits;
}

export async function runHealth(args: HealthArgs): Promise<void> {
  const limits = healthLimits(args);
  const { testbed, devices } = await openTestbed(args);
  const shutdown = installShutdown();
  try {
    const report = await checkHealth({ testbed, devices, limits, signal: shutdown.graceful });
    if (args.json) printJson(report);
    else {
      const lines = deviceReportLines(
        report.ok ? report.summary : `${report.testbed}: UNHEALTHY: ${report.summary}`,
        report.devices.map((d) => ({
          device: d.device,
          ok: d.ok,
          items: d.checks.map((c) => ({ label: c.name, ok: c.ok, message: c.message })),
          empty: 'no checks',
        })),
      );
      process.stdout.write(lines.join('\n') + '\n');
    }
    if (!report.ok) process.exitCode = 1;
  } finally {
    shutdown.dispose();
  }
}
