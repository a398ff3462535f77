// The `nmminer` driver: NMMiner (ESP32 lottery miners) over UDP. Telemetry is what the device
// broadcasts on 12345 (offline after 60 s of silence); pools are pushed as JSON to 12347, repeated
// because nothing acknowledges it, and confirmed by the config the device reports on 12346.
// Address: HOST, or HOST:PORT where PORT is the config port. No OTA: NMMiner flashes over serial.
import { DriverError, withDeadline } from '../errors.js';
import { splitPoolUrl } from '../pools.js';
import type {
  Capability,
  ControlAction,
  ControlResult,
  DeviceInfo,
  DeviceSpec,
  Driver,
  FlashResult,
  OpOptions,
  PoolConfig,
  Telemetry,
} from '../types.js';
import { field, isTelemetryDatagram, normaliseNmminer } from './parse.js';
import { acquireListener, JsonDatagramListener, pushConfig, type Datagram } from './udp.js';

export interface NmminerSettings {
  host: string;
  configPort: number;
  configAddress: string;
  telemetryPort: number;
  configReportPort: number;
  listenAddress: string;
  offlineAfterMs: number;
  pushRepeat: number;
  pushIntervalMs: number;
  confirmTimeoutMs: number;
  matchIp: string | undefined;
}

export function nmminerSettings(device: DeviceSpec): NmminerSettings {
  const o = device.options ?? {};
  const n = (k: string, d: number) => (typeof o[k] === 'number' ? (o[k] as number) : d);
  const s = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const m = /^([^:]+)(?::(\d+))?$/.exec(device.address.trim());
  if (!m) {
    throw new DriverError(device.name, 'invalid_argument', `bad nmminer address ${JSON.stringify(device.address)}`, {
      hint: 'an nmminer address is HOST or HOST:CONFIG_PORT, e.g. 192.168.1.101 or 127.0.0.1:12347',
    });
  }
  const configPort = m[2] ? Number(m[2]) : n('config_port', 12347);
  return {
    host: m[1],
    configPort,
    configAddress: s('config_address') ?? m[1],
    telemetryPort: n('telemetry_port', 12345),
    configReportPort: n('config_report_port', 12346),
    listenAddress: s('listen_address') ?? '0.0.0.0',
    offlineAfterMs: n('offline_after_ms', 60_000),
    pushRepeat: n('push_repeat', 10),
    pushIntervalMs: n('push_interval_ms', 100),
    confirmTimeoutMs: n('confirm_timeout_ms', 30_000),
    matchIp: s('ip'),
  };
}

export class NmminerDriver implements Driver {
  readonly kind = 'nmminer' as const;
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(['info', 'telemetry', 'control']);
  readonly settings: NmminerSettings;
  private telemetryListener: { listener: JsonDatagramListener; release: () => Promise<void>; off: () => void } | undefined;
  private last: Datagram | undefined;
  private readonly waiters = new Set<(d: Datagram) => void>();

  constructor(readonly device: DeviceSpec) {
    this.settings = nmminerSettings(device);
  }

  /** Whether a datagram came from this device: by its IP field, or by the sender address. */
  isOurs(d: Datagram): boolean {
    const ip = field(d.json, 'IP');
    if (this.settings.matchIp) return ip === this.settings.matchIp;
    return d.from === this.settings.host || ip === this.settings.host;
  }

  private async listen(): Promise<void> {
    if (this.telemetryListener) return;
    let acquired: Awaited<ReturnType<typeof acquireListener>>;
    try {
      acquired = await acquireListener(this.settings.listenAddress, this.settings.telemetryPort);
    } catch (err) {
      throw new DriverError(this.device.name, 'unreachable', `cannot listen for telemetry on udp ${this.settings.listenAddress}:${this.settings.telemetryPort}: ${(err as Error).message}`, {
        cause: err,
        hint: 'another program holds the port, or set the device option telemetry_port',
      });
    }
    const onMessage = (d: Datagram) => {
      if (!this.isOurs(d) || !isTelemetryDatagram(d.json)) return;
      this.last = d;
      for (const w of [...this.waiters]) w(d);
    };
    acquired.listener.on('message', onMessage);
    this.telemetryListener = { ...acquired, off: () => acquired.listener.off('message', onMessage) };
  }

