// The one JSON object a `--check --json` prints on stdout (factory and fleet configs): ok with what
// was found, or every problem with its file and key. The person's text still goes to stderr.
import { ConfigError } from './errors.js';

export function printCheckJson(file: string, err: unknown, found: Record<string, unknown> = {}): void {
  const value =
    err === undefined
      ? { ok: true, file, ...found }
      : {
          ok: false,
          file,
          problems:
            err instanceof ConfigError
              ? err.problems
              : [{ file, key: '', message: err instanceof Error ? err.message : String(err) }],
        };
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
