// A simulated Octopus Energy API: the Agile unit-rates endpoint in the real reply format
// (newest first, paged through `next`), prices published up to 23:00 UK time today, or tomorrow
// from 16:00 UK time, and faults (slow replies, 500s, malformed JSON). A clock option and a small
// control endpoint (/_sim/clock, /_sim/faults) let tests move time and break the source.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MvmError } from '../../shared/errors.js';
import { SLOT_MS, londonDayStart } from '../../shared/london-time.js';
import { parseListen } from '../common/address.js';
import { delay, parseJson, readBody, sendJson, sendText } from '../common/http-util.js';
import { REGIONS, agilePrice, publishedUntil, type Region } from './prices.js';

export const OCTOPUS_FAULTS = ['slow', 'error', 'malformed'] as const;
export type OctopusFault = (typeof OCTOPUS_FAULTS)[number];
export const OCTOPUS_FAULT_HELP: Record<OctopusFault, string> = {
  slow: 'delay every reply by VALUE ms (default 3000)',
  error: 'answer a share VALUE (0..1, default 1) of price requests with HTTP 500',
  malformed: 'answer a share VALUE (0..1, default 1) of price requests with broken JSON',
};
const DEFAULTS: Record<OctopusFault, number> = { slow: 3000, error: 1, malformed: 1 };

export interface OctopusSimOptions {
  listen?: string;
  region?: string;
  /** The product served, e.g. AGILE-24-10-01 (any product code is answered with the same curve). */
  product?: string;
  /** `name[=value]` faults. */
  faults?: string[];
  /** The simulator's clock: decides what is published. Default Date.now. */
  now?: () => number;
  /** Days of history served before today (default 7). */
  historyDays?: number;
}

export interface OctopusSim {
  url: string;
  region: Region;
  product: string;
  faults: Map<OctopusFault, number>;
  /** Sets the simulated time (ms), e.g. to cross 16:00 and publish tomorrow. */
  setNow(ms: number): void;
  now(): number;
  requests: number;
  close(): Promise<void>;
}

export function parseOctopusFaults(specs: readonly string[]): Map<OctopusFault, number> {
  const map = new Map<OctopusFault, number>();
  for (const spec of specs) {
    const [name, raw] = spec.split('=', 2) as [string, string | undefined];
    if (!(OCTOPUS_FAULTS as readonly string[]).includes(name)) {
      throw new MvmError('USAGE', `unknown octopus fault "${name}"`, {
        hint: `valid faults: ${OCTOPUS_FAULTS.map((n) => `${n} (${OCTOPUS_FAULT_HELP[n]})`).join('; ')}`,
      });
    }
    const value = raw === undefined || raw === '' ? DEFAULTS[name as OctopusFault] : Number(raw);
    if (!Number.isFinite(value) || value < 0 || (name !== 'slow' && value > 1)) {
      throw new MvmError(
        'USAGE',
        `fault "${name}" needs ${name === 'slow' ? 'a number of ms' : 'a ratio from 0 to 1'}, got "${raw}"`,
        {
          hint: `for example --fault ${name}=${DEFAULTS[name as OctopusFault]}`,
        },
      );
    }
    map.set(name as OctopusFault, value);
  }
  return map;
}

export function parseRegion(text: string): Region {
  const r = text.trim().toUpperCase();
  if (!(REGIONS as readonly string[]).includes(r)) {
    throw new MvmError('USAGE', `unknown region "${text}"`, {
      hint: `a GSP group letter: ${REGIONS.join(' ')} (no I, no O)`,
    });
  }
  return r as Region;
}

const PATH = /^\/v1\/products\/([^/]+)\/electricity-tariffs\/([^/]+)\/standard-unit-rates\/?$/;

