// The `axeos` driver: Bitaxe Max/Ultra/Supra/Gamma and NerdQAxe++ over HTTP. The firmware
// generation (read from /api/system/info) decides between the pools API and the old stratum keys,
// how restart answers, and whether pause/resume and the boot call exist.
import { DriverError, withDeadline } from '../errors.js';
import {
  MODES,
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
import { modeSetting } from './models.js';
import { asicOf, deviceInfo, isNerdQAxe, normaliseInfo, type AxeosInfo } from './telemetry.js';
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
    return withDeadline(this.device.name, action.op, opts, DEFAULT_TIMEOUT_MS, (signal) => this.doControl(action, signal));
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
          throw new DriverError(name, 'unsupported', `${action.op}: firmware ${info.version} has no pause/resume (AxeOS v2.14+)`, {
            hint: 'update the firmware, or use `mvm runner control restart`',
          });
        }
        const message = await this.client.postMessage(`/api/system/${action.op}`, undefined, { signal });
        return { ok: true, action: action.op, message };
      }
      case 'mode': {
        if (!MODES.includes(action.mode)) this.invalid(`unknown mode ${JSON.stringify(action.mode)} (eco, standard, turbo, oc)`);
        const info = await this.client.info({ signal });
        const asic = asicOf(info);
        if (!asic) {
          throw new DriverError(name, 'unsupported', `mode: unknown ASIC for board ${JSON.stringify(info.boardVersion)} (${info.ASICModel ?? 'no ASICModel'})`);
        }
        const setting = modeSetting(action.mode, asic);
        const patch: Record<string, unknown> = { ...setting };
        // Leaving oc turns overclocking off again, so a mode names the whole state.
        if (action.mode === 'oc') patch.overclockEnabled = 1;
        else if (info.overclockEnabled !== undefined) patch.overclockEnabled = 0;
        await this.client.patch(patch, { signal });
        await this.confirm(signal, { frequency: setting.frequency, coreVoltage: setting.coreVoltage });
        return {
          ok: true,
          action: 'mode',
          message: `${action.mode} on ${asic}: ${setting.frequency} MHz, ${setting.coreVoltage} mV`,
          details: { asic, ...setting },
        };
      }
      case 'frequency': {
        if (!Number.isInteger(action.mhz) || action.mhz < 50 || action.mhz > 1500) this.invalid(`frequency ${action.mhz} MHz is out of range (50–1500)`);
        await this.client.patch({ frequency: action.mhz }, { signal });
        await this.confirm(signal, { frequency: action.mhz });
        return { ok: true, action: 'frequency', message: `frequency ${action.mhz} MHz` };
      }
      case 'voltage': {
        if (!Number.isInteger(action.mv) || action.mv < 800 || action.mv > 1600) this.invalid(`core voltage ${action.mv} mV is out of range (800–1600)`);
        await this.client.patch({ coreVoltage: action.mv }, { signal });
        await this.confirm(signal, { coreVoltage: action.mv });
        return { ok: true, action: 'voltage', message: `core voltage ${action.mv} mV` };
      }
      case 'fan': {
        if (!Number.isInteger(action.percent) || action.percent < 0 || action.percent > 100) this.invalid(`fan ${action.percent} % is out of range (0–100)`);
        await this.client.patch({ autofanspeed: 0, fanspeed: action.percent, manualFanSpeed: action.percent }, { signal });
        await this.confirm(signal, { autofanspeed: 0 });
        return { ok: true, action: 'fan', message: `fan ${action.percent} % (automatic fan control off)` };
      }
      case 'pools-set':
        return this.setPools(action.pools, signal);
      case 'pools-switch':
        return this.switchPool(action.index, signal);
    }
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
      const after = await this.client.info({ signal });
      const first = after.pools?.[0];
      if (after.pools && (first?.stratumURL !== parsed[0].host || first?.stratumPort !== parsed[0].port)) {
        throw new DriverError(this.device.name, 'refused', 'pools set: the device did not store the pools');
      }
    } else {
      if (parsed.length > 2) this.invalid(`pools set: firmware ${info.version} keeps a primary and a fallback pool only`);
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
      await this.confirm(signal, { stratumURL: parsed[0].host, stratumPort: parsed[0].port, stratumUser: parsed[0].pool.user });
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
      await this.client.patch({ primaryPoolIndex: index, secondaryPoolIndex: previous === index ? (index === 0 ? 1 : 0) : previous }, { signal });
      await this.confirm(signal, { primaryPoolIndex: index });
    } else {
      if (index > 1) this.invalid(`pools switch: firmware ${info.version} has pool 0 (primary) and 1 (fallback) only`);
      await this.client.patch({ useFallbackStratum: index }, { signal });
    }
    return { ok: true, action: 'pools-switch', message: `pool ${index} selected; restart to use it`, needsRestart: true };
  }

  async flash(image: Buffer, opts: FlashOptions): Promise<FlashResult> {
    // Every step has its own bound (upload, reboot, settle, recovery); a caller's overall
    // timeoutMs, when given, caps the whole.
    if (opts.timeoutMs !== undefined) {
      const { timeoutMs, ...rest } = opts;
      return withDeadline(this.device.name, 'flash', opts, timeoutMs, (signal) => this.flash(image, { ...rest, signal }));
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

  async compareBaseline(want: { pools?: PoolConfig[]; settings?: DeviceSettings }, opts: OpOptions = {}): Promise<BaselineComparison> {
    return withDeadline(this.device.name, 'read settings', opts, DEFAULT_TIMEOUT_MS, async (signal) => {
      const info = await this.client.info({ signal });
      return compareAxeosBaseline(want, info, this.features(info));
    });
  }

  async close(): Promise<void> {
    /* the HTTP agent is shared and keeps no per-device state */
  }
}
