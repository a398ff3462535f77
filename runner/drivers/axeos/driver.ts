// The `axeos` driver: Bitaxe Max/Ultra/Supra/Gamma and NerdQAxe++ over HTTP. The firmware
// generation (read from /api/system/info) decides between the pools API and the old stratum keys,
// how restart answers, and whether pause/resume and the boot call exist.
import { DriverError, withDeadline } from '../errors.js';
import {
  type BaselineComparison,
  type Capability,
  type ControlAction,
  type ControlResult,
  type DeviceInfo,
  type DeviceSettings,
  type DeviceSpec,
  type Driver,
  type FlashOptions,
  type FlashResult,
  type OpOptions,
  type PoolConfig,
  type Telemetry,
} from '../types.js';
import { splitPoolUrl } from '../pools.js';
import { compareAxeosBaseline } from './baseline.js';
import { AxeosClient } from './client.js';
import { flashAxeos } from './flash.js';
import { MvmError } from '../../../shared/errors.js';
import { normaliseMode } from '../modes.js';
import { describeLimits, explicitRange, presetFor, type AxeosMode } from './limits.js';
import { asicOf, deviceInfo, hardwareOf, isNerdQAxe, normaliseInfo, type AxeosInfo } from './telemetry.js';
import { featuresFor, type AxeosFeatures } from './version.js';

const DEFAULT_TIMEOUT_MS = 15_000;

export class AxeosDriver implements Driver {
  readonly kind = 'axeos' as const;
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(['info', 'telemetry', 'control', 'flash']);
  readonly client: AxeosClient;

  constructor(readonly device: DeviceSpec) {
    const o = device.options ?? {};
    this.client = new AxeosClient({
      device: device.name,
      address: device.address,
      requestTimeoutMs: typeof o.request_timeout_ms === 'number' ? o.request_timeout_ms : 10_000,
    });
  }

  private features(info: AxeosInfo): AxeosFeatures {
    const o = this.device.options ?? {};
    return featuresFor(info.version, {
      nerdqaxe: isNerdQAxe(info),
      override: typeof o.api_version === 'string' ? o.api_version : undefined,
    });
  }

  async info(opts: OpOptions = {}): Promise<DeviceInfo> {
    return withDeadline(this.device.name, 'info', opts, DEFAULT_TIMEOUT_MS, async (signal) =>
      deviceInfo(this.device, await this.client.info({ signal })),
    );
  }

  async telemetry(opts: OpOptions = {}): Promise<Telemetry> {
    return withDeadline(this.device.name, 'telemetry', opts, DEFAULT_TIMEOUT_MS, async (signal) =>
      normaliseInfo(this.device, await this.client.info({ signal })),
    );
  }

  async control(action: ControlAction, opts: OpOptions = {}): Promise<ControlResult> {
    return withDeadline(this.device.name, action.op, opts, DEFAULT_TIMEOUT_MS, (signal) =>
      this.doControl(action, signal),
    );
  }

  private invalid(message: string): never {
    throw new DriverError(this.device.name, 'invalid_argument', message);
  }

  private async doControl(action: ControlAction, signal: AbortSignal): Promise<ControlResult> {
    const name = this.device.name;
    switch (action.op) {
      case 'restart': {
        const message = await this.client.postMessage('/api/system/restart', undefined, { signal });
        return { ok: true, action: 'restart', message: message || 'restarting' };
      }
      case 'pause':
      case 'resume': {
        const info = await this.client.info({ signal });
        if (!this.features(info).pause) {
          throw new DriverError(
            name,
            'unsupported',
            `${action.op}: firmware ${info.version} has no pause/resume (AxeOS v2.14+)`,
            {
              hint: 'update the firmware, or use `mvm runner control restart`',
            },
          );
        }
        const message = await this.client.postMessage(`/api/system/${action.op}`, undefined, { signal });
        return { ok: true, action: action.op, message };
      }
      case 'mode':
        return this.setMode(action.mode, signal);
      case 'frequency':
        return this.setExplicit('frequency', action.mhz, signal);
      case 'voltage':
        return this.setExplicit('voltage', action.mv, signal);
      case 'fan': {
        if (!Number.isInteger(action.percent) || action.percent < 0 || action.percent > 100)
          this.invalid(`fan ${action.percent} % is out of range (0–100)`);
        await this.client.patch(
          { autofanspeed: 0, fanspeed: action.percent, manualFanSpeed: action.percent },
          { signal },
        );
        await this.confirm(signal, { autofanspeed: 0 });
        return { ok: true, action: 'fan', message: `fan ${action.percent} % (automatic fan control off)` };
      }
      case 'pools-set':
        return this.setPools(action.pools, signal);
      case 'pools-switch':
        return this.switchPool(action.index, signal);
      case 'pools-priority':
        throw new DriverError(
          name,
          'unsupported',
          'pools priority: AxeOS has a primary and a fallback pool, no priority list',
          {
            hint: 'use `pools switch N` (v2.11+), or `pools set` with the pools in the order wanted',
          },
        );
    }
  }

