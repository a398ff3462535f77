// The `command` driver: a device driven by an external tool (sp-runner, humility, esptool). The
// tool is run with argv arrays — never through a shell — under a timeout, output captured.
//
// Device options:
//   path        the tool (required unless argv names it)
//   config      a config file, passed as `<config_flag> FILE` (config_flag default "--config")
//   argv        extra arguments after the tool (or the whole base command when path is absent)
//   operations  per operation, the arguments after the base command; `{image}`, `{name}`,
//               `{address}`, `{value}`, `{baseline}` are filled in. Defaults: info → ["info"],
//               telemetry → ["telemetry"], restart → ["restart"], flash → ["flash", "{image}"], …;
//               `restore` and `health` have no default and run only when given.
//   timeout_ms  per run (default 600000)
// A run that prints a JSON object on stdout has it read as the result (telemetry fields, info).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeExit, execArgv, type ExecResult } from '../../../shared/exec.js';
import { DriverError } from '../errors.js';
import {
  efficiency,
  type Capability,
  type ControlAction,
  type ControlResult,
  type DeviceInfo,
  type DeviceSpec,
  type Driver,
  type FlashOptions,
  type FlashResult,
  type OpOptions,
  type Telemetry,
} from '../types.js';

/** Operations a testbed may define that have no default: they run only when options.operations names them. */
export type OptionalOperation = 'restore' | 'health';
type Operation = 'info' | 'telemetry' | 'flash' | ControlAction['op'] | OptionalOperation;

const DEFAULT_OPERATIONS: Record<Exclude<Operation, OptionalOperation>, string[]> = {
  info: ['info'],
  telemetry: ['telemetry'],
  flash: ['flash', '{image}'],
  restart: ['restart'],
  pause: ['pause'],
  resume: ['resume'],
  mode: ['mode', '{value}'],
  frequency: ['frequency', '{value}'],
  voltage: ['voltage', '{value}'],
  fan: ['fan', '{value}'],
  'pools-set': ['pools-set', '{value}'],
  'pools-switch': ['pools-switch', '{value}'],
  'pools-priority': ['pools-priority', '{value}'],
};

function tail(s: string, lines = 5): string {
  return s.trim().split('\n').slice(-lines).join(' | ');
}

