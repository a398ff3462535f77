// cgminer reply serialisation: JSON ({"STATUS":[…],"SECTION":[…],"id":1}) or the plain-text form
// (STATUS=S,When=…,Code=…,Msg=…,Description=…|SECTION,k=v,…|), and the malformed JSON real Avalons
// send when quirks are on: inf/nan numbers, a stray leading comma in STATS, objects glued "}{".
import type { Item, Reply } from './api.js';

export interface FormatOptions {
  quirks?: boolean;
  command?: string;
}

/**
 * cgminer escapes `\ , | =` only in the values it adds as API_ESCAPE (pool URLs and users, the
 * status message); everything else — the Avalon status string included — goes out raw, commas
 * and all.
 */
const ESCAPED_KEYS = new Set(['URL', 'User', 'Stratum URL', 'Password', 'Current Pool', 'Msg']);

function escapePlain(v: unknown): string {
  return String(v).replace(/\\/g, '\\\\').replace(/,/g, '\\,').replace(/\|/g, '\\|').replace(/=/g, '\\=');
}

function plainValue(key: string, v: unknown): string {
  return ESCAPED_KEYS.has(key) ? escapePlain(v) : String(v);
}

/** The key a list item is introduced by in plain text (POOL=0, ASC=0, STATS=0) when it has one. */
const ITEM_KEYS: Record<string, string> = { POOLS: 'POOL', DEVS: 'ASC', STATS: 'STATS', DEVDETAILS: 'DEVDETAILS' };

export function formatPlain(r: Reply): string {
  const status = Object.entries(r.status)
    .map(([k, v]) => `${k}=${plainValue(k, v)}`)
    .join(',');
  let out = `${status}|`;
  for (const [name, items] of r.sections) {
    for (const item of items) {
      const key = ITEM_KEYS[name];
      const entries = Object.entries(item);
      const head = key && key in item ? `${key}=${String(item[key])}` : name;
      const rest = entries.filter(([k]) => !(key && k === key)).map(([k, v]) => `${k}=${plainValue(k, v)}`);
      out += [head, ...rest].join(',') + '|';
    }
  }
  return out;
}

const INF = '\u0000inf\u0000';
const NAN = '\u0000nan\u0000';

function jsonWithSpecials(o: unknown): string {
  return JSON.stringify(o, (_k, v) => (v === Infinity ? INF : typeof v === 'number' && Number.isNaN(v) ? NAN : v))
    .replaceAll(JSON.stringify(INF), 'inf')
    .replaceAll(JSON.stringify(NAN), 'nan');
}

/** Applies the Avalon quirks to one reply's sections (values only; structure is handled below). */
function quirkSections(r: Reply): [string, Item[]][] {
  return r.sections.map(([name, items]) => {
    if (name === 'SUMMARY')
      return [name, items.map((i) => ({ ...i, 'Work Utility': Infinity, 'Device Hardware%': NaN }))];
    if (name === 'POOLS')
      return [name, items.map((i) => (i.URL ? i : { ...i, 'Pool Rejected%': NaN, 'Pool Stale%': NaN }))];
    return [name, items];
  });
}

export function formatJson(r: Reply, opts: FormatOptions = {}): string {
  const sections = opts.quirks ? quirkSections(r) : r.sections;
  if (!opts.quirks) return JSON.stringify({ STATUS: [r.status], ...Object.fromEntries(sections), id: 1 });
  let text = `{"STATUS":[${JSON.stringify(r.status)}]`;
  for (const [name, items] of sections) {
    const parts = items.map(jsonWithSpecials);
    if (name === 'STATS' && opts.command === 'estats') text += `,"${name}":[,${parts.join(',')}]`;
    else if (name === 'STATS') text += `,"${name}":[${parts.join('')}]`;
    else text += `,"${name}":[${parts.join(',')}]`;
  }
  return `${text},"id":1}`;
}

/** Several commands joined with '+': {"cmd":[reply],…}; with quirks, the replies are glued "}{". */
export function formatJoined(replies: [string, Reply][], opts: FormatOptions = {}): string {
  if (opts.quirks) return replies.map(([c, r]) => formatJson(r, { ...opts, command: c })).join('');
  const obj: Record<string, unknown> = {};
  for (const [c, r] of replies) obj[c] = [JSON.parse(formatJson(r, { command: c }))];
  obj.id = 1;
  return JSON.stringify(obj);
}
