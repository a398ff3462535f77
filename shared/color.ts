// Whether and how mvm colours what it prints, in one place for every command: NO_COLOR (any
// non-empty value) turns colour off, FORCE_COLOR turns it on (a CI log viewer that renders ANSI),
// otherwise colour only on a terminal that is not "dumb". See https://no-color.org.

type Env = Record<string, string | undefined>;

/** Whether output to `stream` may carry colour. */
export function colorEnabled(stream: { isTTY?: boolean } = process.stdout, env: Env = process.env): boolean {
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

const CODES = { red: 31, yellow: 33, green: 32, bold: 1, dim: 2 } as const;
export type Style = keyof typeof CODES;

export type Painter = Record<Style, (s: string) => string>;

/** Styling functions that colour when `on`, and return the text as it is otherwise. */
export function painter(on: boolean): Painter {
  const wrap = (code: number) => (on ? (s: string) => `\x1b[${code}m${s}\x1b[0m` : (s: string) => s);
  return Object.fromEntries(Object.entries(CODES).map(([k, c]) => [k, wrap(c)])) as Painter;
}

/** The painter for `stream` under the environment's rules. */
export function paintFor(stream: { isTTY?: boolean } = process.stdout, env: Env = process.env): Painter {
  return painter(colorEnabled(stream, env));
}