  /**
   * A preset of the board's own (never one outside its options, except `oc`, which says so);
   * leaving `oc` turns overclocking off again.
   */
  private async setMode(name: string, signal: AbortSignal): Promise<ControlResult> {
    const info = await this.client.info({ signal });
    const hardware = hardwareOf(info);
    let mode: AxeosMode;
    try {
      mode = normaliseMode('axeos', name, hardware) as AxeosMode;
    } catch (err) {
      throw new DriverError(this.device.name, 'unsupported', (err as MvmError).message, {
        hint: (err as MvmError).hint,
      });
    }
    const preset = presetFor(mode, hardware);
    if (!preset.ok) throw new DriverError(this.device.name, 'unsupported', preset.message, { hint: preset.hint });
    const { setting, limits, overclock } = preset;
    await this.client.patch({ ...setting, overclockEnabled: mode === 'oc' ? 1 : 0 }, { signal });
    await this.confirm(signal, { frequency: setting.frequency, coreVoltage: setting.coreVoltage });
    const warning = overclock
      ? ` — OVERCLOCK, outside the board's options (${describeLimits(limits)}); overclockEnabled on`
      : '';
    return {
      ok: true,
      action: 'mode',
      message: `${mode} on ${limits.asic} (${limits.name}): ${setting.frequency} MHz, ${setting.coreVoltage} mV${warning}`,
      details: { asic: limits.asic, ...setting, ...(overclock ? { overclock: true } : {}) },
    };
  }

  /** An explicit frequency or voltage, inside the board's options (or the ASIC's when the board is unknown) unless the device is overclocking. */
  private async setExplicit(what: 'frequency' | 'voltage', value: number, signal: AbortSignal): Promise<ControlResult> {
    const unit = what === 'frequency' ? 'MHz' : 'mV';
    const label = what === 'frequency' ? 'frequency' : 'core voltage';
    const [min, max] = what === 'frequency' ? [50, 1500] : [800, 1600];
    if (!Number.isInteger(value) || value < min || value > max)
      this.invalid(`${label} ${value} ${unit} is out of range (${min}–${max})`);
    const info = await this.client.info({ signal });
    const allowed = explicitRange(what, hardwareOf(info), asicOf(info));
    if (!allowed) {
      throw new DriverError(
        this.device.name,
        'unsupported',
        `${label}: board ${JSON.stringify(hardwareOf(info))} and its ASIC (${info.ASICModel ?? 'not reported'}) are unknown, so mvm cannot tell a safe ${label}`,
        {
          hint: 'add the board to runner/drivers/axeos/limits.ts, or set it on the device itself',
        },
      );
    }
    const [lo, hi] = allowed.range;
    if ((value < lo || value > hi) && info.overclockEnabled !== 1) {
      this.invalid(
        `${label} ${value} ${unit} is outside ${allowed.of}'s options (${lo}–${hi} ${unit}); \`mode oc\` is the only deliberate overclock`,
      );
    }
    const key = what === 'frequency' ? 'frequency' : 'coreVoltage';
    await this.client.patch({ [key]: value }, { signal });
    await this.confirm(signal, { [key]: value });
    return { ok: true, action: what, message: `${label} ${value} ${unit}` };
  }

  /** Reads the settings back: AxeOS silently ignores keys it does not know. */
  private async confirm(signal: AbortSignal, expect: Record<string, unknown>): Promise<AxeosInfo> {
    const info = await this.client.info({ signal });
    const wrong = Object.entries(expect).filter(([k, v]) => info[k] !== undefined && info[k] !== v);
    if (wrong.length > 0) {
      throw new DriverError(
        this.device.name,
        'refused',
        `the device did not apply ${wrong.map(([k, v]) => `${k}=${JSON.stringify(v)} (reads ${JSON.stringify(info[k])})`).join(', ')}`,
      );
    }
    return info;
  }

