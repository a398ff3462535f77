// The collector: every miner read at its interval through the runner's drivers (one driver per
// miner, kept between readings), at most `concurrency` at once, each reading bounded by
// request_timeout whatever the device does; NMMiners from one shared UDP listener. Readings are
// written in batches (one transaction a second): kill -9 loses at most that second.
import { setMaxListeners } from 'node:events';
import PQueue from 'p-queue';
import { createDriver as defaultCreateDriver } from '../../runner/drivers/registry.js';
import { DriverError } from '../../runner/drivers/errors.js';
import type { DeviceSpec, Driver, Telemetry } from '../../runner/drivers/types.js';
import { describeError, MvmError } from '../../shared/errors.js';
import { rootLogger, type Logger } from '../../shared/log.js';
import type { FleetSettings } from '../config/types.js';
import { offlineSample, sampleOf } from '../history/sample.js';
import { withoutRaw } from '../store/live.js';
import type {
  CollectorHandle,
  EventStore,
  HistoryStore,
  LiveStateStore,
  MinerDefinition,
  MinerLiveState,
  MinerStatus,
  SampleRow,
} from '../types.js';
import { afterMiss, afterReading, initialState, type Outcome } from './miner-state.js';
import { NmminerFeed } from './nmminer-feed.js';

export type CollectorSettings = Pick<
  FleetSettings,
  'pollIntervalMs' | 'offlineAfter' | 'concurrency' | 'requestTimeoutMs' | 'udpPort' | 'udpAddress'
>;

export interface CollectorOptions {
  /** The miners to read (config, testbed and API ones); called again on reload(). */
  definitions: () => MinerDefinition[];
  events: EventStore;
  history: HistoryStore;
  live: LiveStateStore;
  settings: CollectorSettings;
  now?: () => number;
  createDriver?: (spec: DeviceSpec) => Driver;
  log?: Logger;
  /** How often buffered readings are written, ms (default 1000). */
  flushIntervalMs?: number;
  random?: () => number;
}

interface Entry {
  def: MinerDefinition;
  spec: DeviceSpec;
  driver: Driver | undefined;
  intervalMs: number;
  nextAt: number;
  inFlight: Promise<Telemetry> | undefined;
  suspended: string | undefined;
  /** `at` of the last reading stored (an NMMiner datagram is read again until the next one). */
  lastAt: number | undefined;
}

/** How long a stuck driver call may outlive its own timeout before the collector gives up on it. */
const GRACE_MS = 250;

function specOf(def: MinerDefinition): DeviceSpec {
  return {
    name: def.id,
    driver: def.driver,
    address: def.address,
    options: def.options,
    ...(def.hardware !== undefined ? { hardware: def.hardware } : {}),
    ...(def.expectedHashrateGhs !== undefined ? { expectedHashrateGhs: def.expectedHashrateGhs } : {}),
  };
}

/** A stable spread of first readings over one interval, so that a thousand miners do not start together. */
function offsetOf(id: string, intervalMs: number): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return (((h >>> 0) % 1000) / 1000) * intervalMs;
}

export class Collector implements CollectorHandle {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: PQueue;
  private readonly now: () => number;
  private readonly createDriver: (spec: DeviceSpec) => Driver;
  private readonly log: Logger;
  private readonly listeners = new Set<(minerId: string, t: Telemetry, status: MinerStatus) => void>();
  private readonly stopping = new AbortController();
  private readonly feed: NmminerFeed;
  private timer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private samples: SampleRow[] = [];
  private dirty = new Map<string, MinerLiveState>();
  private writeFailing: { since: number; lost: number } | undefined;
  private feedProblem: string | undefined;
  private round = { started: 0, pending: 0 };
  private counters = { lastRoundMs: null as number | null, rounds: 0, readings: 0, missed: 0 };

  constructor(private readonly opts: CollectorOptions) {
    this.now = opts.now ?? Date.now;
    this.createDriver = opts.createDriver ?? defaultCreateDriver;
    this.log = (opts.log ?? rootLogger()).child({ component: 'fleet-collector' });
    this.queue = new PQueue({ concurrency: opts.settings.concurrency });
    this.feed = new NmminerFeed(opts.settings.udpAddress, opts.settings.udpPort);
    // Every reading in flight listens for the stop: up to `concurrency` at once.
    setMaxListeners(0, this.stopping.signal);
  }

