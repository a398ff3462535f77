// NMMiner telemetry for the whole fleet: ONE UDP listener on [fleet] udp_port receiving every
// device's broadcasts, the latest datagram kept per sender address and per reported IP. A reading
// of an NMMiner is its freshest datagram; none within the window is a missed reading.
import { DriverError } from '../../runner/drivers/errors.js';
import { nmminerSettings } from '../../runner/drivers/nmminer/driver.js';
import { field, isTelemetryDatagram, normaliseNmminer } from '../../runner/drivers/nmminer/parse.js';
import { acquireListener, type Datagram } from '../../runner/drivers/nmminer/udp.js';
import type { DeviceSpec, Telemetry } from '../../runner/drivers/types.js';

/** Without options.offline_after_ms, a datagram is fresh for 2 poll intervals, at least this long. */
export const NMMINER_MIN_FRESH_MS = 15_000;

export class NmminerFeed {
  private readonly byFrom = new Map<string, Datagram>();
  private readonly byIp = new Map<string, Datagram>();
  private acquired: Awaited<ReturnType<typeof acquireListener>> | undefined;
  private starting: Promise<void> | undefined;
  /** Datagrams received (all senders), for stats and tests. */
  received = 0;

  constructor(
    readonly address: string,
    readonly port: number,
  ) {}

  /** Binds the listener (once; a failure is thrown and the next call tries again). */
  start(): Promise<void> {
    this.starting ??= (async () => {
      const acquired = await acquireListener(this.address, this.port);
      acquired.listener.on('message', this.onMessage);
      this.acquired = acquired;
    })().catch((err: unknown) => {
      this.starting = undefined;
      throw err;
    });
    return this.starting;
  }

  get listening(): boolean {
    return this.acquired !== undefined;
  }

  /** The bound port (useful with udp_port = 0). */
  boundPort(): number | undefined {
    return this.acquired?.listener.boundPort();
  }

  private readonly onMessage = (d: Datagram): void => {
    if (!isTelemetryDatagram(d.json)) return;
    this.received++;
    this.byFrom.set(d.from, d);
    const ip = field(d.json, 'IP');
    if (typeof ip === 'string') this.byIp.set(ip, d);
  };

  /** The device's freshest reading, or a DriverError saying how long it has been silent. */
  reading(spec: DeviceSpec, pollIntervalMs: number, now: number): Telemetry {
    const s = nmminerSettings(spec);
    const freshMs =
      typeof spec.options?.offline_after_ms === 'number'
        ? s.offlineAfterMs
        : Math.max(2 * pollIntervalMs, NMMINER_MIN_FRESH_MS);
    const candidates = s.matchIp ? [this.byIp.get(s.matchIp)] : [this.byFrom.get(s.host), this.byIp.get(s.host)];
    let d: Datagram | undefined;
    for (const c of candidates) if (c && (!d || c.at > d.at)) d = c;
    if (!this.listening) {
      throw new DriverError(
        spec.name,
        'unreachable',
        `not listening for NMMiner telemetry on udp ${this.address}:${this.port}`,
        {
          hint: 'another program holds the port: stop it, or set [fleet] udp_port',
        },
      );
    }
    if (!d || now - d.at > freshMs) {
      throw new DriverError(
        spec.name,
        'unreachable',
        `no telemetry from ${s.matchIp ?? s.host} on udp ${this.port} for ${Math.round((d ? now - d.at : freshMs) / 1000)} s`,
        {
          hint: 'check that the miner is powered and broadcasts to this host (it sends every few seconds)',
        },
      );
    }
    return normaliseNmminer(spec, d.json, new Date(d.at));
  }

  async close(): Promise<void> {
    const a = this.acquired;
    this.acquired = undefined;
    this.starting = undefined;
    if (!a) return;
    a.listener.off('message', this.onMessage);
    await a.release();
  }
}
