// Factory leases on queued jobs. Like buildomat, they live in memory: a restart forgets them and
// factories simply lease again.

interface Lease {
  factory: string;
  expires: number;
}

export class Leases {
  private readonly leases = new Map<string, Lease>();
  constructor(
    private readonly durationMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Takes the lease on `job` for `factory` unless a lease on it is still running — the caller's
   * own included, so that a factory polling while its worker boots is not handed the same job
   * twice (it renews instead).
   */
  take(job: string, factory: string): boolean {
    const l = this.leases.get(job);
    const t = this.now();
    if (l && l.expires > t) return false;
    this.leases.set(job, { factory, expires: t + this.durationMs });
    return true;
  }

  renew(job: string, factory: string): boolean {
    const l = this.leases.get(job);
    const t = this.now();
    if (!l || l.factory !== factory || l.expires <= t) return false;
    l.expires = t + this.durationMs;
    return true;
  }

  drop(job: string): void {
    this.leases.delete(job);
  }

  /** Forgets expired leases; returns the jobs whose lease lapsed. */
  sweep(): string[] {
    const t = this.now();
    const lapsed: string[] = [];
    for (const [job, l] of this.leases) {
      if (l.expires <= t) {
        this.leases.delete(job);
        lapsed.push(job);
      }
    }
    return lapsed;
  }
}
