// The labs the fleet watches ([lab] as "default", [lab.NAME]): one client and one watcher each,
// rebuilt when SIGHUP changes them. Routes a testbed reference (NAME or NAME@LAB) to its lab's
// client, keeps what each lab's API last said of its devices (the miners learnt from it), and lists
// every lab's testbeds at once — a lab that does not answer is shown as unreachable, never hiding
// the others.
import { MvmError } from '../shared/errors.js';
import { DEFAULT_LAB, displayNames, parseTestbedRef } from '../shared/lab-names.js';
import type { Logger } from '../shared/log.js';
import type { ReservationClient } from './automation/driver-actuator.js';
import type { FleetConfig, FleetLabConfig } from './config/types.js';
import { LabClient, type LabTestbed } from './lab-client.js';
import { discoversTestbeds, type LabDevice } from './lab-miners.js';
import { LabWatch, type LabStatus } from './lab-watch.js';
import type { CollectorHandle, MinerStore } from './types.js';

export interface FleetLabsOptions {
  miners: MinerStore;
  collector: CollectorHandle;
  log: Logger;
  signal: AbortSignal;
  /** A lab the fleet learns testbeds from listed other devices than before: the miners are synced again. */
  onDevicesChanged: (lab: string) => void;
  /** Where what each lab lists is kept (the data plane's miners are made from it). */
  discovered: Map<string, LabDevice[]>;
  /** The watchers' interval (default 5 s). */
  intervalMs?: number;
  /** Bound on one lab's answer to a listing (default 5 s): a hung factory must not hold the page. */
  listTimeoutMs?: number;
}

export interface TestbedsAcrossLabs {
  labs: LabStatus[];
  /** Every answering lab's testbeds, each with its lab and the name to use (NAME, or NAME@LAB when it repeats). */
  testbeds: Array<LabTestbed & { lab: string; ref: string }>;
}

/** The lab /api/lab reaches: [lab], else the only lab there is. */
export function defaultLab(c: FleetConfig): FleetLabConfig | undefined {
  return c.labs.find((l) => l.name === DEFAULT_LAB) ?? (c.labs.length === 1 ? c.labs[0] : undefined);
}

export class FleetLabs {
  private watches = new Map<string, LabWatch>();
  private configs = new Map<string, FleetLabConfig>();
  /** Whether each lab's miners are learnt from its API (see lab-miners.ts). */
  private readonly learning = new Map<string, boolean>();
  /** What each lab that the fleet learns testbeds from listed last. */
  readonly discovered: Map<string, LabDevice[]>;

  constructor(private readonly o: FleetLabsOptions) {
    this.discovered = o.discovered;
  }

  /** Starts, keeps or replaces a watcher per lab of `config`; a lab gone from it stops. */
  configure(config: FleetConfig): void {
    const wanted = new Map(config.labs.map((l) => [l.name, l]));
    for (const [name, w] of this.watches) {
      const next = wanted.get(name);
      const was = this.configs.get(name)!;
      if (
        next &&
        next.url === was.url &&
        next.token === was.token &&
        discoversTestbeds(config, name) === this.learning.get(name)
      )
        continue;
      w.stop();
      this.watches.delete(name);
      this.configs.delete(name);
      this.discovered.delete(name);
    }
    for (const [name, l] of wanted) {
      if (this.watches.has(name)) continue;
      const client = new LabClient({ url: l.url, token: l.token, name });
      const learns = discoversTestbeds(config, name);
      const w = new LabWatch({
        client,
        miners: this.o.miners,
        collector: this.o.collector,
        log: this.o.log.child({ lab: name }),
        signal: this.o.signal,
        ...(this.o.intervalMs ? { intervalMs: this.o.intervalMs } : {}),
        ...(learns ? { onDevices: (devices: LabDevice[]) => this.devices(name, devices) } : {}),
      });
      this.watches.set(name, w);
      this.configs.set(name, l);
      this.learning.set(name, learns);
      w.start();
    }
  }

  private devices(lab: string, devices: LabDevice[]): void {
    const key = (d: LabDevice) => JSON.stringify([d.testbed, d.name, d.driver, d.address, d.hardware]);
    const before = this.discovered.get(lab);
    const same =
      before !== undefined &&
      before.length === devices.length &&
      before.map(key).sort().join('\n') === devices.map(key).sort().join('\n');
    this.discovered.set(lab, devices);
    if (!same) this.o.onDevicesChanged(lab);
  }

  names(): string[] {
    return [...this.watches.keys()];
  }

  /** The client of the lab a testbed reference names; null when that lab is not configured. */
  clientFor(testbed: string): LabClient | null {
    return this.watches.get(parseTestbedRef(testbed).lab ?? DEFAULT_LAB)?.client ?? null;
  }

  /** The client of a testbed reference's lab, or a refusal saying which section to add. */
  require(testbed: string, subject = 'a device'): { client: LabClient; name: string } {
    const { name, lab = DEFAULT_LAB } = parseTestbedRef(testbed);
    const client = this.watches.get(lab)?.client;
    if (client) return { client, name };
    const section = lab === DEFAULT_LAB ? '[lab]' : `[lab.${lab}]`;
    throw new MvmError(
      'FORBIDDEN',
      `${subject} belongs to testbed ${testbed}: the fleet changes it only under a reservation, and it has no ${section} url and token to take one (lab ${lab})`,
      {
        hint: `add ${section} url and token (a factory API user) to the fleet config and send SIGHUP; reads need none`,
      },
    );
  }

  /** Reservations by testbed reference, each through its lab (what rules hold testbeds with). */
  reservations(): ReservationClient {
    return {
      reserve: (tb, reason, signal) => {
        const { client, name } = this.require(tb);
        return client.reserve(name, reason, signal);
      },
      renew: (tb, reason, signal) => {
        const { client, name } = this.require(tb);
        return client.renew(name, reason, signal);
      },
      release: (tb, signal) => {
        const { client, name } = this.require(tb);
        return client.release(name, signal);
      },
    };
  }

  statuses(): LabStatus[] {
    return [...this.watches.values()].map((w) => w.status());
  }

  /** Every lab asked at once; one that fails or is slow is reported unreachable, the others listed. */
  async list(filter?: string, signal?: AbortSignal): Promise<TestbedsAcrossLabs> {
    const watches = [...this.watches.values()];
    const answers = await Promise.all(
      watches.map(async (w) => {
        if (filter !== undefined && w.client.name !== filter) return { w, list: null, asked: false };
        const bound = AbortSignal.timeout(this.o.listTimeoutMs ?? 5000);
        const list = await w.list(signal ? AbortSignal.any([signal, bound]) : bound).catch(() => null);
        return { w, list, asked: true };
      }),
    );
    const all = answers.flatMap(({ w, list }) => (list ?? []).map((tb) => ({ ...tb, lab: w.client.name })));
    // names are judged over every lab (those filtered out or not answering as they were last
    // seen), so a testbed keeps its name whichever labs answer now
    const known = answers.flatMap(({ w, list }) =>
      list !== null
        ? []
        : (this.discovered.get(w.client.name) ?? []).map((d) => ({ name: d.testbed, lab: w.client.name })),
    );
    const refs = displayNames([...all.map((t) => ({ name: t.name, lab: t.lab })), ...known]);
    return {
      labs: answers.filter((a) => a.asked).map(({ w }) => w.status()),
      testbeds: all.map((t, i) => ({ ...t, ref: refs[i].ref })),
    };
  }

  stop(): void {
    for (const w of this.watches.values()) w.stop();
    this.watches.clear();
  }
}
