// AxeOS firmware generations whose API differences matter to the driver, decided from the version
// string the device reports (e.g. "v2.4.5-3-gb5d1e36-dirty"). NerdQAxe firmware has its own
// numbering (v1.x) and keeps the older API, so it is recognised by family, not by number.

export interface AxeosFeatures {
  /** v2.15: pools[] / primaryPoolIndex; the old stratum* keys are ignored. */
  poolsApi: boolean;
  /** v2.11: `useFallbackStratum` is honoured (ignored before, and by every NerdQAxe++ build). */
  fallbackSwitch: boolean;
  /** v2.13: restart answers JSON {message}; before, plain text. */
  restartJson: boolean;
  /** v2.14: POST /api/system/pause|resume. */
  pause: boolean;
  /** v2.15: POST /api/system/boot {partition}. */
  bootPartition: boolean;
}

export function parseVersion(version: string | undefined | null): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec((version ?? '').trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

export function atLeast(v: [number, number, number], major: number, minor: number): boolean {
  return v[0] > major || (v[0] === major && v[1] >= minor);
}

/**
 * Features of a firmware. `override` (device option `api_version`, e.g. "2.12") wins; an unparsable
 * version (a local build) is taken as current.
 */
export function featuresFor(
  version: string | undefined,
  opts: { nerdqaxe?: boolean; override?: string } = {},
): AxeosFeatures {
  if (opts.nerdqaxe && !opts.override) {
    return { poolsApi: false, fallbackSwitch: false, restartJson: false, pause: false, bootPartition: false };
  }
  const v = parseVersion(opts.override ?? version) ?? [99, 0, 0];
  return {
    poolsApi: atLeast(v, 2, 15),
    fallbackSwitch: atLeast(v, 2, 11),
    restartJson: atLeast(v, 2, 13),
    pause: atLeast(v, 2, 14),
    bootPartition: atLeast(v, 2, 15),
  };
}
