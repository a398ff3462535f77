// A small parser for the Prometheus text exposition format (version 0.0.4), strict enough that a
// malformed line fails the test that scraped it: HELP/TYPE comments, samples with labels, values.
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: string;
  help: string;
  samples: PromSample[];
}

export interface PromScrape {
  families: Map<string, PromFamily>;
  samples: PromSample[];
  /** The value of the one sample of `name` whose labels include `labels`; undefined when none. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample of `name` whose labels include `labels`. */
  all(name: string, labels?: Record<string, string>): PromSample[];
}

const SAMPLE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL_RE = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL_RE.lastIndex = 0;
  while (LABEL_RE.lastIndex < text.length) {
    const at = LABEL_RE.lastIndex;
    const m = LABEL_RE.exec(text);
    if (!m || LABEL_RE.lastIndex === at) throw new Error(`bad labels in line: ${line}`);
    labels[m[1]] = m[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  return labels;
}

function parseValue(v: string, line: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  // prom-client writes `Nan` (an event-loop lag scraped before its first sample); Prometheus reads NaN in any case.
  if (/^nan$/i.test(v)) return NaN;
  const n = Number(v);
  if (Number.isNaN(n)) throw new Error(`bad value in line: ${line}`);
  return n;
}

/** The family a sample belongs to (histogram and summary samples carry a suffix). */
function familyOf(name: string, families: Map<string, PromFamily>): PromFamily | undefined {
  if (families.has(name)) return families.get(name);
  const base = name.replace(/_(bucket|sum|count|created)$/, '');
  return families.get(base);
}

export function parsePromText(text: string): PromScrape {
  const families = new Map<string, PromFamily>();
  const samples: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      const f = families.get(m[2]) ?? { name: m[2], type: 'untyped', help: '', samples: [] };
      if (m[1] === 'HELP') f.help = m[3];
      else {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]))
          throw new Error(`bad TYPE line: ${line}`);
        f.type = m[3];
      }
      families.set(m[2], f);
      continue;
    }
    const m = SAMPLE_RE.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const s: PromSample = { name: m[1], labels: m[3] ? parseLabels(m[3], line) : {}, value: parseValue(m[4], line) };
    samples.push(s);
    const f = familyOf(s.name, families);
    if (!f) throw new Error(`sample without a TYPE: ${line}`);
    f.samples.push(s);
  }
  const matches = (s: PromSample, name: string, labels: Record<string, string>) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  const all = (name: string, labels: Record<string, string> = {}) => samples.filter((s) => matches(s, name, labels));
  return {
    families,
    samples,
    all,
    value: (name, labels = {}) => {
      const found = all(name, labels);
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
      return found[0]?.value;
    },
  };
}
