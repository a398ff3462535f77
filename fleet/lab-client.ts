// The factory's reservation API as the fleet uses it: a testbed's device is changed only while the
// fleet holds a reservation on that testbed (POST /v1/testbeds/{name}/reservation with the [lab]
// token), released right after. A testbed someone else holds is refused, naming the holder and
// until when. Reads never come here.
import { ApiError, MvmError } from '../shared/errors.js';
import { HttpClient, seg } from '../shared/http.js';
import { DEFAULT_LAB, labRef } from '../shared/lab-names.js';
import { MVM_VERSION } from '../shared/paths.js';

export interface LabSettings {
  /** The factory API, e.g. http://127.0.0.1:9310 */
  url: string;
  token: string;
  /** How long a reservation is taken for; it is released as soon as the action ends. */
  ttlMs?: number;
  /** The lab's name ([lab.NAME]; "default" for [lab]): errors name a testbed NAME@LAB outside the default lab. */
  name?: string;
}

/** A testbed as the factory API lists it (the fields the fleet reads; the rest passes through). */
export interface LabTestbed {
  name: string;
  lock: LockView | null;
  devices: Array<{ name: string; driver: string; address: string | null; hardware: string | null }>;
  [field: string]: unknown;
}

export interface TestbedHolder {
  kind: string;
  owner: string;
  reason: string | null;
  expiresAt: string | null;
}

/** The testbed is held by someone else: the action is refused. */
export class TestbedBusyError extends MvmError {
  constructor(
    readonly testbed: string,
    readonly holder: TestbedHolder | null,
    detail: string,
  ) {
    super(
      'CONFLICT',
      `testbed ${testbed} is ${detail}: the fleet changes a testbed's device only under its own reservation`,
      {
        hint: 'try again when the testbed is free (`mvm testbeds show NAME` says what holds it)',
      },
    );
  }
}

interface LockView {
  kind: string;
  owner: string;
  reason: string | null;
  expires_at: string | null;
}

export function describeHolder(h: TestbedHolder): string {
  const until = h.expiresAt ? ` until ${h.expiresAt}` : h.kind === 'job' ? ' until the job ends' : '';
  const who =
    h.kind === 'job'
      ? `running a job (${h.reason ?? h.owner})`
      : h.kind === 'check'
        ? 'being health-checked'
        : `reserved by ${h.owner}`;
  return `${who}${until}${h.kind === 'reservation' && h.reason ? ` (${JSON.stringify(h.reason)})` : ''}`;
}

/** What holds each testbed of a listing (null: free). */
export function holders(list: LabTestbed[]): Array<{ name: string; holder: TestbedHolder | null }> {
  return list.map((tb) => ({
    name: tb.name,
    holder: tb.lock
      ? { kind: tb.lock.kind, owner: tb.lock.owner, reason: tb.lock.reason, expiresAt: tb.lock.expires_at }
      : null,
  }));
}

export class LabClient {
  private readonly http: HttpClient;
  private readonly ttlMs: number;
  /** The lab's name ("default" for [lab]). */
  readonly name: string;

  constructor(
    readonly settings: LabSettings,
    http?: HttpClient,
  ) {
    this.http =
      http ??
      new HttpClient({
        baseUrl: settings.url,
        token: settings.token,
        userAgent: `mvm-fleet/${MVM_VERSION}`,
        timeoutMs: 15_000,
      });
    this.ttlMs = settings.ttlMs ?? 10 * 60_000;
    this.name = settings.name ?? DEFAULT_LAB;
  }

  /** The factory's testbeds as its API shows them (state, health, lock, devices, …). */
  list(signal?: AbortSignal): Promise<LabTestbed[]> {
    return this.http.get<LabTestbed[]>('/v1/testbeds', { signal });
  }

