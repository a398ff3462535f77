// The one table renderer of the CLI: columns padded to their widest cell, two spaces apart, the last
// column unpadded. Widths count what a person sees, so a coloured cell lines up like a plain one.

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const width = (s: string) => s.replace(ANSI, '').length;

/** A table under `header`; an empty header: rows only (key/value lists). */
export function table(header: string[], rows: string[][]): string {
  const all = header.length ? [header, ...rows] : rows;
  const columns = Math.max(0, ...all.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...all.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i] - width(c))))
      .join('  ')
      .trimEnd();
  return all.map(line).join('\n');
}
