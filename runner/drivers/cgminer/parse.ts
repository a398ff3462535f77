// cgminer API replies (Avalon Nano 3/3S and friends): JSON that may be malformed (`inf`/`nan`,
// a stray comma, `}{` glued together), or the plain-text form `STATUS=S,…|SECTION,k=v,…|`; and the
// estats `MM ID0` string of `Key[value]` pairs. Pure functions, tested against recorded replies.

export interface CgStatus {
  STATUS: string;
  Code?: number;
  Msg?: string;
  Description?: string;
  When?: number;
}

export type CgReply = Record<string, unknown> & { STATUS?: CgStatus[] };

export class CgParseError extends Error {}

/**
 * Makes Avalon JSON parseable: bare inf/nan become null, commas before `}`/`]` or after `{`/`[`
 * go, a leading comma goes, and `}{` glued replies become an array (the first is taken).
 */
export function repairJson(text: string): string {
  let s = text.replace(/\0/g, '').trim();
  // Outside strings only: walk the text and rewrite tokens.
  let out = '';
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += s[++i] ?? '';
      } else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    // Objects glued together ("}{", inside an array or at the top level) get their comma back.
    if (c === '{' && /}\s*$/.test(out)) out += ',';
    const rest = s.slice(i, i + 9);
    const m = /^(-?inf(inity)?|-?nan)\b/i.exec(rest);
    if (m && !/[A-Za-z0-9_]/.test(s[i - 1] ?? '')) {
      out += 'null';
      i += m[0].length - 1;
      continue;
    }
    out += c;
  }
  s = out;
  s = s.replace(/^\s*,/, '');
  s = s.replace(/([{[])\s*,/g, '$1');
  s = s.replace(/,\s*([}\]])/g, '$1');
  s = s.replace(/,\s*,/g, ',');
  return s;
}

/** Parses a JSON reply, repairing Avalon's quirks; glued replies yield every object. */
export function parseJsonReply(text: string): CgReply[] {
  const repaired = repairJson(text);
  try {
    const v = JSON.parse(repaired);
    return Array.isArray(v) ? (v as CgReply[]) : [v as CgReply];
  } catch {
    // Top-level replies glued together are now separated by commas: read them as a list.
    try {
      const v = JSON.parse(`[${repaired}]`) as CgReply[];
      if (v.length > 1) return v;
    } catch {
      /* fall through */
    }
    throw new CgParseError(`reply is not JSON even after repair: ${repaired.slice(0, 120)}`);
  }
}

function scalar(v: string): string | number {
  return /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v.trim()) ? Number(v) : v;
}

/**
 * Splits on `sep` where it is neither escaped (`\,`) nor inside `[…]` (the Avalon status string
 * goes out raw, commas and all: `SYSTEMSTATU[Work: In Work, Hash Board: 1]`). Escapes are kept.
 */
function splitPlain(text: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      cur += c + text[++i];
      continue;
    }
    if (c === '[') depth++;
    else if (c === ']' && depth > 0) depth--;
    if (c === sep && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  parts.push(cur);
  return parts;
}

const ITEM_SECTIONS: Record<string, string> = {
  POOL: 'POOLS',
  ASC: 'DEVS',
  PGA: 'DEVS',
  STATS: 'STATS',
  DEVDETAILS: 'DEVDETAILS',
};

const unescapePlain = (s: string) => s.replace(/\\(.)/g, '$1');

/** The first `=` that is not escaped, or -1. */
function keyEnd(field: string): number {
  for (let i = 0; i < field.length; i++) {
    if (field[i] === '\\') i++;
    else if (field[i] === '=') return i;
  }
  return -1;
}

/**
 * Parses the plain-text form: sections separated by `|`, fields by `,`, `key=value`; the first
 * field of a section without `=` names it. STATUS is the first section. cgminer escapes `\ , | =`
 * only in some values; a stray unescaped comma outside brackets joins the previous value.
 */
export function parseTextReply(text: string): CgReply {
  const reply: CgReply = {};
  const sections = splitPlain(text.replace(/\0/g, '').trim(), '|').filter((s) => s.trim() !== '');
  sections.forEach((section, index) => {
    const fields = splitPlain(section, ',');
    let name = 'STATUS';
    const obj: Record<string, string | number> = {};
    let lastKey: string | undefined;
    fields.forEach((f, i) => {
      const eq = keyEnd(f);
      if (eq === -1) {
        if (i === 0) name = unescapePlain(f).trim();
        else if (lastKey !== undefined) obj[lastKey] = scalar(`${obj[lastKey]},${unescapePlain(f)}`);
        return;
      }
      const k = unescapePlain(f.slice(0, eq)).trim();
      // List items open with their id field (POOL=0, ASC=0, STATS=0) instead of a section name.
      if (i === 0 && index > 0) name = ITEM_SECTIONS[k] ?? k;
      obj[k] = scalar(unescapePlain(f.slice(eq + 1)));
      lastKey = k;
    });
    reply[name] ??= [] as unknown[];
    (reply[name] as unknown[]).push(obj);
  });
  return reply;
}

/** Parses either form; for glued JSON the first object that has a STATUS wins. */
export function parseReply(text: string): CgReply {
  const t = text.replace(/\0/g, '').trim();
  if (t === '') throw new CgParseError('empty reply');
  if (t.startsWith('{') || t.startsWith('[') || t.startsWith(',')) {
    const all = parseJsonReply(t);
    return all.find((r) => r && typeof r === 'object' && 'STATUS' in r) ?? all[0];
  }
  if (/^STATUS=/.test(t)) return parseTextReply(t);
  throw new CgParseError(`unrecognised reply: ${t.slice(0, 120)}`);
}

export function statusOf(reply: CgReply): CgStatus | undefined {
  const s = reply.STATUS;
  if (Array.isArray(s) && s.length > 0) return s[0] as CgStatus;
  if (s && typeof s === 'object') return s as unknown as CgStatus;
  return undefined;
}

/** STATUS letters: S success, I info, W warning, E error, F fatal. */
export function isErrorStatus(status: CgStatus | undefined): boolean {
  return status !== undefined && (status.STATUS === 'E' || status.STATUS === 'F');
}

/** `Key[value] Key2[a b c]` → {Key: "value", Key2: "a b c"}; the first occurrence of a key wins. */
export function parseBracketPairs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(\w+)\[([^\]]*)\]/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (!(m[1] in out)) out[m[1]] = m[2].trim();
  }
  return out;
}

/** The `MM ID0` (or `MM ID0:Summary`) string from a stats/estats/litestats reply. */
export function mmString(reply: CgReply): string | undefined {
  const stats = reply.STATS;
  if (!Array.isArray(stats)) return undefined;
  for (const entry of stats as Array<Record<string, unknown>>) {
    for (const key of ['MM ID0', 'MM ID0:Summary']) {
      if (typeof entry?.[key] === 'string') return entry[key] as string;
    }
    const k = Object.keys(entry ?? {}).find((x) => /^MM ID\d+(:Summary)?$/.test(x));
    if (k && typeof entry[k] === 'string') return entry[k] as string;
  }
  return undefined;
}

export function numbers(v: string | undefined): number[] {
  if (v === undefined) return [];
  return v
    .split(/\s+/)
    .filter((x) => x !== '')
    .map((x) => Number(x.replace(/%$/, '')))
    .filter((x) => Number.isFinite(x));
}

export function firstNumber(v: string | undefined): number | null {
  const n = numbers(v);
  return n.length > 0 ? n[0] : null;
}