function jsonObject(stdout: string): Record<string, unknown> | undefined {
  const t = stdout.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(t);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export class CommandDriver implements Driver {
  readonly kind = 'command' as const;
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(['info', 'telemetry', 'control', 'flash']);
  private readonly base: string[];
  private readonly timeoutMs: number;

  constructor(readonly device: DeviceSpec) {
    const o = device.options ?? {};
    const extra = Array.isArray(o.argv) ? o.argv : [];
    if (extra.some((a) => typeof a !== 'string')) {
      throw new DriverError(device.name, 'invalid_argument', 'options.argv must be an array of strings', {
        hint: 'the command driver never runs a shell string: give each argument as its own array element',
      });
    }
    const base: string[] = [];
    if (typeof o.path === 'string' && o.path !== '') base.push(o.path);
    base.push(...(extra as string[]));
    if (typeof o.config === 'string' && o.config !== '')
      base.push(typeof o.config_flag === 'string' ? o.config_flag : '--config', o.config);
    if (base.length === 0) {
      throw new DriverError(
        device.name,
        'invalid_argument',
        'a command device needs options.path (the tool) or options.argv',
        {
          hint: 'e.g. "options": {"path": "/opt/sp-runner/bin/sp-runner", "config": "/etc/sp-runner.toml"}',
        },
      );
    }
    this.base = base;
    this.timeoutMs = typeof o.timeout_ms === 'number' ? o.timeout_ms : 600_000;
  }

  private custom(op: Operation): string[] | undefined {
    const custom = ((this.device.options?.operations ?? {}) as Record<string, unknown>)[op];
    return Array.isArray(custom) && custom.every((a) => typeof a === 'string') ? (custom as string[]) : undefined;
  }

  /** Whether the testbed defines this operation for the device. */
  defines(op: OptionalOperation): boolean {
    return this.custom(op) !== undefined;
  }

  argvFor(op: Operation, vars: Record<string, string> = {}): string[] {
    const args = this.custom(op) ?? (op === 'restore' || op === 'health' ? [op] : DEFAULT_OPERATIONS[op]);
    const fill = (a: string) =>
      a
        .replaceAll('{name}', this.device.name)
        .replaceAll('{address}', this.device.address)
        .replace(/\{(image|value|baseline)\}/g, (_, k: string) => vars[k] ?? '');
    return [...this.base, ...args.map(fill)];
  }

  /** Runs a testbed-defined operation (restore, health); exit 0 is success. Returns what the tool said. */
  async runDefined(op: OptionalOperation, vars: { baseline?: string }, opts: OpOptions = {}): Promise<string> {
    const r = await this.run(op, opts, vars.baseline === undefined ? {} : { baseline: vars.baseline });
    return tail(r.stdout || r.stderr, 3) || `${op}: exit 0`;
  }

  private async run(op: Operation, opts: OpOptions, vars: Record<string, string> = {}): Promise<ExecResult> {
    const argv = this.argvFor(op, vars);
    const r = await execArgv(argv, {
      signal: opts.signal,
      timeoutMs: opts.timeoutMs ?? this.timeoutMs,
      env: { ...process.env, MVM_DEVICE: this.device.name, MVM_DEVICE_ADDRESS: this.device.address },
    });
    if (r.aborted && opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    if (r.spawnError) {
      throw new DriverError(this.device.name, 'unreachable', `${op}: ${r.spawnError}`, {
        hint: 'check options.path in the testbed description: the tool must exist and be executable',
      });
    }
    if (r.timedOut) {
      throw new DriverError(
        this.device.name,
        'timeout',
        `${op}: ${argv[0]} ${describeExit(r)}; output: ${tail(r.stderr || r.stdout)}`,
      );
    }
    if (r.code !== 0) {
      throw new DriverError(
        this.device.name,
        'refused',
        `${op}: ${argv[0]} ${describeExit(r)}: ${tail(r.stderr || r.stdout)}`,
        {
          details: { stdout: r.stdout, stderr: r.stderr, code: r.code },
        },
      );
    }
    return r;
  }

  async info(opts: OpOptions = {}): Promise<DeviceInfo> {
    const r = await this.run('info', opts);
    const j = jsonObject(r.stdout) ?? {};
    return {
      name: this.device.name,
      driver: 'command',
      address: this.device.address,
      model: typeof j.model === 'string' ? j.model : (this.device.hardware ?? 'external tool'),
      hardware: this.device.hardware ?? (typeof j.hardware === 'string' ? j.hardware : null),
      firmwareVersion:
        typeof j.firmwareVersion === 'string' ? j.firmwareVersion : typeof j.version === 'string' ? j.version : null,
      raw: Object.keys(j).length > 0 ? j : r.stdout,
    };
  }

  async telemetry(opts: OpOptions = {}): Promise<Telemetry> {
    const r = await this.run('telemetry', opts);
    const j = jsonObject(r.stdout) ?? {};
    const n = (k: string) => (typeof j[k] === 'number' ? (j[k] as number) : null);
    const hashrate = n('hashrateGhs');
    const power = n('powerW');
    return {
      device: this.device.name,
      driver: 'command',
      at: new Date().toISOString(),
      online: true,
      hashrateGhs: hashrate,
      expectedHashrateGhs: n('expectedHashrateGhs'),
      powerW: power,
      efficiencyJth: n('efficiencyJth') ?? efficiency(power, hashrate),
      temperatures: (j.temperatures && typeof j.temperatures === 'object' ? j.temperatures : {}) as Record<
        string,
        number
      >,
      fans: Array.isArray(j.fans) ? (j.fans as Telemetry['fans']) : [],
      sharesAccepted: n('sharesAccepted'),
      sharesRejected: n('sharesRejected'),
      uptimeS: n('uptimeS'),
      firmwareVersion: typeof j.firmwareVersion === 'string' ? j.firmwareVersion : null,
      paused: typeof j.paused === 'boolean' ? j.paused : null,
      raw: Object.keys(j).length > 0 ? j : r.stdout,
    };
  }

  async control(action: ControlAction, opts: OpOptions = {}): Promise<ControlResult> {
    let value = '';
    if (action.op === 'mode') value = action.mode;
    else if (action.op === 'frequency') value = String(action.mhz);
    else if (action.op === 'voltage') value = String(action.mv);
    else if (action.op === 'fan') value = String(action.percent);
    else if (action.op === 'pools-set') value = JSON.stringify(action.pools);
    else if (action.op === 'pools-switch') value = String(action.index);
    else if (action.op === 'pools-priority') value = action.order.join(',');
    const r = await this.run(action.op, opts, { value });
    return { ok: true, action: action.op, message: tail(r.stdout || r.stderr, 3) || 'done' };
  }

  /** Writes the image to a private temp file and runs the flash operation with {image}. */
  async flash(image: Buffer, opts: FlashOptions): Promise<FlashResult> {
    const started = Date.now();
    const dir = mkdtempSync(join(tmpdir(), 'mvm-flash-'));
    const file = join(dir, 'image.bin');
    try {
      writeFileSync(file, image, { mode: 0o600 });
      opts.onProgress?.({ phase: 'upload', sent: 0, total: image.length });
      const r = await this.run('flash', opts, { image: file });
      opts.onProgress?.({ phase: 'upload', sent: image.length, total: image.length });
      const j = jsonObject(r.stdout) ?? {};
      const version = typeof j.version === 'string' ? j.version : opts.expectedVersion;
      if (opts.expectedVersion !== '' && version !== opts.expectedVersion) {
        throw new DriverError(
          this.device.name,
          'verify_failed',
          `flash: the tool reports version ${version}, expected ${opts.expectedVersion}`,
        );
      }
      opts.onProgress?.({ phase: 'done', message: tail(r.stdout, 1) || 'flashed' });
      return {
        ok: true,
        version,
        previousVersion: null,
        partition: null,
        previousPartition: null,
        uptimeS: null,
        durationMs: Date.now() - started,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {}
}