  /** Reads the definitions, binds the NMMiner listener if any miner needs it, and starts reading. */
  async start(): Promise<this> {
    this.reload();
    await this.ensureFeed();
    this.flushTimer = setInterval(() => this.flush(), this.opts.flushIntervalMs ?? 1000);
    this.flushTimer.unref();
    this.wake();
    return this;
  }

  /** The NMMiner listener's bound port (udp_port = 0 picks one), when listening. */
  udpPort(): number | undefined {
    return this.feed.boundPort();
  }

  /** The kept-alive driver of a miner (the actions use it rather than opening another). */
  driverFor(minerId: string): Driver | undefined {
    const e = this.entries.get(minerId);
    if (!e) return undefined;
    e.driver ??= this.createDriver(e.spec);
    return e.driver;
  }

  private async ensureFeed(): Promise<void> {
    if (this.feed.listening || ![...this.entries.values()].some((e) => e.def.driver === 'nmminer')) return;
    try {
      await this.feed.start();
      this.feedProblem = undefined;
    } catch (err) {
      const message = `cannot listen for NMMiner telemetry on udp ${this.opts.settings.udpAddress}:${this.opts.settings.udpPort}: ${(err as Error).message}`;
      if (this.feedProblem !== message) {
        this.feedProblem = message;
        this.opts.events.append({
          kind: 'error',
          level: 'error',
          message,
          actor: 'collector',
          data: { hint: 'another program holds the port: stop it, or set [fleet] udp_port' },
        });
      }
    }
  }

  reload(): void {
    const defs = new Map(this.opts.definitions().map((d) => [d.id, d]));
    const now = this.now();
    for (const [id, e] of this.entries) {
      const d = defs.get(id);
      if (d && JSON.stringify(specOf(d)) === JSON.stringify(e.spec)) {
        e.def = d;
        e.intervalMs = d.pollIntervalMs ?? this.opts.settings.pollIntervalMs;
        continue;
      }
      this.entries.delete(id);
      void e.driver?.close().catch(() => undefined);
      if (d) this.add(d, now); // address, driver or options changed: a new driver, read soon
    }
    for (const d of defs.values()) if (!this.entries.has(d.id)) this.add(d, now);
    if (this.timer !== undefined || this.flushTimer !== undefined) {
      void this.ensureFeed();
      this.wake();
    }
  }

  private add(def: MinerDefinition, now: number): void {
    const intervalMs = def.pollIntervalMs ?? this.opts.settings.pollIntervalMs;
    this.entries.set(def.id, {
      def,
      spec: specOf(def),
      driver: undefined,
      intervalMs,
      nextAt: now + offsetOf(def.id, Math.min(intervalMs, 2_000)),
      inFlight: undefined,
      suspended: undefined,
      lastAt: undefined,
    });
  }

  /** Dispatches every due miner and sleeps until the next one is due. */
  private wake(): void {
    if (this.stopping.signal.aborted) return;
    clearTimeout(this.timer);
    const now = this.now();
    let next = Infinity;
    const due: Entry[] = [];
    for (const e of this.entries.values()) {
      if (e.suspended !== undefined || e.inFlight) continue;
      if (e.nextAt <= now) due.push(e);
      else next = Math.min(next, e.nextAt);
    }
    if (due.length > 0) {
      if (this.round.pending === 0) this.round.started = now;
      this.round.pending += due.length;
      for (const e of due) void this.read(e).catch(() => undefined);
    }
    const delay = Number.isFinite(next) ? Math.max(5, Math.min(next - now, 1_000)) : 1_000;
    this.timer = setTimeout(() => this.wake(), delay);
    this.timer.unref();
  }