  /**
   * Runs `fn` while the fleet holds a reservation on `testbed`; releases it after, whatever happens.
   * A failed release does not fail the action (the reservation lapses at its TTL): `onReleaseFailed` hears of it.
   */
  async hold<T>(
    testbed: string,
    reason: string,
    signal: AbortSignal | undefined,
    fn: () => Promise<T>,
    onReleaseFailed?: (err: unknown) => void,
  ): Promise<T> {
    await this.reserve(testbed, reason, signal);
    try {
      return await fn();
    } finally {
      await this.release(testbed).catch((err: unknown) => onReleaseFailed?.(err));
    }
  }

  async reserve(testbed: string, reason: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.http.post(
        `/v1/testbeds/${seg(testbed)}/reservation`,
        { ttl: Math.ceil(this.ttlMs / 1000), reason: reason.slice(0, 500) },
        { signal },
      );
    } catch (err) {
      throw await this.explain(err, testbed, signal);
    }
  }

  /** Extends the fleet's own reservation by its TTL (PUT; the factory refuses a second POST by its holder). */
  async renew(testbed: string, reason: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.http.put(
        `/v1/testbeds/${seg(testbed)}/reservation`,
        { ttl: Math.ceil(this.ttlMs / 1000), reason: reason.slice(0, 500) },
        { signal },
      );
    } catch (err) {
      throw await this.explain(err, testbed, signal);
    }
  }

  async release(testbed: string, signal?: AbortSignal): Promise<void> {
    await this.http.delete(`/v1/testbeds/${seg(testbed)}/reservation`, { signal });
  }

  /** Every testbed of the factory with what holds it. */
  async testbeds(signal?: AbortSignal): Promise<Array<{ name: string; holder: TestbedHolder | null }>> {
    return holders(await this.list(signal));
  }

  /** Who holds the testbed now (null: free). */
  async holder(testbed: string, signal?: AbortSignal): Promise<TestbedHolder | null> {
    const tb = await this.http.get<{ lock: LockView | null }>(`/v1/testbeds/${seg(testbed)}`, { signal });
    return tb.lock
      ? { kind: tb.lock.kind, owner: tb.lock.owner, reason: tb.lock.reason, expiresAt: tb.lock.expires_at }
      : null;
  }

  /** Where this lab is configured: [lab] or [lab.NAME]. */
  section(): string {
    return this.name === DEFAULT_LAB ? '[lab]' : `[lab.${this.name}]`;
  }

  private async explain(err: unknown, testbed: string, signal?: AbortSignal): Promise<unknown> {
    if (!(err instanceof ApiError)) return err;
    const body = (err.body ?? {}) as { message?: string; hint?: string };
    if (err.status === 409) {
      const holder = await this.holder(testbed, signal).catch(() => null);
      return new TestbedBusyError(
        labRef(testbed, this.name),
        holder,
        holder ? describeHolder(holder) : (body.message ?? 'not free').replace(/^testbed \S+ is /, ''),
      );
    }
    if (err.status === undefined) {
      return new MvmError(
        'NETWORK',
        `cannot reach the factory API${this.name === DEFAULT_LAB ? '' : ` of lab ${this.name}`} at ${this.settings.url} to reserve testbed ${labRef(testbed, this.name)}: ${err.message}`,
        {
          cause: err,
          retryable: true,
          hint: `check that the factory runs and that ${this.section()} url is its [api] listen address`,
        },
      );
    }
    if (err.status === 401) {
      return new MvmError(
        'FORBIDDEN',
        `the factory API at ${this.settings.url} refused the fleet's ${this.section()} token: ${body.message ?? 'unauthorized'}`,
        {
          cause: err,
          hint: `make a token with \`mvm testbeds user create fleet\` and put it in ${this.section()} token (or token_file)`,
        },
      );
    }
    const code = err.status === 404 ? 'NOT_FOUND' : err.status === 403 ? 'FORBIDDEN' : 'API_ERROR';
    return new MvmError(
      code,
      `cannot reserve testbed ${labRef(testbed, this.name)}: ${body.message ?? `HTTP ${err.status}`}`,
      {
        cause: err,
        hint: body.hint,
      },
    );
  }
}
