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
import { broadcastFor, planPush } from './config.js';
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
  /** How long to wait for the config report a push is built from, ms. */
  reportTimeoutMs: number;
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
    // The real tool broadcasts to the subnet; `broadcast: false` sends to the device itself.
    configAddress: s('config_address') ?? (o.broadcast === false ? m[1] : broadcastFor(m[1])),
    telemetryPort: n('telemetry_port', 12345),
    configReportPort: n('config_report_port', 12346),
    listenAddress: s('listen_address') ?? '0.0.0.0',
    offlineAfterMs: n('offline_after_ms', 60_000),
    pushRepeat: n('push_repeat', 10),
    pushIntervalMs: n('push_interval_ms', 100),
    confirmTimeoutMs: n('confirm_timeout_ms', 30_000),
    reportTimeoutMs: n('report_timeout_ms', 40_000),
    matchIp: s('ip'),
  };
}

export class NmminerDriver implements Driver {
  readonly kind = 'nmminer' as const;
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(['info', 'telemetry', 'control']);
  readonly settings: NmminerSettings;
  private telemetryListener:
    { listener: JsonDatagramListener; release: () => Promise<void>; off: () => void } | undefined;
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
      throw new DriverError(
        this.device.name,
        'unreachable',
        `cannot listen for telemetry on udp ${this.settings.listenAddress}:${this.settings.telemetryPort}: ${(err as Error).message}`,
        {
          cause: err,
          hint: 'another program holds the port, or set the device option telemetry_port',
        },
      );
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
          new DriverError(
            this.device.name,
            'unreachable',
            `offline: no telemetry from ${this.settings.host} on udp ${this.settings.telemetryPort} for ${this.settings.offlineAfterMs} ms`,
            {
              hint: 'check that the miner is powered and on this subnet (it broadcasts every few seconds)',
            },
          ),
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
      throw new DriverError(
        this.device.name,
        'unsupported',
        `${action.op}: NMMiner takes pool and Wi-Fi settings over UDP only`,
        {
          hint: 'NMMiner supports `pools set`; everything else is done on the device',
        },
      );
    }
    return withDeadline(this.device.name, 'pools set', opts, this.settings.confirmTimeoutMs + 5000, (signal) =>
      this.setPools(action.pools, signal),
    );
  }

  /** Waits for the device's config report on the listener; undefined past the deadline or on abort. */
  private nextReport(
    reports: JsonDatagramListener,
    accept: (d: Datagram) => boolean,
    ms: number,
    signal: AbortSignal,
  ): Promise<Datagram | undefined> {
    return new Promise((resolve) => {
      const done = (d: Datagram | undefined) => {
        clearTimeout(timer);
        reports.off('message', onMessage);
        signal.removeEventListener('abort', onAbort);
        resolve(d);
      };
      const onMessage = (d: Datagram) => {
        if (this.isOurs(d) && accept(d)) done(d);
      };
      const onAbort = () => done(undefined);
      const timer = setTimeout(() => done(undefined), ms);
      reports.on('message', onMessage);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Reads the device's parameters from its config report, changes only the pools, pushes the full
   * set (repeated, to the subnet broadcast as the real tool does) and waits for the report showing it.
   */
  private async setPools(pools: PoolConfig[], signal: AbortSignal): Promise<ControlResult> {
    const name = this.device.name;
    if (pools.length === 0 || pools.length > 2) {
      throw new DriverError(
        name,
        'invalid_argument',
        `pools set: NMMiner keeps a primary and a secondary pool (got ${pools.length})`,
      );
    }
    try {
      pools.forEach((p) => splitPoolUrl(p));
    } catch (err) {
      throw new DriverError(name, 'invalid_argument', (err as Error).message);
    }
    const reports = new JsonDatagramListener(this.settings.listenAddress, this.settings.configReportPort);
    try {
      await reports.start().catch((err) => {
        throw new DriverError(
          name,
          'unreachable',
          `cannot listen for config reports on udp ${this.settings.configReportPort}: ${(err as Error).message}`,
          { cause: err },
        );
      });
      const current = await this.nextReport(
        reports,
        (d) => field(d.json, 'PrimaryPool') !== undefined,
        this.settings.reportTimeoutMs,
        signal,
      );
      if (signal.aborted) throw signal.reason;
      if (!current) {
        throw new DriverError(
          name,
          'timeout',
          `pools set: no config report from ${this.settings.host} on udp ${this.settings.configReportPort} within ${this.settings.reportTimeoutMs} ms, so its other parameters are unknown; nothing was pushed (a push blanks what it leaves out)`,
          {
            hint: 'the device reports its config every half minute or so: check it is online, or allow longer with the device option report_timeout_ms',
          },
        );
      }
      const plan = planPush(
        current.json,
        pools,
        this.device.options ?? {},
        this.settings.matchIp ?? this.settings.host,
      );
      if (!plan.ok) throw new DriverError(name, 'refused', plan.message, { hint: plan.hint });
      const { payload } = plan;
      const confirmation = this.nextReport(
        reports,
        (d) =>
          field(d.json, 'PrimaryPool') === payload.PrimaryPool &&
          field(d.json, 'PrimaryAddress') === payload.PrimaryAddress,
        this.settings.confirmTimeoutMs,
        signal,
      );
      const sent = await pushConfig(payload, {
        host: this.settings.configAddress,
        port: this.settings.configPort,
        repeat: this.settings.pushRepeat,
        intervalMs: this.settings.pushIntervalMs,
        broadcast: /\.255$/.test(this.settings.configAddress),
        signal,
      });
      const confirmed = await confirmation;
      if (signal.aborted) throw signal.reason;
      if (!confirmed) {
        throw new DriverError(
          name,
          'timeout',
          `pools set: sent the config ${sent}× to ${this.settings.configAddress}:${this.settings.configPort}, but no config report on udp ${this.settings.configReportPort} showed it within ${this.settings.confirmTimeoutMs} ms`,
          { hint: 'the miner may be offline or on another subnet; NMMiner does not acknowledge config pushes' },
        );
      }
      return {
        ok: true,
        action: 'pools-set',
        message: `config pushed ${sent}× and confirmed by the device's config report (sent to ${this.settings.configAddress}; its other parameters kept as reported)`,
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