  private async setPools(pools: PoolConfig[], signal: AbortSignal): Promise<ControlResult> {
    if (pools.length === 0) this.invalid('pools set: give at least one pool');
    let parsed: Array<{ host: string; port: number; pool: PoolConfig }>;
    try {
      parsed = pools.map((pool) => ({ ...splitPoolUrl(pool), pool }));
    } catch (err) {
      this.invalid((err as Error).message);
    }
    const info = await this.client.info({ signal });
    const features = this.features(info);
    if (features.poolsApi) {
      if (parsed.length > 8) this.invalid('pools set: AxeOS keeps at most 8 pools');
      const empty = parsed.findIndex((p) => p.pool.user.trim() === '');
      if (empty >= 0)
        this.invalid(`pools set: pool ${empty} has no user; firmware ${info.version} refuses an empty stratumUser`);
      await this.client.patch(
        {
          pools: parsed.map(({ host, port, pool }, id) => ({
            id,
            stratumURL: host,
            stratumPort: port,
            stratumUser: pool.user,
            stratumPassword: pool.password ?? 'x',
          })),
          primaryPoolIndex: 0,
          secondaryPoolIndex: parsed.length > 1 ? 1 : 0,
        },
        { signal },
      );
      // pools[] changes only the slots it lists: empty the others, or old pools stay behind.
      for (const stale of (info.pools ?? [])
        .map((p, i) => (typeof p.id === 'number' ? p.id : i))
        .filter((id) => id >= parsed.length)) {
        await this.client.deletePool(stale, { signal });
      }
      const after = await this.client.info({ signal });
      const stored = (after.pools ?? []).map((p) => `${p.stratumURL}:${p.stratumPort}`);
      const wanted = parsed.map((p) => `${p.host}:${p.port}`);
      if (after.pools && stored.join(' ') !== wanted.join(' ')) {
        throw new DriverError(
          this.device.name,
          'refused',
          `pools set: the device holds ${stored.join(', ') || 'no pools'} instead of ${wanted.join(', ')}`,
        );
      }
    } else {
      if (parsed.length > 2)
        this.invalid(`pools set: firmware ${info.version} keeps a primary and a fallback pool only`);
      const patch: Record<string, unknown> = {
        stratumURL: parsed[0].host,
        stratumPort: parsed[0].port,
        stratumUser: parsed[0].pool.user,
        stratumPassword: parsed[0].pool.password ?? 'x',
      };
      if (parsed[1]) {
        Object.assign(patch, {
          fallbackStratumURL: parsed[1].host,
          fallbackStratumPort: parsed[1].port,
          fallbackStratumUser: parsed[1].pool.user,
          fallbackStratumPassword: parsed[1].pool.password ?? 'x',
        });
      }
      await this.client.patch(patch, { signal });
      await this.confirm(signal, {
        stratumURL: parsed[0].host,
        stratumPort: parsed[0].port,
        stratumUser: parsed[0].pool.user,
      });
    }
    return {
      ok: true,
      action: 'pools-set',
      message: `${parsed.length} pool(s) stored (${features.poolsApi ? 'pools API' : 'stratum keys'}); restart to use them`,
      needsRestart: true,
    };
  }

  private async switchPool(index: number, signal: AbortSignal): Promise<ControlResult> {
    if (!Number.isInteger(index) || index < 0) this.invalid(`pools switch: index ${index} must be 0 or more`);
    const info = await this.client.info({ signal });
    if (this.features(info).poolsApi) {
      const count = info.pools?.length ?? 8;
      if (index >= count) this.invalid(`pools switch: the device has ${count} pool(s); index ${index} does not exist`);
      const previous = typeof info.primaryPoolIndex === 'number' ? info.primaryPoolIndex : 0;
      await this.client.patch(
        { primaryPoolIndex: index, secondaryPoolIndex: previous === index ? (index === 0 ? 1 : 0) : previous },
        { signal },
      );
      await this.confirm(signal, { primaryPoolIndex: index });
    } else {
      if (index > 1) this.invalid(`pools switch: firmware ${info.version} has pool 0 (primary) and 1 (fallback) only`);
      if (!this.features(info).fallbackSwitch) {
        // The firmware would accept useFallbackStratum and silently ignore it.
        throw new DriverError(
          this.device.name,
          'unsupported',
          `pools switch: ${isNerdQAxe(info) ? 'NerdQAxe++ firmware' : `firmware ${info.version}`} ignores useFallbackStratum, so a switch cannot be made`,
          {
            hint: 'set the pool you want first with `pools set` (then restart), or update to AxeOS v2.11+',
          },
        );
      }
      await this.client.patch({ useFallbackStratum: index }, { signal });
      await this.confirm(signal, { useFallbackStratum: index });
    }
    return {
      ok: true,
      action: 'pools-switch',
      message: `pool ${index} selected; restart to use it`,
      needsRestart: true,
    };
  }

  async flash(image: Buffer, opts: FlashOptions): Promise<FlashResult> {
    // Every step has its own bound (upload, reboot, settle, recovery); a caller's overall
    // timeoutMs, when given, caps the whole.
    if (opts.timeoutMs !== undefined) {
      const { timeoutMs, ...rest } = opts;
      return withDeadline(this.device.name, 'flash', opts, timeoutMs, (signal) =>
        this.flash(image, { ...rest, signal }),
      );
    }
    const info = await this.client.info({ signal: opts.signal });
    return flashAxeos(
      {
        device: this.device.name,
        address: this.device.address,
        client: this.client,
        options: this.device.options ?? {},
        nerdqaxe: isNerdQAxe(info),
      },
      image,
      opts,
    );
  }

  async compareBaseline(
    want: { pools?: PoolConfig[]; settings?: DeviceSettings },
    opts: OpOptions = {},
  ): Promise<BaselineComparison> {
    return withDeadline(this.device.name, 'read settings', opts, DEFAULT_TIMEOUT_MS, async (signal) => {
      const info = await this.client.info({ signal });
      return compareAxeosBaseline(want, info, this.features(info));
    });
  }

  async close(): Promise<void> {
    /* the HTTP agent is shared and keeps no per-device state */
  }
}
