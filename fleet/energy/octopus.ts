// The Octopus Energy Agile client: GET .../standard-unit-rates/ for a period, following `next`
// until the last page. Results come newest first; they are returned oldest first, checked one by
// one (a malformed reply is an error, never half-stored prices).
import { ApiError, MvmError } from '../../shared/errors.js';
import { HttpClient } from '../../shared/http.js';
import { MVM_VERSION } from '../../shared/paths.js';
import type { OctopusSettings, PriceSlot, PriceSource, TimeRange } from './types.js';

interface RatesPage {
  count?: number;
  next?: string | null;
  results?: unknown[];
}

/** At most this many pages per fetch: a `next` that never ends is a broken server, not more prices. */
const MAX_PAGES = 50;

export class OctopusClient implements PriceSource {
  readonly id: string;
  readonly computed = false;
  private readonly http: HttpClient;

  private readonly pageSize: number;

  /** `pageSize`: results per page (the API allows 1,500; tests use less to exercise paging). */
  constructor(
    readonly settings: OctopusSettings,
    opts: { timeoutMs?: number; pageSize?: number } = {},
  ) {
    this.pageSize = opts.pageSize ?? 1500;
    this.id = `octopus:${settings.product}:${settings.region}`;
    this.http = new HttpClient({
      baseUrl: settings.baseUrl,
      timeoutMs: opts.timeoutMs ?? 20_000,
      userAgent: `mvm-fleet/${MVM_VERSION}`,
    });
  }

  get tariffCode(): string {
    return `E-1R-${this.settings.product}-${this.settings.region}`;
  }

  ratesPath(): string {
    return `/v1/products/${encodeURIComponent(this.settings.product)}/electricity-tariffs/${encodeURIComponent(this.tariffCode)}/standard-unit-rates/`;
  }

  async fetch(range: TimeRange, signal?: AbortSignal): Promise<PriceSlot[]> {
    const headers: Record<string, string> = {};
    if (this.settings.apiKey)
      headers.authorization = `Basic ${Buffer.from(`${this.settings.apiKey}:`).toString('base64')}`;
    const slots = new Map<number, PriceSlot>();
    let path: string | null = this.http
      .url(this.ratesPath(), {
        period_from: new Date(range.from).toISOString(),
        period_to: new Date(range.to).toISOString(),
        page_size: this.pageSize,
      })
      .slice(this.http.baseUrl.length);
    for (let page = 1; path !== null; page++) {
      if (page > MAX_PAGES)
        throw new MvmError('API_ERROR', `octopus: more than ${MAX_PAGES} pages for one period`, {
          hint: 'check base_url: the server keeps answering `next`',
          retryable: false,
        });
      const body: RatesPage = await this.http.get<RatesPage>(path, { headers, signal });
      if (!body || typeof body !== 'object' || !Array.isArray(body.results)) {
        throw new ApiError('GET', this.http.baseUrl + path, 200, 'octopus: the reply has no "results" array', {
          retryable: true,
          hint: 'the price server answered something else than unit rates; check base_url',
        });
      }
      for (const r of body.results) {
        const slot = this.parseResult(r, path);
        slots.set(slot.start, slot);
      }
      path = typeof body.next === 'string' && body.next ? this.relative(body.next) : null;
    }
    return [...slots.values()].sort((a, b) => a.start - b.start);
  }

  /** `next` is absolute; it is followed against the configured base URL (which may be a proxy). */
  private relative(next: string): string {
    try {
      const u = new URL(next);
      return u.pathname + u.search;
    } catch {
      throw new ApiError('GET', next, 200, `octopus: "next" is not a URL: ${JSON.stringify(next).slice(0, 100)}`, {
        retryable: true,
      });
    }
  }

  private parseResult(r: unknown, path: string): PriceSlot {
    const o = r as Record<string, unknown>;
    const start = typeof o?.valid_from === 'string' ? Date.parse(o.valid_from) : NaN;
    const end = typeof o?.valid_to === 'string' ? Date.parse(o.valid_to) : NaN;
    const inc = o?.value_inc_vat;
    const exc = o?.value_exc_vat;
    if (
      !Number.isFinite(start) ||
      !Number.isFinite(end) ||
      end <= start ||
      typeof inc !== 'number' ||
      !Number.isFinite(inc)
    ) {
      throw new ApiError(
        'GET',
        this.http.baseUrl + path,
        200,
        `octopus: malformed unit rate ${JSON.stringify(r).slice(0, 200)}`,
        { retryable: true },
      );
    }
    return { start, end, priceIncVat: inc, priceExcVat: typeof exc === 'number' ? exc : null, source: this.id };
  }
}
