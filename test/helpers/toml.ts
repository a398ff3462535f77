// Config files for the daemons under test, written from objects: a nested object is a table (its
// header in full, `[testbed.gamma.devices.miner]`), an array is written inline (objects in it as
// inline tables), strings are basic strings. What TOML reads back is the object given.

type Value = string | number | boolean | Value[] | { [k: string]: Value | undefined };
export type TomlTable = { [k: string]: Value | undefined };

const key = (k: string) => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k));
const isTable = (v: Value | undefined): v is TomlTable => typeof v === 'object' && !Array.isArray(v);

/** `v` as a TOML inline value (an object as an inline table). */
export function inline(v: Value): string {
  if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`;
  if (isTable(v))
    return `{ ${Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${key(k)} = ${inline(x!)}`)
      .join(', ')} }`;
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function table(path: string[], t: TomlTable, out: string[]): void {
  const entries = Object.entries(t).filter(([, v]) => v !== undefined) as Array<[string, Value]>;
  const plain = entries.filter(([, v]) => !isTable(v));
  if (path.length && (plain.length || entries.length === 0)) out.push(`[${path.map(key).join('.')}]`);
  for (const [k, v] of plain) out.push(`${key(k)} = ${inline(v)}`);
  for (const [k, v] of entries) if (isTable(v)) table([...path, k], v, out);
}

/** The TOML text of `doc`. */
export function toml(doc: TomlTable): string {
  const out: string[] = [];
  table([], doc, out);
  return out.join('\n') + '\n';
}