  /** One reading of one miner, through the queue; its outcome applied whatever happens. */
  private read(e: Entry, signal?: AbortSignal, urgent = false): Promise<Telemetry> {
    const p = (async () => {
      try {
        return (await this.queue.add(() => this.readNow(e, signal), { priority: urgent ? 1 : 0 })) as Telemetry;
      } finally {
        e.inFlight = undefined;
        if (this.round.pending > 0 && --this.round.pending === 0) {
          this.counters.lastRoundMs = this.now() - this.round.started;
          this.counters.rounds++;
        }
        if (!this.stopping.signal.aborted) this.wake();
      }
    })();
    e.inFlight = p;
    return p;
  }

  private async readNow(e: Entry, signal?: AbortSignal): Promise<Telemetry> {
    const started = this.now();
    const timeoutMs = this.opts.settings.requestTimeoutMs;
    const ctl = new AbortController();
    const abort = () => ctl.abort(this.stopping.signal.reason ?? signal?.reason);
    this.stopping.signal.addEventListener('abort', abort, { once: true });
    signal?.addEventListener('abort', abort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      let t: Telemetry;
      if (e.def.driver === 'nmminer') {
        t = this.feed.reading(e.spec, e.intervalMs, started);
      } else {
        e.driver ??= this.createDriver(e.spec);
        // The driver bounds its own calls; this race bounds a driver that does not.
        const stuck = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            ctl.abort();
            reject(new DriverError(e.def.id, 'timeout', `no reading within ${timeoutMs} ms`));
          }, timeoutMs + GRACE_MS);
        });
        t = await Promise.race([e.driver.telemetry({ signal: ctl.signal, timeoutMs }), stuck]);
      }
      if (!this.entries.has(e.def.id) || this.entries.get(e.def.id) !== e) return t; // removed meanwhile
      this.apply(e, afterReading(this.state(e), t, this.now(), this.policy(e)), t);
      this.counters.readings++;
      return t;
    } catch (err) {
      if (this.stopping.signal.aborted || signal?.aborted) throw err;
      if (this.entries.get(e.def.id) === e) {
        this.apply(e, afterMiss(this.state(e), describeError(err).split('\n')[0], this.policy(e)), undefined);
        this.counters.missed++;
      }
      throw err;
    } finally {
      clearTimeout(timer);
      this.stopping.signal.removeEventListener('abort', abort);
      signal?.removeEventListener('abort', abort);
    }
  }

  private policy(e: Entry) {
    return {
      pollIntervalMs: e.intervalMs,
      offlineAfter: this.opts.settings.offlineAfter,
      ...(this.opts.random ? { random: this.opts.random } : {}),
    };
  }

  private state(e: Entry): MinerLiveState {
    return this.dirty.get(e.def.id) ?? this.opts.live.get(e.def.id) ?? initialState(e.def.id);
  }

  private apply(e: Entry, o: Outcome, t: Telemetry | undefined): void {
    const now = this.now();
    e.nextAt = now + o.nextInMs;
    const state = t ? { ...o.state, last: withoutRaw(t) } : o.state;
    this.dirty.set(e.def.id, state);
    // the API reads the live store: it shows the new status now, as the event below is written now
    // (not a batch later, when an `online` event would stand beside a miner still shown offline)
    this.opts.live.show(state);
    if (t) {
      const s = sampleOf(e.def.id, t);
      if (s.at !== e.lastAt) {
        e.lastAt = s.at;
        this.samples.push(s);
      }
    } else if (state.status === 'offline') {
      this.samples.push(offlineSample(e.def.id, now));
    }
    if (o.event) this.opts.events.append(o.event);
    const reading = t ?? offlineTelemetry(e.def, now);
    for (const fn of [...this.listeners]) {
      try {
        fn(e.def.id, reading, state.status);
      } catch (err) {
        this.log.warn({ err }, 'a reading listener failed');
      }
    }
  }

  /** Writes the buffered samples and live states; a failure is an event (once per episode), not silence. */
  flush(): void {
    if (this.samples.length === 0 && this.dirty.size === 0) return;
    const samples = this.samples;
    const states = [...this.dirty.values()];
    this.samples = [];
    this.dirty = new Map();
    try {
      this.opts.live.write(states);
      this.opts.history.insert(samples);
      if (this.writeFailing) {
        const { lost, since } = this.writeFailing;
        this.writeFailing = undefined;
        this.opts.events.append({
          kind: 'retention',
          level: 'info',
          message: `history writes work again (${lost} samples lost since ${new Date(since).toISOString()})`,
          actor: 'collector',
          data: { lost },
        });
      }
    } catch (err) {
      const first = this.writeFailing === undefined;
      this.writeFailing ??= { since: this.now(), lost: 0 };
      this.writeFailing.lost += samples.length;
      this.log.error({ err, samples: samples.length }, 'cannot write the history');
      if (first) {
        const hint = err instanceof MvmError ? err.hint : undefined;
        this.opts.events.append({
          kind: 'retention',
          level: 'error',
          message: `history writes fail: ${(err as Error).message}`,
          actor: 'collector',
          data: { error: (err as Error).message, ...(hint ? { hint } : {}) },
        });
      }
    }
  }

  onReading(fn: (minerId: string, t: Telemetry, status: MinerStatus) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async pollNow(minerId: string, signal?: AbortSignal): Promise<Telemetry> {
    const e = this.entries.get(minerId);
    if (!e) throw new MvmError('NOT_FOUND', `no miner named ${minerId}`, { hint: 'list them with `mvm fleet miners`' });
    if (e.suspended !== undefined)
      throw new MvmError('CONFLICT', `miner ${minerId} is not read now: ${e.suspended}`, {
        hint: 'try again when that is over',
        retryable: true,
      });
    // One reading of a miner at a time: a scheduled one in flight is waited for, and a reading that
    // another caller started meanwhile is shared rather than doubled (two reads finishing out of
    // order would apply an older outcome over a newer one).
    if (e.inFlight !== undefined) {
      await e.inFlight.catch(() => undefined);
      if (e.inFlight !== undefined) return e.inFlight;
    }
    if (this.entries.get(minerId) !== e) return this.pollNow(minerId, signal);
    return this.read(e, signal, true);
  }

  suspend(minerId: string, reason: string): void {
    const e = this.entries.get(minerId);
    if (e) e.suspended = reason;
  }

  resume(minerId: string): void {
    const e = this.entries.get(minerId);
    if (!e || e.suspended === undefined) return;
    e.suspended = undefined;
    e.nextAt = this.now();
    this.wake();
  }

  stats(): { lastRoundMs: number | null; rounds: number; inFlight: number } {
    return {
      lastRoundMs: this.counters.lastRoundMs,
      rounds: this.counters.rounds,
      inFlight: this.queue.pending + this.queue.size,
    };
  }

  /** Readings and misses since start, NMMiner datagrams heard (for /metrics and tests). */
  counts(): { readings: number; missed: number; datagrams: number; miners: number } {
    return {
      readings: this.counters.readings,
      missed: this.counters.missed,
      datagrams: this.feed.received,
      miners: this.entries.size,
    };
  }

  async stop(signal?: AbortSignal): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort(new MvmError('ABORTED', 'the collector is stopping'));
    clearTimeout(this.timer);
    clearInterval(this.flushTimer);
    this.queue.clear();
    const idle = this.queue.onIdle();
    await (signal
      ? Promise.race([idle, new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }))])
      : idle);
    this.flush();
    await Promise.allSettled([...this.entries.values()].map((e) => e.driver?.close()));
    await this.feed.close();
  }
}

/** What listeners hear for a missed reading. */
function offlineTelemetry(def: MinerDefinition, now: number): Telemetry {
  return {
    device: def.id,
    driver: def.driver,
    at: new Date(now).toISOString(),
    online: false,
    hashrateGhs: null,
    expectedHashrateGhs: def.expectedHashrateGhs ?? null,
    powerW: null,
    efficiencyJth: null,
    temperatures: {},
    fans: [],
    sharesAccepted: null,
    sharesRejected: null,
    uptimeS: null,
    firmwareVersion: null,
    paused: null,
    raw: null,
  };
}

/** Builds and starts a collector. */
export function startCollector(opts: CollectorOptions): Promise<Collector> {
  return new Collector(opts).start();
}
