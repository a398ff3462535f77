// Reads of a testbed's device stop while the testbed runs a job: the job may be flashing it, and a
// device mid-flash must not be polled. Every few seconds the factory says what holds each testbed;
// the collector is told to suspend the miners of testbeds held by a job and to resume them after.
// Reservations (anyone's, the fleet's own included) do not stop reads.
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { LabClient } from './lab-client.js';
import type { CollectorHandle, MinerStore } from './types.js';

export interface LabWatchOptions {
  lab: () => LabClient | null;
  miners: MinerStore;
  collector: CollectorHandle;
  log: Logger;
  /** Default 5 s. */
  intervalMs?: number;
  signal: AbortSignal;
}

export class LabWatch {
  private timer: NodeJS.Timeout | undefined;
  private readonly suspended = new Set<string>();

  constructor(private readonly o: LabWatchOptions) {}

  start(): this {
    const tick = () => {
      void this.pass().finally(() => {
        if (this.o.signal.aborted) return;
        this.timer = setTimeout(tick, this.o.intervalMs ?? 5000);
        this.timer.unref();
      });
    };
    tick();
    this.o.signal.addEventListener('abort', () => clearTimeout(this.timer), { once: true });
    return this;
  }

  /** One look at the factory; when it cannot be asked, nothing changes (reads go on as they were). */
  async pass(): Promise<void> {
    const lab = this.o.lab();
    const onTestbeds = this.o.miners.list().filter((m) => m.testbed);
    if (!lab || onTestbeds.length === 0) {
      for (const id of this.suspended) this.o.collector.resume(id);
      this.suspended.clear();
      return;
    }
    let held: Map<string, string>;
    try {
      const testbeds = await lab.testbeds(this.o.signal);
      held = new Map(
        testbeds.filter((t) => t.holder?.kind === 'job').map((t) => [t.name, t.holder!.reason ?? t.holder!.owner]),
      );
    } catch (err) {
      this.o.log.debug({ err: describeError(err) }, 'lab watch: the factory did not answer');
      return;
    }
    for (const m of onTestbeds) {
      const job = held.get(m.testbed!);
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
  }
}