  /** The freshest datagram not older than the offline threshold, waiting for one if needed. */
  private async latest(signal: AbortSignal): Promise<Datagram> {
    await this.listen();
    const fresh = this.last && Date.now() - this.last.at < this.settings.offlineAfterMs ? this.last : undefined;
    if (fresh) return fresh;
    return await new Promise<Datagram>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(onDatagram);
        signal.removeEventListener('abort', onAbort);
      };
      const onDatagram = (d: Datagram) => {
        done();
        resolve(d);
      };
      const onAbort = () => {
        done();
        reject(signal.reason ?? new Error('aborted'));
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new DriverError(this.device.name, 'unreachable', `offline: no telemetry from ${this.settings.host} on udp ${this.settings.telemetryPort} for ${this.settings.offlineAfterMs} ms`, {
            hint: 'check that the miner is powered and on this subnet (it broadcasts every few seconds)',
          }),
        );
      }, this.settings.offlineAfterMs);
      this.waiters.add(onDatagram);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async telemetry(opts: OpOptions = {}): Promise<Telemetry> {
    return withDeadline(this.device.name, 'telemetry', opts, this.settings.offlineAfterMs + 5000, async (signal) => {
      const d = await this.latest(signal);
      return normaliseNmminer(this.device, d.json, new Date(d.at));
    });
  }

  async info(opts: OpOptions = {}): Promise<DeviceInfo> {
    return withDeadline(this.device.name, 'info', opts, this.settings.offlineAfterMs + 5000, async (signal) => {
      const d = await this.latest(signal);
      const board = field(d.json, 'BoardType');
      const version = field(d.json, 'Version');
      return {
        name: this.device.name,
        driver: 'nmminer',
        address: this.device.address,
        model: `NMMiner ${typeof board === 'string' ? board : ''}`.trim(),
        hardware: typeof board === 'string' ? board : null,
        firmwareVersion: typeof version === 'string' ? version : null,
        raw: d.json,
      };
    });
  }

  async control(action: ControlAction, opts: OpOptions = {}): Promise<ControlResult> {
    if (action.op !== 'pools-set') {
      throw new DriverError(this.device.name, 'unsupported', `${action.op}: NMMiner takes pool and Wi-Fi settings over UDP only`, {
        hint: 'NMMiner supports `pools set`; everything else is done on the device',
      });
    }
    return withDeadline(this.device.name, 'pools set', opts, this.settings.confirmTimeoutMs + 5000, (signal) =>
      this.setPools(action.pools, signal),
    );
  }

  /** The config JSON NMMiner reads: primary and secondary pool, Wi-Fi when the device options carry it. */
  configPayload(pools: PoolConfig[]): Record<string, unknown> {
    const o = this.device.options ?? {};
    const payload: Record<string, unknown> = { IP: this.settings.matchIp ?? this.settings.host };
    const names = ['Primary', 'Secondary'];
    pools.forEach((pool, i) => {
      const { scheme, host, port } = splitPoolUrl(pool);
      payload[`${names[i]}Pool`] = `${scheme}://${host}:${port}`;
      payload[`${names[i]}Password`] = pool.password ?? 'x';
      payload[`${names[i]}Address`] = pool.user;
    });
    if (typeof o.wifi_ssid === 'string') payload.WiFiSSID = o.wifi_ssid;
    if (typeof o.wifi_password === 'string') payload.WiFiPWD = o.wifi_password;
    return payload;
  }

  private async setPools(pools: PoolConfig[], signal: AbortSignal): Promise<ControlResult> {
    if (pools.length === 0 || pools.length > 2) {
      throw new DriverError(this.device.name, 'invalid_argument', `pools set: NMMiner keeps a primary and a secondary pool (got ${pools.length})`);
    }
    let payload: Record<string, unknown>;
    try {
      payload = this.configPayload(pools);
    } catch (err) {
      throw new DriverError(this.device.name, 'invalid_argument', (err as Error).message);
    }
    const reports = new JsonDatagramListener(this.settings.listenAddress, this.settings.configReportPort);
    let confirmed: Datagram | undefined;
    const matches = (d: Datagram) =>
      this.isOurs(d) && field(d.json, 'PrimaryPool') === payload.PrimaryPool && field(d.json, 'PrimaryAddress') === payload.PrimaryAddress;
    const seen = new Promise<Datagram>((resolve) => {
      reports.on('message', (d: Datagram) => {
        if (matches(d)) resolve(d);
      });
    });
    try {
      await reports.start().catch((err) => {
        throw new DriverError(this.device.name, 'unreachable', `cannot listen for config reports on udp ${this.settings.configReportPort}: ${(err as Error).message}`, { cause: err });
      });
      const sent = await pushConfig(payload, {
        host: this.settings.configAddress,
        port: this.settings.configPort,
        repeat: this.settings.pushRepeat,
        intervalMs: this.settings.pushIntervalMs,
        broadcast: /\.255$/.test(this.settings.configAddress),
        signal,
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), this.settings.confirmTimeoutMs);
      });
      const aborted = new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
      confirmed = await Promise.race([seen, timeout, aborted]);
      clearTimeout(timer);
      if (signal.aborted) throw signal.reason;
      if (!confirmed) {
        throw new DriverError(
          this.device.name,
          'timeout',
          `pools set: sent the config ${sent}× to ${this.settings.configAddress}:${this.settings.configPort}, but no config report on udp ${this.settings.configReportPort} showed it within ${this.settings.confirmTimeoutMs} ms`,
          { hint: 'the miner may be offline or on another subnet; NMMiner does not acknowledge config pushes' },
        );
      }
      return {
        ok: true,
        action: 'pools-set',
        message: `config pushed ${sent}× and confirmed by the device's config report`,
        details: { report: confirmed.json },
      };
    } finally {
      await reports.close();
    }
  }

  async flash(): Promise<FlashResult> {
    throw new DriverError(this.device.name, 'unsupported', 'NMMiner has no OTA: it is flashed over serial', {
      hint: 'use a `command` device with esptool (doc/runner.md, "Serial flashing")',
    });
  }

  async close(): Promise<void> {
    this.waiters.clear();
    const l = this.telemetryListener;
    this.telemetryListener = undefined;
    if (l) {
      l.off();
      await l.release();
    }
  }
}
