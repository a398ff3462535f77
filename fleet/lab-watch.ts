// One watcher per lab (factory). Reads of a testbed's device stop while the testbed runs a job: the
// job may be flashing it, and a device mid-flash must not be polled. Every few seconds the factory
// says what holds each testbed; the collector is told to suspend the miners of testbeds held by a
// job and to resume them after. Reservations (anyone's, the fleet's own included) do not stop reads.
// The same answer says whether the lab is reachable and which devices its testbeds have (a lab the
// fleet learns its testbeds from: `onDevices`).
import { describeError } from '../shared/errors.js';
import { parseTestbedRef } from '../shared/lab-names.js';
import type { Logger } from '../shared/log.js';
import { holders, type LabClient, type LabTestbed } from './lab-client.js';
import { labOfTestbed, type LabDevice } from './lab-miners.js';
import type { CollectorHandle, MinerStore } from './types.js';

/** What the fleet knows of a lab: whether its factory answered the last time it was asked. */
export interface LabStatus {
  name: string;
  url: string;
  /** null: not asked yet. */
  reachable: boolean | null;
  /** Why the last question failed. */
  error: string | null;
  /** ms since epoch of the last question. */
  checkedAt: number | null;
  /** ms since epoch of the last answer. */
  answeredAt: number | null;
  testbeds: number;
}

export interface LabWatchOptions {
  client: LabClient;
  miners: MinerStore;
  collector: CollectorHandle;
  log: Logger;
  /** Default 5 s. */
  intervalMs?: number;
  signal: AbortSignal;
  /** The lab's testbed devices after every answer (the fleet learns this lab's miners from them). */
  onDevices?: (devices: LabDevice[]) => void;
  now?: () => number;
}

export class LabWatch {
  private timer: NodeJS.Timeout | undefined;
  private readonly suspended = new Set<string>();
  private readonly stopped = new AbortController();
  private state: LabStatus;

  constructor(private readonly o: LabWatchOptions) {
    this.state = {
      name: o.client.name,
      url: o.client.settings.url,
      reachable: null,
      error: null,
      checkedAt: null,
      answeredAt: null,
      testbeds: 0,
    };
  }

  get client(): LabClient {
    return this.o.client;
  }

  status(): LabStatus {
    return { ...this.state };
  }

  start(): this {
    const signal = AbortSignal.any([this.o.signal, this.stopped.signal]);
    const tick = () => {
      void this.pass().finally(() => {
        if (signal.aborted) return;
        this.timer = setTimeout(tick, this.o.intervalMs ?? 5000);
        this.timer.unref();
      });
    };
    tick();
    signal.addEventListener('abort', () => clearTimeout(this.timer), { once: true });
    return this;
  }

  /** The lab left the config: its watch ends and the reads it paused go on. */
  stop(): void {
    this.stopped.abort();
    for (const id of this.suspended) this.o.collector.resume(id);
    this.suspended.clear();
  }

  /** Asks the factory for its testbeds (also what the API's lab listing does); the status follows the answer. */
  async list(signal?: AbortSignal): Promise<LabTestbed[]> {
    const now = this.o.now ?? Date.now;
    this.state.checkedAt = now();
    try {
      const list = await this.o.client.list(
        AbortSignal.any([this.o.signal, this.stopped.signal, ...(signal ? [signal] : [])]),
      );
      if (this.state.reachable === false)
        this.o.log.info({ lab: this.state.name, url: this.state.url }, 'the lab answers again');
      this.state = { ...this.state, reachable: true, error: null, answeredAt: now(), testbeds: list.length };
      return list;
    } catch (err) {
      if (this.state.reachable !== false)
        this.o.log.warn(
          { lab: this.state.name, url: this.state.url, err: describeError(err) },
          'the lab does not answer',
        );
      this.state = { ...this.state, reachable: false, error: describeError(err).split('\n')[0] };
      throw err;
    }
  }

  /** One look at the factory; when it cannot be asked, nothing changes (reads go on as they were). */
  async pass(): Promise<void> {
    let list: LabTestbed[];
    try {
      list = await this.list();
    } catch {
      return;
    }
    if (this.stopped.signal.aborted) return;
    this.o.onDevices?.(list.flatMap((tb) => tb.devices.map((d) => ({ ...d, testbed: tb.name }))));
    const held = new Map(
      holders(list)
        .filter((t) => t.holder?.kind === 'job')
        .map((t) => [t.name, t.holder!.reason ?? t.holder!.owner]),
    );
    const ours = this.o.miners.list().filter((m) => m.testbed && labOfTestbed(m.testbed) === this.state.name);
    for (const m of ours) {
      const job = held.get(parseTestbedRef(m.testbed!).name);
      if (job !== undefined) {
        this.o.collector.suspend(m.id, `testbed ${m.testbed} runs a job (${job}); it may be flashing the device`);
        if (!this.suspended.has(m.id))
          this.o.log.info({ miner: m.id, testbed: m.testbed }, 'reads paused while the testbed runs a job');
        this.suspended.add(m.id);
      } else if (this.suspended.delete(m.id)) {
        this.o.collector.resume(m.id);
        this.o.log.info({ miner: m.id, testbed: m.testbed }, 'reads resumed');
      }
    }
    // a miner gone from the lab (or renamed NAME@LAB) is no longer paused by it
    const ids = new Set(ours.map((m) => m.id));
    for (const id of this.suspended)
      if (!ids.has(id)) {
        this.suspended.delete(id);
        this.o.collector.resume(id);
      }
  }
}