export async function startOctopusSim(opts: OctopusSimOptions = {}): Promise<OctopusSim> {
  const { host, port } = parseListen(opts.listen ?? '127.0.0.1:0', 80);
  const region = parseRegion(opts.region ?? 'C');
  const product = opts.product ?? 'AGILE-24-10-01';
  const faults = parseOctopusFaults(opts.faults ?? []);
  let fixedNow: number | undefined;
  const now = () => fixedNow ?? (opts.now ? opts.now() : Date.now());
  const historyDays = opts.historyDays ?? 7;
  let counter = 0;
  const chance = (ratio: number | undefined) => ratio !== undefined && (counter * 0.6180339887) % 1 < ratio;

  const sim: OctopusSim = {
    url: '',
    region,
    product,
    faults,
    setNow: (ms) => (fixedNow = ms),
    now,
    requests: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  async function control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const body =
      req.method === 'POST' ? (parseJson(await readBody(req)) as Record<string, unknown> | undefined) : undefined;
    if (path === '/_sim/clock') {
      if (body && typeof body.now === 'string' && Number.isFinite(Date.parse(body.now)))
        fixedNow = Date.parse(body.now);
      else if (req.method === 'POST') return sendJson(res, 400, { detail: 'body must be {"now": "ISO time"}' });
      return sendJson(res, 200, { now: new Date(now()).toISOString() });
    }
    if (path === '/_sim/faults') {
      if (req.method === 'POST') {
        if (!body || typeof body !== 'object') return sendJson(res, 400, { detail: 'body must be {"error": 1, ...}' });
        faults.clear();
        try {
          for (const [k, v] of parseOctopusFaults(Object.entries(body).map(([k, v]) => `${k}=${v ?? ''}`)))
            faults.set(k, v);
        } catch (err) {
          return sendJson(res, 400, { detail: (err as Error).message });
        }
      }
      return sendJson(res, 200, Object.fromEntries(faults));
    }
    if (path === '/_sim/stats') return sendJson(res, 200, { requests: sim.requests });
    sendJson(res, 404, { detail: 'Not found.' });
  }

  function rates(url: URL, res: ServerResponse, tariff: string): void {
    const want = `E-1R-${product}-${region}`;
    if (tariff !== want) return sendJson(res, 404, { detail: 'No such tariff for this product.', served: want });
    const t = now();
    const first = londonDayStart(t) - historyDays * 86_400_000;
    const last = publishedUntil(t);
    const from = url.searchParams.get('period_from');
    const to = url.searchParams.get('period_to');
    const fromMs = from ? Date.parse(from) : first;
    const toMs = to ? Date.parse(to) : last;
    if (!Number.isFinite(fromMs) || !Number.isFinite(toMs))
      return sendJson(res, 400, { period_from: ['Enter a valid date/time.'] });
    const pageSize = Math.min(1500, Math.max(1, Number(url.searchParams.get('page_size') ?? 100) || 100));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const starts: number[] = [];
    for (let s = Math.ceil(Math.max(first, fromMs) / SLOT_MS) * SLOT_MS; s < Math.min(last, toMs); s += SLOT_MS)
      starts.push(s);
    starts.reverse(); // newest first, as the real API answers
    const pageStarts = starts.slice((page - 1) * pageSize, page * pageSize);
    if (pageStarts.length === 0 && page > 1) return sendJson(res, 404, { detail: 'Invalid page.' });
    const link = (p: number) => {
      const u = new URL(url.toString());
      u.searchParams.set('page', String(p));
      return u.toString();
    };
    sendJson(res, 200, {
      count: starts.length,
      next: page * pageSize < starts.length ? link(page + 1) : null,
      previous: page > 1 ? link(page - 1) : null,
      results: pageStarts.map((s) => {
        const p = agilePrice(s, region);
        return {
          value_exc_vat: p.valueExcVat,
          value_inc_vat: p.valueIncVat,
          valid_from: new Date(s).toISOString().replace('.000Z', 'Z'),
          valid_to: new Date(s + SLOT_MS).toISOString().replace('.000Z', 'Z'),
          payment_method: null,
        };
      }),
    });
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? `${host}:${port}`}`);
      if (url.pathname.startsWith('/_sim/')) return control(req, res, url.pathname);
      sim.requests += 1;
      counter += 1;
      const slow = faults.get('slow');
      if (slow) await delay(slow);
      const m = PATH.exec(url.pathname);
      if (!m || req.method !== 'GET') return sendJson(res, 404, { detail: 'Not found.' });
      if (m[1] !== product) return sendJson(res, 404, { detail: 'No EnergyProduct matches the given query.' });
      if (chance(faults.get('error'))) return sendText(res, 500, '<h1>Server Error (500)</h1>', 'text/html');
      if (chance(faults.get('malformed')))
        return sendText(res, 200, '{"count": 48, "next": null, "results": [{"value_exc_vat": 1', 'application/json');
      rates(url, res, decodeURIComponent(m[2]!));
    })().catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { detail: String(err) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  sim.url = `http://${host}:${(server.address() as AddressInfo).port}`;
  return sim;
}
