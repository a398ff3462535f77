// `mvm sim sp-runner --config STATE <operation> [args]`: a stand-in for an SP testbed's external
// tool (sp-runner, humility), speaking what the `command` driver expects: one run per operation,
// JSON on stdout for info/telemetry/flash, exit 0 on success. Its state (the SP's firmware, boot
// count) lives in the JSON file given as --config, created on first use.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { MvmError } from '../shared/errors.js';
import { inspectImage } from '../runner/firmware/image.js';

interface SpState {
  sp_type: string;
  version: string;
  boots: number;
  bootedAt: number;
}

const DEFAULT: SpState = { sp_type: 'grapefruit', version: 'v16', boots: 1, bootedAt: 0 };

function load(file: string): SpState {
  if (!existsSync(file)) return { ...DEFAULT, bootedAt: Date.now() };
  try {
    return { ...DEFAULT, ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<SpState>) };
  } catch (err) {
    throw new MvmError('CONFIG_INVALID', `the simulated SP state ${file} is not JSON: ${(err as Error).message}`, {
      hint: 'delete it: a new one is made',
    });
  }
}

function save(file: string, s: SpState): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
  renameSync(tmp, file);
}

/** The version an image carries: its ESP32 app descriptor, else its first line ("v17"). */
function imageVersion(file: string): string {
  const buf = readFileSync(file);
  const check = inspectImage(buf);
  if (check.ok) return check.descriptor.version;
  const first = buf.subarray(0, 64).toString('latin1').split('\n')[0].trim();
  if (/^v?\d+(\.\d+)*$/.test(first)) return first.startsWith('v') ? first : `v${first}`;
  throw new MvmError('USAGE', `flash: ${file} is not an SP image (no version in it)`, {
    hint: 'the simulated SP takes a file whose first line is its version, e.g. "v17"',
  });
}

export function runSpRunner(config: string, op: string, args: string[]): string {
  const s = load(config);
  const uptime = Math.round((Date.now() - s.bootedAt) / 1000);
  const reboot = () => {
    s.boots++;
    s.bootedAt = Date.now();
  };
  let out: unknown;
  switch (op) {
    case 'info':
      out = { model: `${s.sp_type} SP (simulated)`, hardware: s.sp_type, firmwareVersion: s.version, boots: s.boots };
      break;
    case 'telemetry':
      out = { firmwareVersion: s.version, temperatures: { sp: 41.5, rot: 38 }, uptimeS: uptime };
      break;
    case 'health':
      out = `${s.sp_type} SP answers on ${s.version}, up ${uptime} s`;
      break;
    case 'restart':
      reboot();
      out = `${s.sp_type} SP restarted`;
      break;
    case 'flash': {
      if (!args[0]) throw new MvmError('USAGE', 'flash needs an image file', { hint: 'sp-runner flash IMAGE' });
      s.version = imageVersion(args[0]);
      reboot();
      out = { version: s.version };
      break;
    }
    case 'restore': {
      const baseline = args[0];
      if (!baseline)
        throw new MvmError('USAGE', 'restore needs the baseline version', { hint: 'sp-runner restore v16' });
      const was = s.version;
      s.version = baseline;
      if (was !== baseline) reboot();
      out = was === baseline ? `already at ${baseline}` : `restored ${baseline} (was ${was})`;
      break;
    }
    default:
      throw new MvmError('USAGE', `the simulated SP has no operation "${op}"`, {
        hint: 'operations: info, telemetry, health, restart, flash IMAGE, restore BASELINE',
      });
  }
  save(config, s);
  return typeof out === 'string' ? out : JSON.stringify(out);
}
