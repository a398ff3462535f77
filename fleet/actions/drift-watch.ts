// Drift found without anyone asking: every interval, each online miner the fleet wants something
// of (a mode, pools) is read back (a read: no reservation); a miner that newly differs from what
// the fleet wants is a `drift` event, once, until it is back in line or changed by the fleet.
import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { DesiredStore, MinerStore } from '../types.js';
import type { FleetActions } from './actions.js';

export interface DriftWatchOptions {
  miners: MinerStore;
  desired: DesiredStore;
  actions: FleetActions;
  log: Logger;
  /** Default 10 min. */
  intervalMs?: number;
  signal: AbortSignal;
}

export class DriftWatch {
  private timer: NodeJS.Timeout | undefined;
  /** Miners reported as drifted, by the desired state's updatedAt they drifted from. */
  private readonly reported = new Map<string, string>();

  constructor(private readonly o: DriftWatchOptions) {}

  start(): this {
    const tick = () => {
      void this.sweep().finally(() => {
        if (this.o.signal.aborted) return;
        this.timer = setTimeout(tick, this.o.intervalMs ?? 10 * 60_000);
        this.timer.unref();
      });
    };
    this.timer = setTimeout(tick, this.o.intervalMs ?? 10 * 60_000);
    this.timer.unref();
    this.o.signal.addEventListener('abort', () => clearTimeout(this.timer), { once: true });
    return this;
  }

  /** One pass over the miners; a failed read is logged and the pass goes on. */
  async sweep(): Promise<void> {
    for (const m of this.o.miners.list()) {
      if (this.o.signal.aborted) return;
      const want = this.o.desired.get(m.id);
      if (m.status !== 'online' || !want || (want.mode === null && !want.poolIds?.length)) continue;
      if (this.reported.get(m.id) === want.updatedAt) continue;
      try {
        const v = await this.o.actions.verify(m.id, { actor: 'drift-check', signal: this.o.signal });
        if (v.drift) this.reported.set(m.id, want.updatedAt);
        else this.reported.delete(m.id);
      } catch (err) {
        this.o.log.debug({ miner: m.id, err: describeError(err) }, 'drift check: read failed');
      }
    }
  }
}
